package quote

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages bounds what a PDF may cost (the message keeps documents up
// to message.MaxDocumentSize): a quotation or PI states its number and
// total on its first pages.
const maxPDFPages = 5

// ReadPDF reads the details a PDF states, with the rules of Read applied
// to its text laid out in lines as on the page ("Total Amount  USD
// 11,250.00"). A file that is not a PDF, or one whose text cannot be
// read (scanned, encrypted, broken), is an error.
func ReadPDF(b []byte) (Details, error) {
	text, err := pdfText(b)
	if err != nil {
		return Details{}, err
	}
	return readText(text), nil
}

// pdfHeaderSpan is how far into a file its "%PDF-" header may be, after
// blank bytes some writers put first.
const pdfHeaderSpan = 1024

// hasPDFHeader tells a PDF by its header in the first pdfHeaderSpan bytes
// of b (the rest of b is not read).
func hasPDFHeader(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b[:min(len(b), pdfHeaderSpan)], "\x00\t\r\n "), []byte("%PDF-"))
}

// pdfText lays out the glyphs of the first pages in lines. The library
// panics on some malformed files: that is an error here, never a crash.
func pdfText(b []byte) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("read pdf: malformed: %v", r)
		}
	}()
	if !hasPDFHeader(b) {
		return "", errors.New("read pdf: not a PDF file")
	}
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "", fmt.Errorf("read pdf: %w", err)
	}
	var sb strings.Builder
	for i := 1; i <= min(r.NumPage(), maxPDFPages); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		layOut(&sb, p.Content().Text)
		sb.WriteByte('\n')
	}
	if strings.TrimSpace(sb.String()) == "" {
		return "", errors.New("read pdf: no text (a scan?)")
	}
	return sb.String(), nil
}

// layOut writes glyphs in the order the page draws them, starting a new
// line where the baseline moves and a space where a glyph does not follow
// on from the one before (another cell of a table).
func layOut(sb *strings.Builder, glyphs []pdf.Text) {
	var prev pdf.Text
	for i, g := range glyphs {
		if g.S == "\n" {
			continue // the library marks the end of a TJ so; positions tell lines
		}
		if i > 0 && prev.S != "" {
			size := math.Max(prev.FontSize, 1)
			end := prev.X + prev.W
			switch {
			case math.Abs(g.Y-prev.Y) > 0.3*size:
				sb.WriteByte('\n')
			case g.X < prev.X-0.1*size || g.X > end+0.25*size || (prev.W == 0 && math.Abs(g.X-prev.X) > 0.25*size):
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(g.S)
		prev = g
	}
}
