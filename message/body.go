package message

import (
	"bytes"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// mimeOptions configure enmime to build the part tree and decode the
// transfer encodings, and to leave charsets to us:
//
//   - Charset detection is off. enmime runs chardet on every text part of
//     100 runes or more and trusts it over the declared charset at 85%
//     confidence; that costs about as much as the rest of enmime's work
//     (see BenchmarkEnmimeDetection) and, on short Chinese mail, trades a
//     right declared charset for a wrong guess. Declared charsets in our
//     mail are right or a subset (gb2312 for GBK), so detection buys
//     nothing; undeclared 8-bit text is guessed by decodeText.
//   - enmime's charset table maps gbk and gb2312 to GBK, which loses
//     GB18030-only characters, and has no best effort for unknown labels.
//     passThroughCharset (the media type callback, see newMIMEParser)
//     therefore tells enmime every text part is UTF-8, which enmime copies
//     as is, and decodeText applies the declared charset with our table.
//
// The slice is never modified; newMIMEParser copies it.
var mimeOptions = []enmime.Option{
	enmime.SkipMalformedParts(true),
	enmime.MultipartWOBoundaryAsSinglePart(true),
	enmime.DisableCharacterDetection(true),
	enmime.DisableTextConversion(true),
	enmime.MaxStoredPartErrors(20),
	enmime.RawContent(true), // see transfer.go
	enmime.SetReadPartErrorPolicy(keepPartialContent),
}

// keepPartialContent keeps what was decoded before a base64 error, for
// every part, not only text (enmime's AllowCorruptTextPartErrorPolicy).
func keepPartialContent(_ *enmime.Part, err error) bool {
	return enmime.IsBase64CorruptInputError(err)
}

// walker collects body text, attachments and attached messages from the
// part tree.
type walker struct {
	m        *Message
	limit    int
	depth    int    // message/rfc822 depth of the message being walked
	hint     string // charset for raw 8-bit part headers (see charsetHint)
	body     []byte // the message body, for a multipart that has no parts
	atts     []Attachment
	fwds     []Forward
	report   bool       // a multipart/report was seen: no inline forward scan
	seen     int        // parts visited, a guard against a cyclic tree
	hollowed *hollowSet // the bodies taken out of the parsed copies
}

// bodyText is one text part chosen as (part of) the body.
type bodyText struct {
	text string
	html bool
}

func (m *Message) parseBody(raw []byte, limit, depth int, hint string, hs *hollowSet) {
	_, body := splitHeader(raw)
	if n := countDashLines(body); n > maxMIMEParts {
		m.problem("MIME structure too large (%d lines starting with \"--\"): body read as plain text", n)
		m.textFallback(body)
		return
	}
	prepared, closed, unclosed := prepareMIME(raw)
	prepared = hs.hollow(prepared, closed)
	if unclosed > 0 {
		m.problem("%d multipart boundaries never closed (truncated message?)", unclosed)
	}
	exceeded := false
	root, err := newMIMEParser(len(raw), closed, &exceeded).ReadParts(bytes.NewReader(prepared))
	if exceeded {
		m.problem("MIME structure too deep for its size (%d bytes): inner multiparts kept as data", len(raw))
	}
	if err != nil || root == nil {
		m.problem("mime: %v", err)
		m.textFallback(body)
		return
	}
	w := &walker{m: m, limit: limit, depth: depth, hint: hint, body: body, hollowed: hs}
	bodies := w.walk(root, true)
	w.collectErrors(root)
	var parts []string
	for _, b := range bodies {
		if t := strings.TrimSpace(b.text); t != "" {
			parts = append(parts, t)
		}
	}
	m.Text = m.capText(strings.Join(parts, "\n\n"))
	m.NewText = newText(m.Text)
	m.Attachments = w.atts
	m.Forwarded = w.fwds
	if !w.report {
		m.Forwarded = append(m.Forwarded, inlineForwards(m.Text, m.Subject)...)
	}
	if len(m.Forwarded) > maxForwards {
		m.Forwarded = m.Forwarded[:maxForwards]
	}
}

// textFallback reads the whole body as text when the MIME structure could
// not be used, so that search still has the words.
func (m *Message) textFallback(body []byte) {
	m.Text = m.capText(bodyAsText(body))
	m.NewText = newText(m.Text)
}

// bodyAsText decodes raw body bytes (at most twice maxTextSize) with the
// guesses of an undeclared charset.
func bodyAsText(body []byte) string {
	if len(body) > 2*maxTextSize {
		body = body[:2*maxTextSize]
	}
	text, _ := decodeText(body, "")
	return normalizeText(text)
}

// capText cuts a text longer than maxTextSize at a line end (or a rune
// boundary) and says so.
func (m *Message) capText(s string) string {
	if len(s) <= maxTextSize {
		return s
	}
	m.problem("text of %d bytes truncated to %d", len(s), maxTextSize)
	cut := maxTextSize
	if nl := strings.LastIndexByte(s[:cut], '\n'); nl > maxTextSize/2 {
		cut = nl
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// walk returns the body texts of p in order and records its attachments
// and attached messages.
func (w *walker) walk(p *enmime.Part, root bool) []bodyText {
	w.seen++
	if w.seen > maxMIMEParts*2 {
		return nil
	}
	ct := strings.ToLower(p.ContentType)
	if p.FirstChild != nil || strings.HasPrefix(ct, "multipart/") {
		return w.walkMultipart(p, ct)
	}
	switch {
	case ct == "message/rfc822" || ct == "message/global":
		w.attachedMessage(p, false)
		w.attachment(p, ct)
		return nil
	case ct == "" || ct == "text/plain" || ct == "text/html":
		if root || w.isBody(p) {
			return []bodyText{w.text(p, ct == "text/html")}
		}
	}
	w.attachment(p, ct)
	return nil
}

func (w *walker) walkMultipart(p *enmime.Part, ct string) []bodyText {
	var children []*enmime.Part
	for c := p.FirstChild; c != nil && len(children) < maxMIMEParts; c = c.NextSibling {
		children = append(children, c)
	}
	if len(children) == 0 {
		// No boundary, or a boundary that never occurs: keep the words.
		w.m.problem("part %s: %s without parts: read as text", partID(p), ct)
		if len(p.Content) > 0 {
			return []bodyText{w.text(p, false)}
		}
		if p.Parent == nil && len(w.body) > 0 {
			return []bodyText{{text: bodyAsText(w.body)}}
		}
		return nil
	}
	switch ct {
	case "multipart/alternative":
		var cands [][]bodyText
		for _, c := range children {
			cands = append(cands, w.walk(c, false))
		}
		return chooseAlternative(cands)
	case "multipart/report":
		// RFC 6522: a human-readable part, a machine-readable status and
		// the original message (or its headers). The original is kept in
		// Forwarded; nothing of it goes into the body or the attachments.
		w.report = true
		var out []bodyText
		for i, c := range children {
			cct := strings.ToLower(c.ContentType)
			switch {
			case i == 0:
				out = w.walk(c, false)
			case cct == "message/rfc822" || cct == "message/global":
				w.attachedMessage(c, false)
			case cct == "text/rfc822-headers" || cct == "message/global-headers":
				w.attachedMessage(c, true)
			case strings.HasPrefix(cct, "message/"):
				// delivery-status, disposition-notification: for the
				// classifier, which reads the raw message.
			default:
				w.walk(c, false)
			}
		}
		return out
	case "multipart/encrypted":
		for _, c := range children {
			w.attachment(c, strings.ToLower(c.ContentType))
		}
		return nil
	}
	// multipart/mixed, related, signed, digest, parallel and unknown
	// subtypes (RFC 2046 5.1.7: treat as mixed).
	var out []bodyText
	for _, c := range children {
		out = append(out, w.walk(c, false)...)
	}
	return out
}

// chooseAlternative prefers the first alternative with non-empty plain
// text, else the first with any text.
func chooseAlternative(cands [][]bodyText) []bodyText {
	for _, want := range []bool{false, true} {
		for _, c := range cands {
			for _, b := range c {
				if b.html == want && strings.TrimSpace(b.text) != "" {
					return c
				}
			}
		}
	}
	return nil
}

// isBody tells a text part that is part of the body from an attached text
// file: an attachment disposition or a file name makes it a file.
func (w *walker) isBody(p *enmime.Part) bool {
	if strings.EqualFold(p.Disposition, "attachment") {
		return false
	}
	name, _ := partFilename(p, w.hint)
	return name == ""
}

// text decodes a body part's bytes from its declared charset.
func (w *walker) text(p *enmime.Part, isHTML bool) bodyText {
	content := w.decoded(p)
	full := len(content)
	cs := partCharset(p)
	if cs == "" && isHTML {
		cs = htmlCharset(content)
	}
	if len(content) > 2*maxTextSize {
		// Text is capped at maxTextSize anyway: decode no more than
		// twice that (HTML markup and all), cut at a line end.
		content = content[:2*maxTextSize]
		if nl := bytes.LastIndexByte(content, '\n'); nl > maxTextSize {
			content = content[:nl]
		}
		w.m.problem("part %s: text part of %d bytes: only the first %d read", partID(p), full, len(content))
	}
	s, problem := decodeText(content, cs)
	if problem != "" {
		w.m.problem("part %s: %s", partID(p), problem)
	}
	if isHTML {
		s = htmlToText(s)
	}
	return bodyText{text: normalizeText(s), html: isHTML}
}

// attachment records a leaf part that is not body text.
func (w *walker) attachment(p *enmime.Part, ct string) {
	if ct == "" {
		ct = "application/octet-stream"
	}
	name, probs := partFilename(p, w.hint)
	w.m.addProblems("part "+partID(p), probs)
	inline := strings.EqualFold(p.Disposition, "inline") ||
		(p.Disposition == "" && p.ContentID != "")
	a := Attachment{
		Filename:    name,
		ContentType: ct,
		Size:        w.decodedSize(p),
		Inline:      inline,
	}
	if IsDocument(name, ct) && a.Size <= MaxDocumentSize {
		a.doc = &document{encoded: p.Content, encoding: transferEncoding(p)}
		if i, _, ok := hollowed(p.Header); ok && i < len(w.hollowed.bodies) {
			a.doc.encoded = w.hollowed.bodies[i]
		}
	}
	w.atts = append(w.atts, a)
}

// attachedMessage parses an attached message (or, for
// text/rfc822-headers, only its header) into a Forward.
func (w *walker) attachedMessage(p *enmime.Part, headersOnly bool) {
	if len(w.fwds) >= maxForwards {
		return
	}
	sub := parse(w.decoded(p), w.limit, w.depth+1, headersOnly || w.depth+1 > maxEmbedDepth, w.hollowed)
	for _, prob := range sub.Problems {
		w.m.problem("part %s (attached message): %s", partID(p), prob)
	}
	w.fwds = append(w.fwds, Forward{From: sub.From, Subject: sub.Subject, Text: sub.NewText})
	for _, f := range sub.Forwarded {
		if len(w.fwds) >= maxForwards {
			break
		}
		w.fwds = append(w.fwds, f)
	}
}

// collectErrors turns enmime's part errors into Problems. A missing
// Content-Type on a part is legal (RFC 2045 5.2: text/plain) and skipped.
func (w *walker) collectErrors(root *enmime.Part) {
	n := 0
	_ = root.DepthMatchAll(func(p *enmime.Part) bool {
		if n++; n > maxMIMEParts*2 {
			return false
		}
		for _, e := range p.Errors {
			switch e.Name {
			case enmime.ErrorMissingContentType, enmime.ErrorPlainTextFromHTML, enmime.ErrorCharsetDeclaration:
				continue
			}
			w.m.problem("part %s: %s: %s", partID(p), e.Name, e.Detail)
		}
		return false
	})
}

func partID(p *enmime.Part) string {
	if p.PartID == "" {
		return "0"
	}
	return p.PartID
}

// partCharset returns the charset declared in a part's own Content-Type
// (enmime's view of it was rewritten by passThroughCharset).
func partCharset(p *enmime.Part) string {
	v := decodeHeaderBytes(p.Header.Get("Content-Type"))
	if v == "" {
		return ""
	}
	if _, params, _, err := mediatype.Parse(v); err == nil {
		if cs, ok := params["charset"]; ok {
			return cs
		}
	}
	return parseMediaParams(v).params["charset"]
}

// partFilename finds an attachment's name: Content-Disposition filename,
// then Content-Type name (RFC 2183 2.3, RFC 2231, RFC 2047 in
// parameters), then enmime's own reading.
func partFilename(p *enmime.Part, hint string) (string, []string) {
	return headerFilename(p.Header, p.FileName, hint)
}

// headerFilename is partFilename from a part's header; fallback is a
// name found elsewhere (enmime's).
func headerFilename(header textproto.MIMEHeader, fallback, hint string) (string, []string) {
	for _, h := range []struct{ header, param string }{
		{"Content-Disposition", "filename"},
		{"Content-Type", "name"},
		{"Content-Disposition", "name"},
		{"Content-Type", "filename"},
	} {
		v := header.Get(h.header)
		if v == "" {
			continue
		}
		mp := parseMediaParams(decodeRawHeader(v, hint))
		if name, probs := mp.param(h.param); strings.TrimSpace(name) != "" {
			return cleanFilename(name), probs
		}
	}
	if fallback != "" {
		return cleanFilename(decodeRawHeader(fallback, hint)), nil
	}
	return "", nil
}

// cleanFilename drops a path some clients send ("C:\dir\a.pdf") and
// control characters.
func cleanFilename(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, `\/`); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// normalizeText makes line ends "\n", drops NUL and other control
// characters that are not white space, and trims trailing spaces.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if hasStrayRunes(s) {
		s = dropStrayRunes(s)
	}
	return trimLines(s)
}

// dropStrayRunes drops control characters other than "\n" and "\t", DEL
// and the byte order mark.
func dropStrayRunes(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < ' ' && r != '\n' && r != '\t') || r == 0x7f || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
}

// trimLines trims the blanks ending each line, and the white space around
// the whole.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// hasStrayRunes tells whether dropStrayRunes would change s:
// a control character, a byte order mark or invalid UTF-8 (which Map
// turns into U+FFFD). Most text has none, and these checks read bytes,
// where Map calls a function for every rune (most of normalizeText's
// time on mail of many kilobytes).
func hasStrayRunes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\n' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return strings.Contains(s, "\uFEFF") || !utf8.ValidString(s)
}
