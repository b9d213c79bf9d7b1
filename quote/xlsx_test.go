package quote

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/mailtrail/mailtrail/message"
)

// quotationSheet is a workbook as reps send them: a header block with the
// number, a price table and a total row with a currency number format.
func quotationSheet(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	set := func(cell string, v any) {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", "Ningbo Lumiway Lighting Co., Ltd.")
	set("A2", "Quotation No.:")
	set("B2", "QT-2026-0177")
	set("A4", "Item")
	set("B4", "Qty")
	set("C4", "Unit price")
	set("D4", "Amount")
	set("A5", "LED bulb A60 9W E27")
	set("B5", 5000)
	set("C5", 0.4)
	set("D5", 2000)
	set("A6", "LED flood light 100W")
	set("B6", 300)
	set("C6", 12.88)
	set("D6", 3864)
	set("A8", "Total")
	set("D8", 5864)
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr(`"USD "#,##0.00`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(sh, "C5", "D8", style); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

func TestReadXLSX(t *testing.T) {
	d, err := ReadXLSX(quotationSheet(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Details{"QT-2026-0177", "USD", "5864.00"}); d != want {
		t.Fatalf("ReadXLSX = %+v, want %+v", d, want)
	}
	if _, err := ReadXLSX([]byte("PK\x03\x04 not really")); err == nil {
		t.Fatal("a broken workbook gave no error")
	}
}

// mailWithFile is a rep's mail saying text, with file attached as name
// (of contentType), base64 in lines of 76 characters.
func mailWithFile(subject, text, contentType, name string, file []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString(file)
	var lines []string
	for len(b64) > 76 {
		lines, b64 = append(lines, b64[:76]), b64[76:]
	}
	lines = append(lines, b64)
	return []byte(strings.ReplaceAll(`From: amy@ourco.example
To: buyer@example.com
Subject: `+subject+`
Message-ID: <x@ourco.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8

`+text+`

--b
Content-Type: `+contentType+`
Content-Disposition: attachment; filename="`+name+`"
Content-Transfer-Encoding: base64

`+strings.Join(lines, "\n")+`
--b--
`, "\n", "\r\n"))
}

// The text says nothing of the total: the attached sheet completes it.
func TestFromMessageXLSX(t *testing.T) {
	raw := mailWithFile("Re: RFQ", "Dear Li, please find our revised quotation attached.",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "QT-2026-0177-revised.xlsx", quotationSheet(t))
	m := message.Parse(raw)
	if got := Read(m); got.Amount != "" || got.Ref != "QT-2026-0177-revised" {
		t.Fatalf("text alone: %+v", got)
	}
	if got, want := FromMessage(m), (Details{"QT-2026-0177-revised", "USD", "5864.00"}); got != want {
		t.Fatalf("FromMessage = %+v, want %+v", got, want)
	}
}
