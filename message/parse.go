package message

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"
)

// MaxParseSize is the default limit of Parse: a larger message is parsed
// for its headers only (the caller stores the raw bytes anyway). enmime
// holds every part in memory, decoded, so the limit bounds memory too.
const MaxParseSize = 25 << 20

// Limits beyond real mail (see also guard.go).
const (
	maxEmbedDepth = 3       // message/rfc822 inside message/rfc822 parsed in full
	maxTextSize   = 4 << 20 // bytes of Text kept: more is not a person's writing
	maxForwards   = 50      // Forwarded entries kept
	maxProblems   = 50      // Problems kept
)

// Parse parses a raw RFC 5322 message of at most MaxParseSize bytes. It
// never returns nil and never panics: whatever fails is described in
// Problems and sets Malformed, and everything that could be decoded is
// filled in. Strings in the result are always valid UTF-8.
func Parse(raw []byte) *Message {
	return ParseLimit(raw, MaxParseSize)
}

// ParseLimit is Parse with another size limit; limit <= 0 means
// MaxParseSize. A message larger than limit is parsed for its headers only
// and gets a Problem saying so.
func ParseLimit(raw []byte, limit int) *Message {
	if limit <= 0 {
		limit = MaxParseSize
	}
	return parse(raw, limit, 0, false, &hollowSet{})
}

// parse does the work for a message at the given message/rfc822 depth.
// headersOnly skips the body (for embedded messages beyond the depth limit
// and text/rfc822-headers parts). hs holds the attachment bodies taken
// out of the parsed copies (see hollow), shared by a message and the
// messages attached to it.
func parse(raw []byte, limit, depth int, headersOnly bool, hs *hollowSet) (m *Message) {
	m = &Message{Header: map[string]string{}}
	defer func() {
		if r := recover(); r != nil {
			// A last resort: every known failure is handled where it
			// happens. The stack is kept for the operator's bug report.
			stack := string(debug.Stack())
			if i := strings.Index(stack, "\npanic("); i >= 0 {
				stack = stack[i+1:] // from the panic to the faulting frame
			}
			if len(stack) > 1500 {
				stack = stack[:1500]
			}
			m.problem("internal error (panic): %v\n%s", r, stack)
		}
		m.finish()
	}()

	hdr, body := splitHeader(raw)
	fields, probs := parseFields(hdr)
	m.addProblems("header", probs)
	hint := m.fillHeader(fields, raw)

	switch {
	case headersOnly:
		return m
	case len(raw) > limit:
		m.problem("message of %d bytes exceeds the parse limit of %d bytes: headers only", len(raw), limit)
		return m
	}
	if len(hdr) == 0 && len(body) == 0 {
		m.problem("empty message")
		return m
	}
	m.parseBody(raw, limit, depth, hint, hs)
	return m
}

// problem records one Problem (bounded in number).
func (m *Message) problem(format string, args ...any) {
	if len(m.Problems) == maxProblems {
		m.Problems = append(m.Problems, "more problems omitted")
	}
	if len(m.Problems) > maxProblems {
		return
	}
	m.Problems = append(m.Problems, fmt.Sprintf(format, args...))
}

func (m *Message) addProblems(where string, probs []string) {
	for _, p := range probs {
		m.problem("%s: %s", where, p)
	}
}

// finish enforces the invariants: Malformed exactly when there are
// Problems, and every string one that PostgreSQL stores: valid UTF-8
// without NUL (an encoded-word can decode to one: "=?utf-8?Q?a=00b?=").
// One such display name made the save of its whole batch fail, each time
// the sync tried it again.
func (m *Message) finish() {
	defer func() { m.Malformed = len(m.Problems) > 0 }()
	m.MessageID, m.Subject, m.ContentType = storableID(m.MessageID), storable(m.Subject), storable(m.ContentType)
	m.Text, m.NewText = storable(m.Text), storable(m.NewText)
	for _, list := range [][]string{m.InReplyTo, m.References} {
		for i := range list {
			list[i] = storableID(list[i])
		}
	}
	for _, list := range []*[]Address{&m.From, &m.Sender, &m.ReplyTo, &m.To, &m.Cc, &m.Bcc} {
		*list = m.storableAddresses(*list)
	}
	for i := range m.Problems {
		m.Problems[i] = storable(m.Problems[i])
	}
	for k, v := range m.Header {
		m.Header[k] = storable(v)
	}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		a.Filename, a.ContentType = storable(a.Filename), storable(a.ContentType)
	}
	for i := range m.Forwarded {
		f := &m.Forwarded[i]
		f.Subject, f.Text = storable(f.Subject), storable(f.Text)
		f.From = m.storableAddresses(f.From)
	}
}

// Bounds on what goes into PostgreSQL's indexes, whose entries hold at
// most 2,704 bytes: one longer failed the save of its whole batch, at
// every try. No real mail comes near them.
const (
	maxIDLen   = 250 // a Message-ID; a longer one becomes its hash
	maxNameLen = 200 // runes of a display name
	maxAddrLen = 254 // an address (RFC 5321 4.5.3.1.3); a longer one is dropped
)

// storableAddresses is list made storable: names cut to maxNameLen,
// addresses over maxAddrLen dropped with a problem noted.
func (m *Message) storableAddresses(list []Address) []Address {
	out := list[:0]
	for _, a := range list {
		a.Name, a.Email = cutRunes(storable(a.Name), maxNameLen), storable(a.Email)
		if len(a.Email) > maxAddrLen {
			m.problem("address of %d bytes dropped (the limit is %d)", len(a.Email), maxAddrLen)
			continue
		}
		out = append(out, a)
	}
	return out
}

// storableID is a storable Message-ID, one over maxIDLen replaced by a
// name made of its hash, the same wherever it is met, so that threading
// still finds it.
func storableID(id string) string {
	id = storable(id)
	if len(id) <= maxIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:]) + "@long-id.invalid"
}

// cutRunes is s cut to n runes.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// storable is s as valid UTF-8 (U+FFFD for what is not) without NUL.
func storable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// fillHeader sets the header-derived fields.
func (m *Message) fillHeader(fields []field, raw []byte) (hint string) {
	for _, f := range fields {
		if !utf8.ValidString(f.value) {
			hint = charsetHint(fields, raw)
			break
		}
	}
	decodeHeaderBytes := func(s string) string { return decodeRawHeader(s, hint) }
	for _, f := range fields {
		if keptHeaders[f.name] {
			if _, seen := m.Header[f.name]; !seen {
				m.Header[f.name] = decodeHeaderBytes(f.value)
			}
		}
	}
	if v, ok := firstValue(fields, "Message-Id"); ok {
		m.MessageID = parseMsgID(decodeHeaderBytes(v))
	}
	for _, v := range fieldValues(fields, "In-Reply-To") {
		m.InReplyTo = append(m.InReplyTo, parseMsgIDList(decodeHeaderBytes(v))...)
	}
	for _, v := range fieldValues(fields, "References") {
		m.References = append(m.References, parseMsgIDList(decodeHeaderBytes(v))...)
	}
	if v, ok := firstValue(fields, "Date"); ok {
		m.Date = parseDate(decodeHeaderBytes(v))
		if m.Date.IsZero() {
			m.problem("date: cannot parse %s", quoteShort(v))
		}
	}
	if v, ok := firstValue(fields, "Subject"); ok {
		s, probs := decodeWords(decodeHeaderBytes(v))
		m.Subject = cleanSubject(s)
		m.addProblems("subject", probs)
	}
	for _, h := range []struct {
		name string
		dst  *[]Address
	}{
		{"From", &m.From}, {"Sender", &m.Sender}, {"Reply-To", &m.ReplyTo},
		{"To", &m.To}, {"Cc", &m.Cc}, {"Bcc", &m.Bcc},
	} {
		for _, v := range fieldValues(fields, h.name) {
			addrs, bad, probs := parseAddressList(decodeHeaderBytes(v))
			*h.dst = append(*h.dst, addrs...)
			m.addProblems(strings.ToLower(h.name), probs)
			_ = bad // each bad entry already produced a problem
		}
	}
	ct := "text/plain" // RFC 2045 5.2
	if v, ok := firstValue(fields, "Content-Type"); ok {
		if mt := parseMediaParams(decodeHeaderBytes(v)).value; strings.Contains(mt, "/") {
			ct = mt
		}
	}
	m.ContentType = ct
	return hint
}

// cleanSubject folds the white space of an unfolded subject (tabs, the
// line breaks some encoded-words contain) into single spaces.
func cleanSubject(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

// HeaderValue returns the kept header value for name in any letter case
// ("list-id", "LIST-ID"), or "" when the message has none.
func (m *Message) HeaderValue(name string) string {
	if v, ok := m.Header[name]; ok {
		return v
	}
	for k, v := range m.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
