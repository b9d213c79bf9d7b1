package quote

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/jhillyerd/enmime/v2"
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

// FromMessage is Read, completed from the XLSX and PDF attachments of the
// raw message when the text leaves a field empty (a quotation sheet or a
// PI states its number and total in cells). PDFs are read for their text
// only: a scanned PI says nothing.
func FromMessage(m *message.Message, raw []byte) Details {
	d := Read(m)
	if (d.Ref != "" && d.Amount != "") || !hasDocument(m) || len(raw) > message.MaxParseSize {
		return d
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return d
	}
	for _, p := range append(env.Attachments, env.Inlines...) {
		var x Details
		var err error
		switch {
		case isXLSX(p.FileName, p.ContentType) && len(p.Content) <= maxXLSXBytes:
			x, err = ReadXLSX(p.Content)
		case isPDF(p.FileName, p.ContentType) && len(p.Content) <= maxPDFBytes:
			x, err = ReadPDF(p.Content)
		default:
			continue
		}
		if err == nil {
			d.fill(x)
		}
	}
	return d
}

// hasDocument tells whether m has an attachment FromMessage can read.
func hasDocument(m *message.Message) bool {
	for _, a := range m.Attachments {
		if isXLSX(a.Filename, a.ContentType) || isPDF(a.Filename, a.ContentType) {
			return true
		}
	}
	return false
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
