package quote

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/message"
)

// piPDF is a one-page proforma invoice as a PDF writer lays it out: a
// title, a number, table cells placed one by one with Td (no spaces
// between cells in the content stream), a total row. withWidths gives the
// font its glyph widths; without them (the standard fonts often come
// without) the glyphs of a string share one position.
func piPDF(withWidths bool) []byte {
	content := `BT /F1 14 Tf 50 750 Td (PROFORMA INVOICE) Tj ET
BT /F1 10 Tf 50 730 Td (PI No.: PI-2026-0418) Tj ET
BT /F1 10 Tf 50 700 Td (Item) Tj 200 0 Td (Qty) Tj 80 0 Td (Unit price) Tj 100 0 Td (Amount) Tj ET
BT /F1 10 Tf 50 686 Td (LED panel 600x600 40W) Tj 200 0 Td (1,500) Tj 80 0 Td [(USD 7.)-20(50)] TJ 100 0 Td (USD 11,250.00) Tj ET
BT /F1 10 Tf 50 660 Td (Total Amount) Tj 380 0 Td (USD 11,250.00) Tj ET
`
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	if withWidths {
		font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" +
			strings.Repeat("556 ", 95) + "] >>"
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		font,
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

func TestReadPDF(t *testing.T) {
	for _, widths := range []bool{true, false} {
		t.Run(fmt.Sprint("widths=", widths), func(t *testing.T) {
			text, err := pdfText(piPDF(widths))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, "Total Amount USD 11,250.00\n") || !strings.Contains(text, "PI No.: PI-2026-0418\n") || !strings.Contains(text, "\nLED panel 600x600 40W 1,500 USD 7.50 USD 11,250.00\n") {
				t.Errorf("text laid out as:\n%s", text)
			}
			got, err := ReadPDF(piPDF(widths))
			if want := (Details{"PI-2026-0418", "USD", "11250.00"}); err != nil || got != want {
				t.Errorf("ReadPDF = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// What is not a readable PDF is an error, never a panic: another file
// named .pdf, a PDF cut short, one with its tables of objects mangled.
func TestReadPDFBadInput(t *testing.T) {
	good := piPDF(true)
	for name, b := range map[string][]byte{
		"random":    []byte(strings.Repeat("\x8f\x01binary", 500)),
		"truncated": good[:len(good)/2],
		"mangled":   []byte(strings.ReplaceAll(string(good), " 0 R", " 9 R")),
		"empty":     nil,
	} {
		if d, err := ReadPDF(b); err == nil {
			t.Errorf("%s: no error (details %+v)", name, d)
		}
	}
}

// The mail says only "see the attached PI": the PDF completes it.
func TestFromMessagePDF(t *testing.T) {
	raw := mailWithFile("PI for your order", "Dear Li, please find the proforma invoice attached.",
		"application/pdf", "invoice.pdf", piPDF(true))
	m := message.Parse(raw)
	if got := Read(m); got.Amount != "" || got.Ref != "" {
		t.Fatalf("text alone: %+v", got)
	}
	if got, want := FromMessage(m), (Details{"PI-2026-0418", "USD", "11250.00"}); got != want {
		t.Fatalf("FromMessage = %+v, want %+v", got, want)
	}
}

// FromMessage decides from the first bytes of a file named .pdf whether
// to decode it, with the test ReadPDF applies.
func TestHasPDFHeader(t *testing.T) {
	for in, want := range map[string]bool{
		"%PDF-1.7\n": true, "\r\n\x00 \t%PDF-1.4": true, strings.Repeat(" ", 1019) + "%PDF-": true,
		strings.Repeat(" ", 1020) + "%PDF-": false, "%PDF": false, "": false, "\xff\xd8\xff\xe0 JFIF": false,
	} {
		if got := hasPDFHeader([]byte(in)); got != want {
			t.Errorf("hasPDFHeader(%.20q) = %v, want %v", in, got, want)
		}
		if _, err := ReadPDF([]byte(in)); !want && err == nil {
			t.Errorf("ReadPDF(%.20q) read a file with no header", in)
		}
	}
}
