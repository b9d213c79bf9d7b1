package message

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
)

// Attachments are most of the bytes of a sales mailbox (price lists,
// catalogues, photos), and enmime reads every byte of every part through
// a reader that looks for the next boundary byte by byte: three quarters
// of the CPU of preparing mail. Nothing of an attachment's body is read
// but its size, unless it is a document (PDF, XLSX, read for a quote's
// details, and then only when the message is a quote). So before enmime
// sees a message, hollow takes out the body of each large base64
// attachment, after checking it is sound base64, and records where it was
// and its decoded size in a header of its own; a document's body is
// decoded from raw when asked for (Attachment.Content). The raw message
// kept in the store is untouched: this is the copy given to the parser.

// hollowHeader carries "token index size" on a hollowed part; hollowToken
// is random per process, so that no message can claim a body or a size.
const hollowHeader = "X-Mailtrail-Hollow"

var hollowToken = func() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

// hollowMin is the body size from which a part is hollowed.
const hollowMin = 16 << 10

// hollowed returns which body hollow took out of a part (an index in what
// it returned) and its decoded size.
func hollowed(h textproto.MIMEHeader) (index, size int, ok bool) {
	f := strings.Fields(h.Get(hollowHeader))
	if len(f) != 3 || f[0] != hollowToken {
		return 0, 0, false
	}
	index, err1 := strconv.Atoi(f[1])
	size, err2 := strconv.Atoi(f[2])
	return index, size, err1 == nil && err2 == nil && index >= 0 && size >= 0
}

// hollowSet holds the bodies taken out of one message and those attached
// to it, so that an index names one body across all of them.
type hollowSet struct {
	bodies [][]byte
}

// hollow returns raw (MIME prepared by prepareMIME, whose closed
// boundaries are bounds) with the bodies of large base64 attachments
// taken out and added to hs (slices of raw), or raw itself when there are
// none.
func (hs *hollowSet) hollow(raw []byte, bounds map[string]bool) []byte {
	return hs.hollowWith(raw, bounds, nextDelimiter)
}

// hollowWith is hollow, finding the delimiter line at or after a line
// start with next (nextDelimiter; a test compares it with a plain scan).
func (hs *hollowSet) hollowWith(raw []byte, bounds map[string]bool, next func([]byte, int, map[string]bool) int) []byte {
	if len(raw) < hollowMin || len(bounds) == 0 {
		return raw
	}
	var out []byte // nil until a part is hollowed
	done := 0      // raw[:done] is in out
	for i := 0; ; {
		if i = next(raw, i, bounds); i == len(raw) {
			break
		}
		// A part begins after the delimiter: its header, a blank line, its body.
		hStart := i + len(lineAt(raw, i))
		hEnd := hStart
		for hEnd < len(raw) {
			l := lineAt(raw, hEnd)
			hEnd += len(l)
			if len(bytes.TrimRight(l, "\r\n")) == 0 {
				break
			}
		}
		bEnd := next(raw, hEnd, bounds)
		if size, ok := hollowable(raw[hStart:hEnd], raw[hEnd:bEnd]); ok {
			if out == nil {
				out = make([]byte, 0, len(raw)/4)
			}
			blank := hEnd - len(trailingBlank(raw[hStart:hEnd]))
			out = append(out, raw[done:blank]...)
			out = append(out, fmt.Sprintf("%s: %s %d %d\r\n", hollowHeader, hollowToken, len(hs.bodies), size)...)
			hs.bodies = append(hs.bodies, raw[hEnd:bEnd])
			out = append(out, raw[blank:hEnd]...)
			done = bEnd
		}
		i = bEnd
	}
	if out == nil {
		return raw
	}
	return append(out, raw[done:]...)
}

// originalLen is the length b had before hollow took bodies out of it
// (b is part of a parsed copy: an attached message, whose size is that of
// the original).
func (hs *hollowSet) originalLen(b []byte) int {
	n := len(b)
	mark := []byte(hollowHeader + ": " + hollowToken + " ")
	for i := bytes.Index(b, mark); i >= 0; {
		line := lineAt(b, i)
		f := strings.Fields(string(line[len(mark):]))
		if len(f) != 2 {
			break
		}
		if idx, err := strconv.Atoi(f[0]); err == nil && idx >= 0 && idx < len(hs.bodies) {
			n += len(hs.bodies[idx]) - len(line)
		}
		next := bytes.Index(b[i+len(line):], mark)
		if next < 0 {
			break
		}
		i += len(line) + next
	}
	return n
}

// hollowable tells whether the part with this header and body may be
// hollowed, and the body's decoded size: a leaf base64 part that is not
// text and not a message, of at least hollowMin bytes of nothing but
// base64 and line breaks.
func hollowable(header, body []byte) (int, bool) {
	if len(body) < hollowMin || len(trailingBlank(header)) == 0 {
		return 0, false // too small, or a header that never ended
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil || !strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "base64") {
		return 0, false
	}
	ct := strings.ToLower(strings.TrimSpace(h.Get("Content-Type")))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if ct == "" || strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "message/") || strings.HasPrefix(ct, "multipart/") {
		return 0, false
	}
	n, bad := base64Count(body)
	if bad {
		return 0, false // not sound: the walker decodes and flags it
	}
	return n * 3 / 4, true
}

// lineAt is the line of raw starting at i, with its line break.
func lineAt(raw []byte, i int) []byte {
	if j := bytes.IndexByte(raw[i:], '\n'); j >= 0 {
		return raw[i : i+j+1]
	}
	return raw[i:]
}

// nextDelimiter returns the start of the first line at or after i (a
// line start) that is a delimiter of bounds, or len(raw). Only a line
// starting with "--" can be one: nextDashLine skips the thousands of
// lines of an attachment's body in a few calls.
func nextDelimiter(raw []byte, i int, bounds map[string]bool) int {
	for i = nextDashLine(raw, i); i >= 0; i = nextDashLine(raw, i+2) {
		if isDelimiter(lineAt(raw, i), bounds) {
			return i
		}
	}
	return len(raw)
}

// isDelimiter tells a line "--boundary" or "--boundary--" (trailing
// blanks allowed) of one of bounds.
func isDelimiter(line []byte, bounds map[string]bool) bool {
	if !bytes.HasPrefix(line, []byte("--")) {
		return false
	}
	b := bytes.TrimRight(line[2:], " \t\r\n")
	return bounds[string(b)] || (bytes.HasSuffix(b, []byte("--")) && bounds[string(b[:len(b)-2])])
}

// trailingBlank is the blank line that ends header, or nil.
func trailingBlank(header []byte) []byte {
	switch {
	case bytes.HasSuffix(header, []byte("\n\r\n")) || string(header) == "\r\n":
		return header[len(header)-2:]
	case bytes.HasSuffix(header, []byte("\n\n")) || string(header) == "\n":
		return header[len(header)-1:]
	}
	return nil
}
