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
	Fields []string // trimmed; len(CSVHeader) for a well-formed row
	Err    error    // the row could not be read (bad CSV quoting)
}

// ReadCustomerFile reads a customer list, CSV or XLSX (told apart by the
// content, not the file name), whose first row is CSVHeader. Of an XLSX
// workbook it reads the first sheet; cells are trimmed, blank rows skipped,
// and a row shorter than the header is padded (Excel drops trailing empty
// cells). A row that cannot be read is returned with Err set, so that the
// others still import; a bad header or an unreadable file is an error.
func ReadCustomerFile(r io.Reader) ([]SheetRow, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return readXLSX(br)
	case bytes.HasPrefix(magic, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, errors.New("this is an old binary Excel file (.xls): save it as .xlsx or CSV")
	}
	return readCSV(br)
}

func checkHeader(header []string, where string) error {
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // Excel's UTF-8 BOM
	}
	got := lower(header)
	for len(got) > len(CSVHeader) && got[len(got)-1] == "" {
		got = got[:len(got)-1]
	}
	if strings.Join(got, ",") != strings.Join(CSVHeader, ",") {
		return fmt.Errorf("%s: header is %q, want %q", where, strings.Join(header, ","), strings.Join(CSVHeader, ","))
	}
	return nil
}

func readCSV(r io.Reader) ([]SheetRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: read header: %w", err)
	}
	if err := checkHeader(header, "line 1"); err != nil {
		return nil, err
	}
	var out []SheetRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				out = append(out, SheetRow{Line: pe.Line, Err: pe.Err})
				continue
			}
			return out, err
		}
		line, _ := cr.FieldPos(0)
		out = append(out, SheetRow{Line: line, Fields: trimAll(rec)})
	}
}

func readXLSX(r io.Reader) ([]SheetRow, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("read XLSX: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("XLSX: the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("XLSX sheet %q: %w", sheets[0], err)
	}
	defer rows.Close()
	var out []SheetRow
	seenHeader := false
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
		if !seenHeader {
			if err := checkHeader(cells, fmt.Sprintf("XLSX sheet %q row %d", sheets[0], n)); err != nil {
				return nil, err
			}
			seenHeader = true
			continue
		}
		for len(cells) > len(CSVHeader) && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		for len(cells) < len(CSVHeader) {
			cells = append(cells, "")
		}
		out = append(out, SheetRow{Line: n, Fields: cells})
	}
	if err := rows.Error(); err != nil {
		return out, fmt.Errorf("XLSX sheet %q: %w", sheets[0], err)
	}
	if !seenHeader {
		return nil, fmt.Errorf("XLSX sheet %q is empty: want the header %q", sheets[0], strings.Join(CSVHeader, ","))
	}
	return out, nil
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
