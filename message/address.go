package message

import (
	"strings"
)

// parseAddressList parses an address-list header value (RFC 5322 3.4)
// that is already valid UTF-8. It is lenient where net/mail is strict, so
// that one bad entry does not lose the good ones:
//   - entries are split at top-level commas and at semicolons (Outlook
//     writes "a@x; b@y"), never inside quotes, comments, <> or [];
//   - group syntax ("Team: a@x, b@y;") yields the members;
//   - an unquoted comma in a display name ("Smith, John <j@x>") is rejoined;
//   - "Name [mailto:a@x]", "a@x (Name)", "Name<a@x>" and "<mailto:a@x>" are
//     understood; encoded-words are decoded in names, quoted or not.
//
// bad lists the entries that held no address at all.
func parseAddressList(v string) (addrs []Address, bad []string, problems []string) {
	entries, balanced := splitAddressList(v)
	if !balanced {
		// An unterminated quote or bracket would swallow the rest of the
		// list: split at every comma instead.
		problems = append(problems, "unbalanced quote or bracket in "+quoteShort(v))
		entries = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' })
	}
	for i := 0; i < len(entries); i++ {
		e := strings.TrimSpace(entries[i])
		if strings.TrimSpace(stripComments(e)) == "" {
			// Empty, or only a comment: "(no To-header on input)".
			continue
		}
		if !strings.ContainsAny(e, "@<") && i+1 < len(entries) {
			// "Smith, John <j@x>": the comma belonged to the name.
			next := strings.TrimSpace(entries[i+1])
			if lt := strings.IndexByte(next, '<'); lt >= 0 && !strings.Contains(next[:lt], "@") {
				if a2, ok2, p2 := parseMailbox(e + ", " + next); ok2 {
					addrs = append(addrs, a2)
					problems = append(problems, p2...)
					i++
					continue
				}
			}
		}
		a, ok, probs := parseMailbox(e)
		problems = append(problems, probs...)
		if !ok {
			bad = append(bad, e)
			continue
		}
		addrs = append(addrs, a)
	}
	return addrs, bad, problems
}

// splitAddressList splits at top-level ',' and ';' and removes group
// display names ("Team:"). balanced is false when a quote, comment or
// bracket is still open at the end.
func splitAddressList(v string) (entries []string, balanced bool) {
	var (
		cur     strings.Builder
		quote   bool
		comment int
		angle   bool
		square  bool
	)
	end := func() {
		entries = append(entries, cur.String())
		cur.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quote || comment > 0) && i+1 < len(v):
			cur.WriteByte(c)
			cur.WriteByte(v[i+1])
			i++
			continue
		case quote:
			if c == '"' {
				quote = false
			}
		case comment > 0:
			if c == '(' {
				comment++
			} else if c == ')' {
				comment--
			}
		case angle:
			if c == '>' {
				angle = false
			}
		case square:
			if c == ']' {
				square = false
			}
		case c == '=' && i+1 < len(v) && v[i+1] == '?':
			// An encoded-word is atomic: its Q text may hold ',' or ':'.
			if _, _, end, ok := parseEncodedWord(v, i); ok {
				cur.WriteString(v[i:end])
				i = end - 1
				continue
			}
		case c == '"':
			quote = true
		case c == '(':
			comment++
		case c == '<':
			angle = true
		case c == '[':
			square = true
		case c == ',' || c == ';':
			end()
			continue
		case c == ':':
			// A group name ends here unless this entry already holds an
			// address part.
			if s := cur.String(); !strings.Contains(s, "@") {
				cur.Reset()
				continue
			}
		}
		cur.WriteByte(c)
	}
	end()
	return entries, !quote && comment == 0 && !angle && !square
}

// parseMailbox parses one entry: "Name <addr>", "addr (Name)", "addr",
// "Name [mailto:addr]".
func parseMailbox(e string) (Address, bool, []string) {
	var problems []string
	var name, email string
	if lt := topLevelIndex(e, '<'); lt >= 0 {
		rest := e[lt+1:]
		gt := strings.IndexByte(rest, '>')
		if gt < 0 {
			gt = len(rest)
			problems = append(problems, "address without closing '>' "+quoteShort(e))
		} else {
			// Text after '>' is usually a comment or junk; a name there
			// is only used when none came before.
			if after := strings.TrimSpace(stripComments(rest[gt+1:])); after != "" && strings.TrimSpace(e[:lt]) == "" {
				name = after
			}
		}
		email = rest[:gt]
		if before := strings.TrimSpace(e[:lt]); before != "" {
			name = before
		}
		if name == "" {
			name = commentText(e)
		}
	} else if i := strings.Index(strings.ToLower(e), "[mailto:"); i >= 0 {
		rest := e[i+len("[mailto:"):]
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			rest = rest[:j]
		}
		email, name = rest, e[:i]
	} else {
		cmt := commentText(e)
		words := strings.Fields(stripComments(e))
		for k, w := range words {
			if strings.Contains(w, "@") {
				email = w
				name = strings.Join(append(append([]string{}, words[:k]...), words[k+1:]...), " ")
				break
			}
		}
		if email == "" {
			if len(words) == 1 && !strings.ContainsAny(words[0], "\"") && isAddrToken(words[0]) {
				// A bare local part such as MAILER-DAEMON.
				email = words[0]
			} else {
				return Address{}, false, append(problems, "no address in "+quoteShort(e))
			}
		}
		if name == "" {
			name = cmt
		}
	}
	email = cleanEmail(email)
	if email == "" {
		// "<>" is the null reverse-path; not an address but not an error.
		return Address{}, false, problems
	}
	name, probs := decodeName(name)
	problems = append(problems, probs...)
	return Address{Name: name, Email: email}, true, problems
}

// topLevelIndex finds c outside quoted strings and comments.
func topLevelIndex(s string, c byte) int {
	quote, comment := false, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && (quote || comment > 0):
			i++
		case quote:
			if ch == '"' {
				quote = false
			}
		case comment > 0:
			if ch == '(' {
				comment++
			} else if ch == ')' {
				comment--
			}
		case ch == c:
			return i
		case ch == '"':
			quote = true
		case ch == '(':
			comment++
		}
	}
	return -1
}

// commentText returns the text of the first top-level comment, the old
// "addr (Name)" form.
func commentText(s string) string {
	i := topLevelIndex(s, '(')
	if i < 0 {
		return ""
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(s[i+1 : j])
			}
		}
	}
	return strings.TrimSpace(s[i+1:])
}

func isAddrToken(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '!' || c > '~' || strings.IndexByte("()<>[]:;,\\\"", c) >= 0 {
			return false
		}
	}
	return w != ""
}

// cleanEmail removes what clients wrap addresses in: white space,
// "mailto:", quotes, a stray comment.
func cleanEmail(s string) string {
	s = stripComments(s)
	s = strings.Join(strings.Fields(s), "")
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	s = strings.Trim(s, "\"'<>[],;")
	if strings.Contains(s, "=?") {
		s, _ = decodeWords(s)
	}
	return s
}

// decodeName unquotes a display name (RFC 5322 3.2.4) and decodes
// encoded-words in it, also those inside quotes, which RFC 2047 5 forbids
// and every client decodes anyway.
func decodeName(s string) (string, []string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		case c == '"':
			// Quotes delimit; they are not part of the name.
		default:
			b.WriteByte(c)
		}
	}
	name, problems := decodeWords(b.String())
	name = strings.Join(strings.Fields(name), " ")
	name = strings.Trim(name, "'")
	return strings.TrimSpace(name), problems
}
