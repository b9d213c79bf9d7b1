package timeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CSVHeader is the header a customer CSV must have.
var CSVHeader = []string{"name", "domains", "emails", "grade", "owner", "phone", "country"}

// ImportReport counts what an import did; Errors name each bad row's line.
type ImportReport struct {
	Created   int      `json:"created"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Errors    []string `json:"errors,omitempty"`
}

// Normalizer turns an address into its one normal form (matcher.Normalize).
type Normalizer func(addr string) (string, bool)

// ImportCustomersCSV reads a customer CSV (header CSVHeader; domains and
// emails ';'-separated) and upserts each row in its own transaction, so a
// bad row is reported with its line number and the others still import.
// Importing the same file again changes nothing.
func (s *Store) ImportCustomersCSV(ctx context.Context, r io.Reader, norm Normalizer) (ImportReport, error) {
	var rep ImportReport
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return rep, fmt.Errorf("line 1: read header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // Excel's UTF-8 BOM
	}
	if strings.Join(lower(header), ",") != strings.Join(CSVHeader, ",") {
		return rep, fmt.Errorf("line 1: header is %q, want %q", strings.Join(header, ","), strings.Join(CSVHeader, ","))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", pe.Line, pe.Err))
				continue
			}
			return rep, err
		}
		in, err := parseCustomerRow(rec, norm)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		var created, changed bool
		err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			_, created, changed, err = UpsertCustomer(ctx, tx, in)
			return err
		})
		switch {
		case err != nil:
			rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", line, err))
		case created:
			rep.Created++
		case changed:
			rep.Updated++
		default:
			rep.Unchanged++
		}
	}
	return rep, nil
}

func parseCustomerRow(rec []string, norm Normalizer) (CustomerInput, error) {
	var in CustomerInput
	if len(rec) != len(CSVHeader) {
		return in, fmt.Errorf("%d fields, want %d (%s)", len(rec), len(CSVHeader), strings.Join(CSVHeader, ","))
	}
	in.Name = strings.TrimSpace(rec[0])
	if in.Name == "" {
		return in, errors.New("name: empty")
	}
	for _, d := range splitList(rec[1]) {
		n, ok := norm("x@" + d)
		if !ok {
			return in, fmt.Errorf("domains: %q is not a domain", d)
		}
		in.Domains = append(in.Domains, n[strings.IndexByte(n, '@')+1:])
	}
	for _, e := range splitList(rec[2]) {
		n, ok := norm(e)
		if !ok {
			return in, fmt.Errorf("emails: %q is not an address", e)
		}
		in.Contacts = append(in.Contacts, Contact{Email: n})
	}
	in.Grade = strings.ToUpper(strings.TrimSpace(rec[3]))
	if in.Grade != "" && !strings.Contains("ABCDE", in.Grade) || len(in.Grade) > 1 {
		return in, fmt.Errorf("grade: %q is not one of A, B, C, D, E", rec[3])
	}
	in.Owner = strings.ToLower(strings.TrimSpace(rec[4]))
	if in.Owner != "" {
		if _, err := mail.ParseAddress(in.Owner); err != nil {
			return in, fmt.Errorf("owner: %q is not an address", rec[4])
		}
	}
	in.Phone = strings.TrimSpace(rec[5])
	in.Country = strings.TrimSpace(rec[6])
	return in, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}
