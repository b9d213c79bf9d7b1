package timeline

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// SheetRow is one data row of a customer file with the line it came from:
// the CSV line, or the XLSX row number as Excel shows it.
type SheetRow struct {
	Line   int
	Fields []string // trimmed, in CSVHeader order
	Err    error    // the row could not be read (bad CSV quoting, a wrong number of fields)
}

// ReadCustomerFile is ReadCustomerSheet without the warnings.
func ReadCustomerFile(r io.Reader) ([]SheetRow, error) {
	rows, _, err := ReadCustomerSheet(r)
	return rows, err
}

// ReadCustomerSheet reads a customer list, CSV or XLSX (told apart by the
// content, not the file name). Its first row is the header: CSVHeader, or
// those columns in any order under the headings sales teams use for them,
// case-insensitive ("Company", "Website", "E-mail", "Level", "Sales Rep",
// "Tel", "国家": see columnAliases). Only a name column is required; a
// missing column is blank in every row, which keeps what a customer has.
// Phone, domain and e-mail columns may appear more than once ("Phone",
// "Mobile"): their cells are joined. Other columns are ignored, each with
// a warning.
//
// Of an XLSX workbook it reads the first sheet; cells are trimmed, blank
// rows skipped, and a row shorter than the header is padded (Excel drops
// trailing empty cells). A row that cannot be read is returned with Err
// set, so that the others still import; a bad header or an unreadable
// file is an error.
func ReadCustomerSheet(r io.Reader) ([]SheetRow, []string, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return readXLSX(br)
	case bytes.HasPrefix(magic, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, nil, errors.New("this is an old binary Excel file (.xls): save it as .xlsx or CSV")
	}
	return readCSV(br)
}

func readCSV(r io.Reader) ([]SheetRow, []string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: read header: %w", err)
	}
	h, warnings, err := readHeader(trimAll(header), "line 1", func(i int) string { return fmt.Sprintf("column %d", i+1) })
	if err != nil {
		return nil, nil, err
	}
	var out []SheetRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, warnings, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				out = append(out, SheetRow{Line: pe.Line, Err: pe.Err})
				continue
			}
			return out, warnings, err
		}
		line, _ := cr.FieldPos(0)
		row := SheetRow{Line: line, Fields: h.fields(trimAll(rec))}
		if len(rec) != h.width {
			row.Err = fmt.Errorf("%d fields, want %d as in the header (%s)", len(rec), h.width, strings.Join(header, ","))
		}
		out = append(out, row)
	}
}

func readXLSX(r io.Reader) ([]SheetRow, []string, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read XLSX: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, errors.New("XLSX: the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, fmt.Errorf("XLSX sheet %q: %w", sheets[0], err)
	}
	defer rows.Close()
	column := func(i int) string {
		name, _ := excelize.ColumnNumberToName(i + 1)
		return "column " + name
	}
	var out []SheetRow
	var h *sheetHeader
	var warnings []string
	unheaded := map[int]bool{} // columns with values but no heading, warned about once
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			out = append(out, SheetRow{Line: n, Err: err})
			continue
		}
		cells = trimAll(cells)
		if blank(cells) {
			continue
		}
		if h == nil {
			hh, ws, err := readHeader(cells, fmt.Sprintf("XLSX sheet %q row %d", sheets[0], n), column)
			if err != nil {
				return nil, nil, err
			}
			h, warnings = &hh, ws
			continue
		}
		for i := h.width; i < len(cells); i++ {
			if cells[i] != "" && !unheaded[i] {
				unheaded[i] = true
				warnings = append(warnings, fmt.Sprintf("XLSX sheet %q: %s has values (row %d) but no heading: ignored", sheets[0], column(i), n))
			}
		}
		out = append(out, SheetRow{Line: n, Fields: h.fields(cells)})
	}
	if err := rows.Error(); err != nil {
		return out, warnings, fmt.Errorf("XLSX sheet %q: %w", sheets[0], err)
	}
	if h == nil {
		return nil, nil, fmt.Errorf("XLSX sheet %q is empty: want the header %q", sheets[0], strings.Join(CSVHeader, ","))
	}
	return out, warnings, nil
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func blank(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return false
		}
	}
	return true
}
