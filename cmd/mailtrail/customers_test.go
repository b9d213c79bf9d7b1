package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The customer commands as a user drives them: mail first, then a dry run
// and an import of the sales team's workbook, the duplicates, a merge,
// and a full re-match.
func TestCLICustomers(t *testing.T) {
	c := newCLI(t, freePort(t))
	c.mustRun("migrate")
	c.appendMail("amy@ourco.example", "INBOX", "From: Li Wei <li.wei@acme-buyer.de>\nTo: amy@ourco.example\nSubject: RFQ LED panel\n"+
		"Date: Tue, 3 Mar 2026 09:00:00 +0800\nMessage-ID: <rfq-9@acme-buyer.de>\nContent-Type: text/plain; charset=utf-8\n\n"+
		"Dear Amy, please quote 2,000 pcs LED panel 600x600.\n")
	c.mustRun("sync", "--once")

	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	for i, row := range [][]any{
		{"name", "domains", "emails", "grade", "owner", "phone", "country", "Notes"},
		{"Acme Buyer GmbH", "acme-buyer.de", "", "A", "amy@ourco.example", "+49 30 1234567", "Germany", "met at the Canton Fair"},
		{"ACME BUYER", "acme-buyer.com", "", "B", "", "0049 30 1234567", "Germany"},
		{"Broken", "", "", "Z"},
	} {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			f.SetCellValue(sheet, cell, v)
		}
	}
	xlsx := filepath.Join(t.TempDir(), "customers.xlsx")
	if err := f.SaveAs(xlsx); err != nil {
		t.Fatal(err)
	}

	status := func() map[string]any {
		var st struct{ Totals map[string]any }
		json.Unmarshal([]byte(c.mustRun("status")), &st)
		return st.Totals
	}
	before := status()
	out, errs, code := c.run("customers", "import", "--dry-run", xlsx)
	if code == 0 || !strings.Contains(errs, "line 4: grade") ||
		!strings.Contains(errs, `customers.xlsx: warning: XLSX sheet "Sheet1" row 1: column H "Notes" is not a customer field`) ||
		!strings.Contains(out, `line 2: would create "Acme Buyer GmbH"`) ||
		!strings.Contains(out, `took over customer`) ||
		!strings.Contains(out, "duplicate candidate:") ||
		!strings.Contains(out, "dry run, nothing changed: created 2, updated 0, unchanged 0, rejected 1") {
		t.Fatalf("dry run: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if after := status(); after["customers"] != before["customers"] || after["events"] != before["events"] {
		t.Errorf("dry run changed totals: %v -> %v", before, after)
	}

	out, _, _ = c.run("customers", "import", xlsx)
	if !strings.Contains(out, "created 2, updated 0, unchanged 0, rejected 1") || !strings.Contains(out, "matched 1 stored messages again") {
		t.Errorf("import: %s", out)
	}
	out, _, _ = c.run("customers", "import", xlsx)
	if !strings.Contains(out, "created 0, updated 0, unchanged 2, rejected 1") {
		t.Errorf("re-import: %s", out)
	}

	// The two rows are candidates (same name, same phone): merge them.
	out = c.mustRun("customers", "duplicates")
	var pair struct {
		A, B    struct{ ID int64 }
		Score   float64
		Reasons []struct{ Reason string }
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &pair) != nil || pair.Score < 0.75 || len(pair.Reasons) != 2 {
		t.Fatalf("duplicates: %q", out)
	}
	keep, other := strconv.FormatInt(pair.A.ID, 10), strconv.FormatInt(pair.B.ID, 10)
	var m struct {
		MergeID int64 `json:"merge_id"`
		Already bool  `json:"already_merged"`
		Moved   struct {
			DomainsMoved []string `json:"domains_moved"`
		} `json:"moved"`
	}
	json.Unmarshal([]byte(c.mustRun("customers", "merge", keep, other)), &m)
	if m.MergeID == 0 || m.Already || len(m.Moved.DomainsMoved) != 1 {
		t.Errorf("merge: %+v", m)
	}
	json.Unmarshal([]byte(c.mustRun("customers", "merge", keep, other)), &m)
	if !m.Already {
		t.Errorf("second merge is not reported as already done")
	}
	if _, errs, code := c.run("customers", "merge", keep, "x"); code == 0 || !strings.Contains(errs, `"x" is not a customer id`) {
		t.Errorf("bad id: %d %s", code, errs)
	}
	if strings.TrimSpace(c.mustRun("customers", "duplicates")) != "" {
		t.Errorf("duplicates after the merge")
	}

	var st struct {
		Messages, Added, Removed int
	}
	out = c.mustRun("rematch")
	json.Unmarshal([]byte(strings.ReplaceAll(strings.ReplaceAll(out, "events_added", "added"), "events_removed", "removed")), &st)
	if st.Messages != 1 || st.Added != 0 || st.Removed != 0 {
		t.Errorf("rematch: %s", out)
	}
	// The mail is on the imported customer's timeline.
	exp := c.mustRun("export", "events")
	if !strings.Contains(exp, `"name":"Acme Buyer GmbH"`) {
		t.Errorf("export after import and merge: %s", exp)
	}
}
