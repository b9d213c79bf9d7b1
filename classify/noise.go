package classify

import (
	"fmt"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/message"
)

type noiseRule struct {
	id, reason  string
	header      string // canonical header name
	value       *matcher
	except      *matcher
	contentType *matcher
	from        *matcher
	fromDomain  []string
	subject     *matcher
	text        *matcher
	maxText     int
}

func compileNoiseRule(y noiseRuleYAML) (noiseRule, error) {
	reason, err := splitID(y.ID, NoiseAutoReply, NoiseBounce, NoiseBulk, NoiseCalendar)
	if err != nil {
		return noiseRule{}, err
	}
	nr := noiseRule{id: y.ID, reason: reason, maxText: y.MaxText}
	if y.Header != "" {
		nr.header = textproto.CanonicalMIMEHeaderKey(y.Header)
		if len(y.Value) == 0 {
			y.Value = []string{"."} // present and not empty
		}
	} else if len(y.Value) > 0 || len(y.Except) > 0 {
		return nr, fmt.Errorf("rule %q: value/except: need header", y.ID)
	}
	for _, c := range []struct {
		dst   **matcher
		field string
		pats  []string
	}{
		{&nr.value, "value", y.Value},
		{&nr.except, "except", y.Except},
		{&nr.contentType, "content_type", y.ContentType},
		{&nr.from, "from", y.From},
		{&nr.subject, "subject", y.Subject},
		{&nr.text, "text", y.Text},
	} {
		if *c.dst, err = compilePatterns(y.ID, c.field, c.pats); err != nil {
			return nr, err
		}
	}
	for i, d := range y.FromDomain {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			return nr, fmt.Errorf("rule %q: from_domain[%d]: %q is not a domain", y.ID, i, y.FromDomain[i])
		}
		nr.fromDomain = append(nr.fromDomain, d)
	}
	if nr.maxText < 0 {
		return nr, fmt.Errorf("rule %q: max_text: must be >= 0", y.ID)
	}
	if nr.header == "" && nr.contentType == nil && nr.from == nil && nr.fromDomain == nil && nr.subject == nil && nr.text == nil {
		return nr, fmt.Errorf("rule %q: needs one of header, content_type, from, from_domain, subject, text", y.ID)
	}
	return nr, nil
}

// Noise says why a message must stay off a timeline: "auto_reply",
// "bounce", "bulk" or "calendar", with the id of the rule that fired; or
// ("", "") for a person's mail.
//
// Noise rules are tried in file order and the first that fires wins, so the
// file lists bounces first (a DSN often also carries Auto-Submitted), then
// automatic replies (an out-of-office often also carries Precedence: bulk),
// then calendar invitations and bulk mail. A rule fires when any one of its
// conditions holds:
//   - header: the header is present, matches value and does not match except
//     (RFC 3834 section 5: Auto-Submitted "no" means a person sent it);
//   - content_type: the top-level Content-Type with its parameters, or any
//     attachment's type (a text/calendar part);
//   - from / from_domain: a From or Sender address, or its domain or any
//     parent domain ("service.alibaba.com" is on "alibaba.com");
//   - subject: the whole subject, prefixes included ("Automatic reply: ...");
//   - text: the own text (NewText, else Text, cut at quoted history as in
//     Kind), only when it is at most
//     max_text characters long when max_text is set, because an
//     out-of-office phrase inside a long letter is a person's remark.
//
// RFC 3834 section 5: Auto-Submitted "auto-replied" (an out-of-office) is
// auto_reply, while "auto-generated" and any other value but "no" is a
// notification (bank, mail system, fair), reported as bulk. Both keep the
// message off the timeline; only the reason differs.
//
// Senders are never trusted to be internal or external here: that is the
// matcher's job, and a customer's own newsletter is bulk all the same.
func (ml *Mail) Noise() (reason string, rule string) {
	for i := range ml.r.noise {
		nr := &ml.r.noise[i]
		if nr.fires(ml) {
			return nr.reason, nr.id
		}
	}
	return "", ""
}

func (nr *noiseRule) fires(ml *Mail) bool {
	m := ml.m
	if nr.header != "" {
		v, ok := headerValue(m, nr.header)
		v = strings.ToLower(v)
		if ok && nr.value.match(v, nil) && (nr.except == nil || !nr.except.match(v, nil)) {
			return true
		}
	}
	if nr.contentType != nil {
		ct := m.ContentType
		if v, ok := headerValue(m, "Content-Type"); ok {
			ct = v
		}
		if nr.contentType.match(strings.ToLower(strings.TrimSpace(ct)), nil) {
			return true
		}
		for _, a := range m.Attachments {
			if nr.contentType.match(strings.ToLower(a.ContentType), nil) {
				return true
			}
		}
	}
	if nr.from != nil || nr.fromDomain != nil {
		for _, lists := range [][]message.Address{m.From, m.Sender} {
			for _, a := range lists {
				email := strings.ToLower(strings.TrimSpace(a.Email))
				if nr.from != nil && nr.from.match(email, nil) {
					return true
				}
				if _, dom, ok := strings.Cut(email, "@"); ok && onDomain(dom, nr.fromDomain) {
					return true
				}
			}
		}
	}
	if nr.subject != nil && nr.subject.match(foldText(m.Subject), nil) {
		return true
	}
	if nr.text != nil {
		text := ml.text()
		if (nr.maxText == 0 || utf8.RuneCountInString(text.s) <= nr.maxText) && nr.text.match(text.s, text.found) {
			return true
		}
	}
	return false
}

// onDomain reports whether dom is one of domains or a subdomain of one, on a
// label boundary ("mail.dhl.com" is on "dhl.com", "notdhl.com" is not).
func onDomain(dom string, domains []string) bool {
	dom = strings.TrimSuffix(dom, ".")
	for _, d := range domains {
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}

// headerValue looks a header up by canonical name, then case-insensitively
// in case the parser stored it as written.
func headerValue(m *message.Message, name string) (string, bool) {
	if v, ok := m.Header[name]; ok {
		return v, true
	}
	for k, v := range m.Header {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
