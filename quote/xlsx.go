package quote

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Bounds on what a spreadsheet may cost (the message keeps documents up
// to message.MaxDocumentSize): the first maxSheets sheets and maxRows rows
// of each are read.
const (
	maxSheets = 5
	maxRows   = 2000
)

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
