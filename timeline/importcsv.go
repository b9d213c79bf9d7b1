package timeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVHeader is the header of a customer CSV (or the first row of an XLSX
// sheet), and the order of SheetRow.Fields. ReadCustomerSheet also takes
// these columns in another order and under other headings.
var CSVHeader = []string{"name", "domains", "emails", "grade", "owner", "phone", "country"}

// ImportReport says what an import did (or, in a dry run, would do).
// Errors name each bad row's line; the other rows still import.
type ImportReport struct {
	DryRun    bool        `json:"dry_run"`
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Errors    []string    `json:"errors,omitempty"`
	Rows      []RowResult `json:"rows"`
	// TakenOver are the merges of customers created from mail into the
	// imported customer that has their domain or address.
	TakenOver []Merge `json:"taken_over,omitempty"`
	// Duplicates are the candidate pairs that involve an imported customer
	// after the import, and Scan what the scan changed overall.
	Duplicates []DuplicatePair `json:"duplicates,omitempty"`
	Scan       ScanResult      `json:"duplicate_scan"`
	// Rematch is the number of stored messages queued to be matched again.
	Rematch int `json:"rematch_queued"`
}

// RowResult is what happened to one row.
type RowResult struct {
	Line       int      `json:"line"`
	Name       string   `json:"name"`
	Action     string   `json:"action"` // created, updated, unchanged, rejected
	CustomerID int64    `json:"customer_id,omitempty"`
	MatchedBy  string   `json:"matched_by,omitempty"` // "domain acme.com", "email a@b.c", "name", "line 4"
	Changes    []string `json:"changes,omitempty"`
	Notes      []string `json:"notes,omitempty"` // other customers it also matches, free-mail domains
	Error      string   `json:"error,omitempty"`
}

// Row actions.
const (
	RowCreated   = "created"
	RowUpdated   = "updated"
	RowUnchanged = "unchanged"
	RowRejected  = "rejected"
)

// Normalizer turns an address into its one normal form (matcher.Normalize).
type Normalizer func(addr string) (string, bool)

// ImportOptions are what an import needs from outside the store.
type ImportOptions struct {
	Normalize Normalizer // required: matcher.Normalize
	// Domain normalizes a domain a sheet lists; required:
	// matcher.CustomerDomain (which also turns www.acme.com into acme.com).
	Domain Normalizer
	// FreeMail reports whether a normalized domain is free-mail. Such a
	// domain in a domains column is kept (as the file says) but never used
	// to find a customer, take one over, or pair duplicates. May be nil.
	FreeMail func(domain string) bool
	// DryRun runs the whole import in a transaction that is rolled back:
	// the report says what would be created, updated, taken over and
	// flagged, and nothing changes.
	DryRun bool
	// Source names the file in merge audit rows ("customers.xlsx").
	Source string
}

// ImportCustomersCSV reads a customer CSV (header CSVHeader; domains and
// emails ';'-separated) and imports it with ImportCustomers. Importing the
// same file again changes nothing.
func (s *Store) ImportCustomersCSV(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	rows, err := ReadCustomerFile(r)
	if err != nil {
		return ImportReport{}, err
	}
	return s.ImportCustomers(ctx, rows, opt)
}

func parseCustomerRow(rec []string, opt ImportOptions) (CustomerInput, []string, error) {
	norm, freeMail := opt.Normalize, opt.FreeMail
	var in CustomerInput
	var notes []string
	if len(rec) != len(CSVHeader) {
		return in, nil, fmt.Errorf("%d fields, want %d (%s)", len(rec), len(CSVHeader), strings.Join(CSVHeader, ","))
	}
	in.Name = strings.TrimSpace(rec[0])
	if in.Name == "" {
		return in, nil, errors.New("name: empty")
	}
	for _, d := range splitList(rec[1]) {
		dom, ok := opt.Domain(d)
		if !ok {
			return in, nil, fmt.Errorf("domains: %q is not a domain", d)
		}
		if freeMail != nil && freeMail(dom) {
			notes = append(notes, fmt.Sprintf("domains: %s is free-mail: kept, but its senders match only by exact address", dom))
		}
		in.Domains = appendNew(in.Domains, dom)
	}
	for _, e := range splitList(rec[2]) {
		n, ok := norm(e)
		if !ok {
			return in, nil, fmt.Errorf("emails: %q is not an address", e)
		}
		if !containsContact(in.Contacts, n) {
			in.Contacts = append(in.Contacts, Contact{Email: n})
		}
	}
	in.Grade = strings.ToUpper(strings.TrimSpace(rec[3]))
	if in.Grade != "" && !strings.Contains("ABCDE", in.Grade) || len(in.Grade) > 1 {
		return in, nil, fmt.Errorf("grade: %q is not one of A, B, C, D, E", rec[3])
	}
	if o := strings.TrimSpace(rec[4]); o != "" {
		// The one normal form, as the API and the matcher use: a sheet's
		// "Amy <amy@ourco.com>" is the rep amy@ourco.com.
		n, ok := norm(o)
		if !ok {
			return in, nil, fmt.Errorf("owner: %q is not an address", rec[4])
		}
		in.Owner = n
	}
	in.Phone = strings.TrimSpace(rec[5])
	in.Country = strings.TrimSpace(rec[6])
	return in, notes, nil
}

func appendNew(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

func containsContact(cs []Contact, email string) bool {
	for _, c := range cs {
		if c.Email == email {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
