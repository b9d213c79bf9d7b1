package message

import (
	"regexp"
	"strings"
)

// fwdSubjectRe matches the forward prefixes clients put on a subject:
// Fwd/FW (en), 转发/轉寄 (zh), TR (fr), WG (de), RV (es), ENC (pt),
// I (it), Пересл (ru), 転送 (ja).
var fwdSubjectRe = regexp.MustCompile(`(?i)^\s*(\[?(fwd?|fw|tr|wg|rv|enc|i|пересл|転送|转发|轉寄|转寄|轉發)\]?\s*[:：])`)

// inlineForwards finds messages forwarded inline in text: a forward marker
// ("---------- Forwarded message ---------", "-------- 转发邮件信息 --------",
// "Begin forwarded message:") followed by a header block, or, when the
// subject says the message is a forward, the first quoted header block
// ("-----Original Message-----", "From: … Sent: …", "发件人: …"). Each
// Forward gets the From of its block, its Subject, and its own text
// (the text after the block, cut at its own quoted history).
func inlineForwards(text, subject string) []Forward {
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	fwdSubject := fwdSubjectRe.MatchString(subject)
	var out []Forward
	bySubject := false // the subject-based forward has been taken
	for i := 0; i < len(lines) && len(out) < maxForwards; i++ {
		kind := separatorKind(lines[i])
		start := -1
		switch {
		case kind == markForward, kind == markReply && fwdSubject && !bySubject:
			// The header block follows the marker, after blank lines.
			start = i + 1
			for start < len(lines) && strings.TrimSpace(lines[start]) == "" {
				start++
			}
			if kind == markReply {
				bySubject = true
			}
		case fwdSubject && !bySubject && headerBlockAt(lines, i):
			start = i
			bySubject = true
		default:
			continue
		}
		f, next, ok := readForward(lines, start)
		if !ok {
			continue
		}
		out = append(out, f)
		i = next - 1
	}
	return out
}

// readForward reads the header block starting at lines[start] and the
// forwarded text after it. next is the line where the text ends (the next
// marker). ok is false when the block has no From line.
func readForward(lines []string, start int) (f Forward, next int, ok bool) {
	var from string
	haveFrom := false
	i := start
	lastLabel := ""
	for ; i < len(lines) && i < start+20; i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			if haveFrom || lastLabel != "" {
				break
			}
			continue
		}
		label, value, isLabel := headerLabel(l)
		if !isLabel {
			if lastLabel == "" {
				break // not a header block
			}
			// A wrapped value ("To: a@x,\n b@y").
			if fromLabels[lastLabel] && !haveFrom {
				from += " " + strings.TrimSpace(l)
			} else if subjectLabels[lastLabel] {
				f.Subject += " " + strings.TrimSpace(l)
			}
			continue
		}
		lastLabel = label
		switch {
		case fromLabels[label] && !haveFrom:
			from, haveFrom = value, true
		case subjectLabels[label] && f.Subject == "":
			f.Subject = value
		}
	}
	if !haveFrom {
		return Forward{}, start + 1, false
	}
	f.From = forwardedFrom(from)
	f.Subject = strings.TrimSpace(f.Subject)
	// The forwarded text runs to the next forward marker; newText cuts it
	// at its own quoted history.
	end := i
	for end < len(lines) && separatorKind(lines[end]) != markForward {
		end++
	}
	f.Text = newText(strings.Join(lines[i:end], "\n"))
	return f, end, true
}

// forwardedFrom parses the From value of a quoted header block:
// `"Name" <a@x>`, `Name<a@x>;`, `Name [mailto:a@x]`, `a@x`, or a bare
// name (Outlook shows only the name for colleagues: no address then).
func forwardedFrom(v string) []Address {
	v = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ";,"))
	if v == "" {
		return nil
	}
	addrs, _, _ := parseAddressList(v)
	var out []Address
	for _, a := range addrs {
		if strings.Contains(a.Email, "@") {
			out = append(out, a)
		}
	}
	return out
}
