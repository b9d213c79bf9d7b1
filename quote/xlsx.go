package quote

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/mailtrail/mailtrail/message"
)

// Bounds on what a spreadsheet may cost: attachments larger than
// maxXLSXBytes are skipped; of the others, the first maxSheets sheets and
// maxRows rows of each are read.
const (
	maxXLSXBytes = 10 << 20
	maxSheets    = 5
	maxRows      = 2000
)

// FromMessage is Read, completed from the XLSX and PDF attachments that
// the parser kept (message.Attachment.Content) when the text leaves a
// field empty (a quotation sheet or a PI states its number and total in
// cells). PDFs are read for their text only: a scanned PI says nothing.
func FromMessage(m *message.Message) Details {
	d := Read(m)
	for _, a := range m.Attachments {
		if d.Ref != "" && d.Amount != "" {
			break
		}
		content := a.Content()
		if content == nil {
			continue
		}
		var x Details
		var err error
		switch {
		case isXLSX(a.Filename, a.ContentType):
			x, err = ReadXLSX(content)
		case isPDF(a.Filename, a.ContentType):
			x, err = ReadPDF(content)
		default:
			continue
		}
		if err == nil {
			d.fill(x)
		}
	}
	return d
}

func isXLSX(name, contentType string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".xlsx") ||
		strings.EqualFold(contentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
}

// ReadXLSX reads the details a workbook states, with the rules of Read
// applied to its formatted cells, one row per line ("Total | | USD
// 11,250.00"). A file that is not a workbook is an error.
func ReadXLSX(b []byte) (Details, error) {
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return Details{}, fmt.Errorf("read xlsx: %w", err)
	}
	defer f.Close()
	var sb strings.Builder
	for i, sheet := range f.GetSheetList() {
		if i == maxSheets {
			break
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			return Details{}, fmt.Errorf("read xlsx sheet %q: %w", sheet, err)
		}
		for j, row := range rows {
			if j == maxRows {
				break
			}
			var cells []string
			for _, c := range row {
				if c = strings.TrimSpace(c); c != "" {
					cells = append(cells, c)
				}
			}
			sb.WriteString(strings.Join(cells, " | "))
			sb.WriteByte('\n')
		}
	}
	return readText(sb.String()), nil
}
