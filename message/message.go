// Package message turns raw RFC 5322 mail into the fields mailtrail works
// with: decoded addresses, subject, a plain-text body, attachment names and
// the headers that tell automatic mail from a person's. Parsing never fails
// outright: whatever cannot be decoded is recorded in Problems and the
// message is flagged Malformed, so the caller still stores it.
package message

import (
	"strings"
	"time"
)

// Address is one mailbox from a header. Email is the address as written
// (decoded, display name dropped); Name is the decoded display name.
// Normalisation (case, IDNA) belongs to the matcher.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Attachment describes one attached part; the bytes stay in the raw message.
// Filename is decoded (RFC 2231, RFC 2047) and stripped of any path; it is
// "" when the part names none. ContentType is the lower-case media type
// ("application/octet-stream" when the part declares none). Size is the
// decoded size in bytes. Inline is set for parts shown inside the body
// (Content-Disposition: inline, or a Content-ID without a disposition, as
// for images in multipart/related): usually logos and signatures.
type Attachment struct {
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	Inline      bool      `json:"inline,omitempty"`
	doc         *document // see Content
}

// WithoutContent is a without its file: what is kept of it once the
// message has been read (the file can be megabytes).
func (a Attachment) WithoutContent() Attachment {
	a.doc = nil
	return a
}

// document is a document attachment's file as found in the message.
type document struct {
	encoded  []byte
	encoding string // Content-Transfer-Encoding, lower case
}

// Content returns the file of a document attachment (a PDF or an XLSX of
// at most MaxDocumentSize bytes: a quotation or PI that package quote
// reads), decoded on demand; nil for any other attachment. Parsing
// decodes no attachment: most are never read.
func (a Attachment) Content() []byte {
	if a.doc == nil {
		return nil
	}
	switch a.doc.encoding {
	case "base64":
		out, _ := decodeBase64Body(a.doc.encoded)
		return out
	case "quoted-printable":
		out, _ := decodeQuotedPrintable(a.doc.encoded)
		return out
	}
	return a.doc.encoded
}

// ContentPrefix returns the first n bytes of Content (all of it when it is
// shorter): enough to tell a file's type by its first bytes without
// decoding megabytes. Base64, the encoding of nearly every attachment, is
// decoded only as far as those bytes; quoted-printable is decoded whole.
func (a Attachment) ContentPrefix(n int) []byte {
	if a.doc == nil {
		return nil
	}
	var out []byte
	switch a.doc.encoding {
	case "base64":
		out = base64Prefix(a.doc.encoded, n)
	case "quoted-printable":
		out = a.Content() // rare for a document
	default:
		out = a.doc.encoded
	}
	return out[:min(max(n, 0), len(out))]
}

// MaxDocumentSize bounds the documents whose content a Message keeps.
const MaxDocumentSize = 10 << 20

// Document kinds: the attachments whose content a Message keeps.
const (
	DocPDF  = "pdf"
	DocXLSX = "xlsx"
)

// DocumentKind tells a document attachment by its name or content type:
// DocPDF, DocXLSX, or "" for any other file.
func DocumentKind(name, contentType string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".pdf") || strings.EqualFold(contentType, "application/pdf"):
		return DocPDF
	case strings.HasSuffix(n, ".xlsx") ||
		strings.EqualFold(contentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
		return DocXLSX
	}
	return ""
}

// IsDocument tells the attachments whose content is kept.
func IsDocument(name, contentType string) bool { return DocumentKind(name, contentType) != "" }

// Message is a parsed message. Raw is not kept here: the caller owns it.
type Message struct {
	MessageID  string    // Message-ID without angle brackets; "" when absent
	InReplyTo  []string  // without angle brackets
	References []string  // without angle brackets
	Date       time.Time // zero when missing or unparseable
	Subject    string

	From    []Address
	Sender  []Address
	ReplyTo []Address
	To      []Address
	Cc      []Address
	Bcc     []Address

	// Header holds selected raw header values, keyed by canonical name
	// (e.g. "Auto-Submitted", "List-Id", "Precedence", "X-Autoreply",
	// "X-Autorespond", "List-Unsubscribe", "Content-Type"). First value wins.
	Header map[string]string

	ContentType string // media type of the top-level part, lower-case
	Text        string // plain-text body (HTML converted when there is no text part)
	NewText     string // Text without quoted history and forwarded blocks

	Attachments []Attachment

	// Forwarded holds the original senders of mail forwarded inside this
	// one: an inline "From:"/"发件人:" block or an attached message/rfc822.
	Forwarded []Forward

	Malformed bool     // some part could not be decoded
	Problems  []string // what went wrong, for the operator
}

// Forward is a message forwarded inside another.
type Forward struct {
	From    []Address
	Subject string
	Text    string // the forwarded message's own text, when it could be read
}
