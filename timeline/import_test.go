package timeline_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

const importCSV = `name,domains,emails,grade,owner,phone,country
Sunrise Trading LLC,sunrise-trading.ae,rashid@sunrise-trading.ae,B,amy@ourco.example,+971 4 352 8810,United Arab Emirates
Sunrise Trading L.L.C.,sunrise-trading.ae,accounts@sunrise-trading.ae,C,jason@ourco.example,+971 4 352 8811,United Arab Emirates
Broken Row Ltd,broken.example,,Z,amy@ourco.example,,UK
Acme Corp,WWW.ACME.example,,A,,,Germany
"Quoted, Name",,not-an-address,,,,
Lagos Brightpower,outlook.com,brightpower.ng@outlook.com,C,,,Nigeria
`

func (d *db) importRows(rows []timeline.SheetRow, dryRun bool) timeline.ImportReport {
	d.t.Helper()
	rep, err := d.store.ImportCustomers(d.ctx, rows, timeline.ImportOptions{
		Normalize: matcher.Normalize, Domain: matcher.CustomerDomain, FreeMail: matcher.DefaultFreeMail().Contains, DryRun: dryRun, Source: "test",
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return rep
}

func read(t *testing.T, b []byte) []timeline.SheetRow {
	t.Helper()
	rows, err := timeline.ReadCustomerFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// snapshot is everything an import may change, to tell that a dry run or
// a repeated import changed nothing.
func (d *db) snapshot() string {
	d.t.Helper()
	var s string
	err := d.store.Pool.QueryRow(d.ctx, `SELECT concat_ws(' | ',
		(SELECT string_agg(concat_ws(',', id, name, grade, owner, phone, country, auto_created, updated_at, edited_at, edited_by), ';' ORDER BY id) FROM customers),
		(SELECT string_agg(customer_id || domain, ';' ORDER BY customer_id, domain) FROM customer_domains),
		(SELECT string_agg(customer_id || email || learned, ';' ORDER BY customer_id, email) FROM contacts),
		(SELECT string_agg(id || ':' || customer_id, ';' ORDER BY id) FROM events),
		(SELECT count(*) FROM search_outbox), (SELECT count(*) FROM customer_merges),
		(SELECT string_agg(customer_a || '-' || customer_b || score, ';') FROM duplicate_candidates),
		(SELECT count(*) FROM rematch_queue))`).Scan(&s)
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

func TestImportCSV(t *testing.T) {
	d := newDB(t)
	// Mail came first: customers created from it for Acme (a subdomain
	// sender gave the registrable domain) and for the free-mail buyer.
	autoAcme, _, err := timeline.EnsureAuto(d.ctx, d.store.Pool, "domain:acme.example", "Acme", "amy@ourco.example")
	if err != nil {
		t.Fatal(err)
	}
	autoLagos, _, _ := timeline.EnsureAuto(d.ctx, d.store.Pool, "email:brightpower.ng@outlook.com", "Tunde", "jason@ourco.example")
	autoOther, _, _ := timeline.EnsureAuto(d.ctx, d.store.Pool, "email:someone@outlook.com", "Someone", "jason@ourco.example")
	mAcme := d.message("acme-1", "li@acme.example", autoAcme)
	d.message("lagos-1", "brightpower.ng@outlook.com", autoLagos)
	d.message("stray", "x@unrelated.example") // unmatched: queued by an import
	rows := read(t, []byte(importCSV))

	// A dry run says what would happen and changes nothing.
	before := d.snapshot()
	dry := d.importRows(rows, true)
	if after := d.snapshot(); after != before {
		t.Errorf("dry run changed the store:\nbefore %s\nafter  %s", before, after)
	}
	real := d.importRows(rows, false)
	dry.DryRun = false
	for i := range dry.TakenOver {
		dry.TakenOver[i].ID, dry.TakenOver[i].MergedAt = real.TakenOver[i].ID, real.TakenOver[i].MergedAt
	}
	for i := range dry.Rows { // ids of created customers differ: sequences do not roll back
		dry.Rows[i].CustomerID = real.Rows[i].CustomerID
		if i < len(dry.Duplicates) {
			dry.Duplicates[i].A.ID, dry.Duplicates[i].B.ID = real.Duplicates[i].A.ID, real.Duplicates[i].B.ID
			dry.Duplicates[i].FoundAt = real.Duplicates[i].FoundAt
		}
	}
	for i := range dry.TakenOver {
		dry.TakenOver[i].KeptID = real.TakenOver[i].KeptID
	}
	if fmt.Sprint(dry.Rows) != fmt.Sprint(real.Rows) || dry.Created != real.Created || dry.Updated != real.Updated ||
		len(dry.TakenOver) != len(real.TakenOver) || dry.Rematch != real.Rematch || len(dry.Duplicates) != len(real.Duplicates) {
		t.Errorf("dry run and import disagree:\ndry  %+v\nreal %+v", dry, real)
	}

	if real.Created != 3 || real.Updated != 1 || real.Unchanged != 0 || len(real.Errors) != 2 {
		t.Errorf("import = created %d updated %d unchanged %d errors %v", real.Created, real.Updated, real.Unchanged, real.Errors)
	}
	if !slices.Equal(real.Errors, []string{
		`line 4: grade: "Z" is not one of A, B, C, D, E`,
		`line 6: emails: "not-an-address" is not an address`,
	}) {
		t.Errorf("errors = %q", real.Errors)
	}
	// The two Sunrise rows are one customer: the first row's fields, both
	// addresses.
	sunrise := real.Rows[0].CustomerID
	if real.Rows[1].CustomerID != sunrise || real.Rows[1].Action != timeline.RowUpdated ||
		!strings.Contains(real.Rows[1].MatchedBy, "domain sunrise-trading.ae") {
		t.Errorf("second Sunrise row: %+v", real.Rows[1])
	}
	c, _ := timeline.GetCustomer(d.ctx, d.store.Pool, sunrise)
	if c.Name != "Sunrise Trading LLC" || c.Grade != "B" || c.Owner != "amy@ourco.example" ||
		!slices.Equal(c.Emails, []string{"accounts@sunrise-trading.ae", "rashid@sunrise-trading.ae"}) {
		t.Errorf("Sunrise = %+v", c)
	}
	// Acme and Lagos took over their customers from mail, whose mail
	// moved; the other outlook.com buyer is left alone (free-mail domain).
	acme := real.Rows[3].CustomerID
	lagos := real.Rows[5].CustomerID
	var kept []int64
	for _, m := range real.TakenOver {
		kept = append(kept, m.MergedID)
	}
	if !slices.Equal(kept, []int64{autoAcme, autoLagos}) {
		t.Errorf("taken over %v, want %v", kept, []int64{autoAcme, autoLagos})
	}
	if got := d.ids(`SELECT customer_id FROM events WHERE message_id = $1`, mAcme); !slices.Equal(got, []int64{acme}) {
		t.Errorf("Acme's mail is on %v, want %d", got, acme)
	}
	if d.count(`SELECT count(*) FROM customers WHERE id = $1`, autoOther) != 1 {
		t.Errorf("an unrelated outlook.com buyer was taken over")
	}
	if !slices.ContainsFunc(real.Rows[5].Notes, func(n string) bool { return strings.Contains(n, "outlook.com is free-mail") }) {
		t.Errorf("no note on the free-mail domain: %v", real.Rows[5].Notes)
	}
	if _, _, ok, _ := timeline.Redirect(d.ctx, d.store.Pool, autoLagos); !ok {
		t.Errorf("taken-over customer does not redirect")
	}
	if real.Rematch != 3 || len(real.Duplicates) != 0 {
		t.Errorf("queued %d messages (want 3: Acme's, Lagos's, the unmatched one), duplicates %v", real.Rematch, real.Duplicates)
	}
	_ = lagos

	// The same file again changes nothing.
	d.store.Pool.Exec(d.ctx, `DELETE FROM rematch_queue`)
	before = d.snapshot()
	again := d.importRows(rows, false)
	if after := d.snapshot(); after != before {
		t.Errorf("second import changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if again.Created != 0 || again.Updated != 0 || again.Unchanged != 4 || len(again.Errors) != 2 || again.Rematch != 0 {
		t.Errorf("second import = %+v", again)
	}

	// A new list matched by domain or address updates, not duplicates.
	rows = read(t, []byte("name,domains,emails,grade,owner,phone,country\n"+
		"Sunrise Trading Co,,accounts@sunrise-trading.ae,A,,,\n"+
		"ACME Corporation,acme.example,,,Amy Zhang <Amy@OurCo.example>,+49 1234567,\n"))
	upd := d.importRows(rows, false)
	if upd.Created != 0 || upd.Updated != 2 || upd.Rows[0].CustomerID != sunrise || upd.Rows[1].CustomerID != acme ||
		upd.Rows[0].MatchedBy != "email accounts@sunrise-trading.ae" {
		t.Errorf("update by address and domain = %+v", upd.Rows)
	}
	c, _ = timeline.GetCustomer(d.ctx, d.store.Pool, acme)
	if c.Name != "ACME Corporation" || c.Grade != "A" || c.Phone != "+49 1234567" || c.Country != "Germany" {
		t.Errorf("Acme after update = %+v: a blank cell keeps the value", c)
	}
	if c.Owner != "amy@ourco.example" {
		t.Errorf("owner cell %q stored as %q, want the normalized address", "Amy Zhang <Amy@OurCo.example>", c.Owner)
	}
	// Each customer a row changed is marked as edited by that row.
	if got := d.ids(`SELECT id FROM customers WHERE edited_by = 'import test line 2'`); !slices.Equal(got, []int64{sunrise}) {
		t.Errorf("customers edited by line 2: %v, want %d", got, sunrise)
	}
	if got := d.ids(`SELECT id FROM customers WHERE edited_by = 'import test line 3'`); !slices.Equal(got, []int64{acme}) {
		t.Errorf("customers edited by line 3: %v, want %d", got, acme)
	}

	// Every owner an import sets is in the ownership audit trail.
	d.importRows(read(t, []byte("name,domains,emails,grade,owner,phone,country\nSunrise Trading LLC,sunrise-trading.ae,,,jason@ourco.example,,\n")), false)
	changes, err := timeline.OwnerChanges(d.ctx, d.store.Pool, sunrise)
	if err != nil {
		t.Fatal(err)
	}
	want := []timeline.OwnerChange{
		{CustomerID: sunrise, OldOwner: "", NewOwner: "amy@ourco.example", Via: "import", Actor: "import test line 2"},
		{CustomerID: sunrise, OldOwner: "amy@ourco.example", NewOwner: "jason@ourco.example", Via: "import", Actor: "import test line 2"},
	}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("owner changes of Sunrise:\n got %+v\nwant %+v", changes, want)
	}
	if n := d.count(`SELECT count(*) FROM owner_changes WHERE customer_id = $1 AND via = 'import'`, acme); n != 0 {
		t.Errorf("Acme has %d owner changes by import, and no row set its owner (the takeover did)", n)
	}
}

func TestImportXLSX(t *testing.T) {
	d := newDB(t)
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	cells := [][]any{
		{" Name ", "Domains", "Emails", "Grade", "Owner", "Phone", "Country"},
		{"Hoffmann Lichttechnik GmbH", "hoffmann-licht.de", "einkauf@hoffmann-licht.de", "A", "kevin@ourco.example", 4989218044, "Germany"},
		{},
		{"  Kiwi Electrical  ", " www.kiwielectrical.co.nz ; kiwi.example ", "", "d"}, // short row, padded; the web site's www. dropped
		{"Bad Domain Ltd", "not a domain", "", "", "", "", ""},
		{"Schöne Leuchten KG", "schöne-leuchten.de", "", "C", "", "", "Germany"},
	}
	for i, row := range cells {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			f.SetCellValue(sheet, cell, v)
		}
	}
	f.NewSheet("Ignored") // only the first sheet is read
	f.SetCellValue("Ignored", "A1", "whatever")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rows := read(t, buf.Bytes())
	if len(rows) != 4 || rows[0].Line != 2 || rows[1].Line != 4 || rows[2].Line != 5 {
		t.Fatalf("rows = %+v", rows)
	}
	rep := d.importRows(rows, false)
	if rep.Created != 3 || !slices.Equal(rep.Errors, []string{`line 5: domains: "not a domain" is not a domain`}) {
		t.Errorf("XLSX import = created %d, errors %q", rep.Created, rep.Errors)
	}
	kiwi, _ := timeline.GetCustomer(d.ctx, d.store.Pool, rep.Rows[1].CustomerID)
	if kiwi.Name != "Kiwi Electrical" || kiwi.Grade != "D" || !slices.Equal(kiwi.Domains, []string{"kiwi.example", "kiwielectrical.co.nz"}) {
		t.Errorf("Kiwi = %+v", kiwi)
	}
	hoff, _ := timeline.GetCustomer(d.ctx, d.store.Pool, rep.Rows[0].CustomerID)
	if hoff.Phone != "4989218044" {
		t.Errorf("numeric phone cell = %q", hoff.Phone)
	}
	schoene, _ := timeline.GetCustomer(d.ctx, d.store.Pool, rep.Rows[3].CustomerID)
	if len(schoene.Domains) != 1 || !strings.HasPrefix(schoene.Domains[0], "xn--schne-leuchten-") {
		t.Errorf("IDN domain stored as %v, want punycode", schoene.Domains)
	}
	// Importing the workbook again changes nothing.
	before := d.snapshot()
	if again := d.importRows(rows, false); again.Unchanged != 3 || d.snapshot() != before {
		t.Errorf("second XLSX import = %+v", again)
	}

	// Files that are not a customer list are refused with the reason.
	for name, b := range map[string][]byte{
		"old xls":    {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1},
		"bad header": []byte("colour,size\nx,y\n"),
		"empty":      nil,
	} {
		if _, err := timeline.ReadCustomerFile(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	empty := excelize.NewFile()
	buf.Reset()
	empty.Write(&buf)
	if _, err := timeline.ReadCustomerFile(&buf); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty workbook: %v", err)
	}
}

// A sheet's own headings, in its own order, fill the customer fields;
// other columns are ignored with a warning; a missing name column or one
// field given twice is an error naming the columns.
func TestImportHeaders(t *testing.T) {
	d := newDB(t)
	const header = "Website,Company,E-Mail,Notes,Tel,Mobile,Sales Rep,Level,国家"
	csv := header + "\n" +
		"https://www.acme.example/,Acme Corp,li@acme.example,call back,+49 89 1234567,+49 170 1234567,Amy <amy@ourco.example>,b,Germany\n" +
		"kiwi.example,Kiwi Electrical,,,,,,,\n" +
		"short.example,Short Row\n"
	xlsx := func(rows ...[]any) []byte {
		f := excelize.NewFile()
		for i, row := range rows {
			for j, v := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				f.SetCellValue(f.GetSheetName(0), cell, v)
			}
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	sheet := xlsx(
		[]any{"ＣＯＭＰＡＮＹ", "domain", "Contact Email", "rating", "salesperson", "telephone", "Country"},
		[]any{"Hoffmann Lichttechnik GmbH", "www.hoffmann-licht.de", "einkauf@hoffmann-licht.de", "A", "kevin@ourco.example", 4989218044, "Germany", "", "stray"},
	)
	for _, tc := range []struct {
		name     string
		file     []byte
		fields   [][]string
		errs     []string
		warnings []string
	}{
		{"csv", []byte(csv), [][]string{
			{"Acme Corp", "https://www.acme.example/", "li@acme.example", "b", "Amy <amy@ourco.example>", "+49 89 1234567; +49 170 1234567", "Germany"},
			{"Kiwi Electrical", "kiwi.example", "", "", "", "", ""},
			{"Short Row", "short.example", "", "", "", "", ""},
		}, []string{"", "", "2 fields, want 9"}, []string{`line 1: column 4 "Notes" is not a customer field`}},
		{"xlsx", sheet, [][]string{
			{"Hoffmann Lichttechnik GmbH", "www.hoffmann-licht.de", "einkauf@hoffmann-licht.de", "A", "kevin@ourco.example", "4989218044", "Germany"},
		}, []string{""}, []string{`XLSX sheet "Sheet1": column I has values (row 2) but no heading: ignored`}},
	} {
		rows, warnings, err := timeline.ReadCustomerSheet(bytes.NewReader(tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(rows) != len(tc.fields) {
			t.Fatalf("%s: rows %+v", tc.name, rows)
		}
		for i, r := range rows {
			errOK := (r.Err == nil) == (tc.errs[i] == "") && (r.Err == nil || strings.Contains(r.Err.Error(), tc.errs[i]))
			if !slices.Equal(r.Fields, tc.fields[i]) || !errOK {
				t.Errorf("%s row %d = %q, %v; want %q, %q", tc.name, i, r.Fields, r.Err, tc.fields[i], tc.errs[i])
			}
		}
		if len(warnings) != len(tc.warnings) {
			t.Errorf("%s: warnings %q, want %q", tc.name, warnings, tc.warnings)
		}
		for i := range min(len(warnings), len(tc.warnings)) {
			if !strings.Contains(warnings[i], tc.warnings[i]) {
				t.Errorf("%s: warning %q, want one containing %q", tc.name, warnings[i], tc.warnings[i])
			}
		}
	}

	rows := read(t, []byte(csv))
	rep := d.importRows(rows, false)
	if rep.Created != 2 || len(rep.Errors) != 1 {
		t.Errorf("import = %+v", rep)
	}
	c, _ := timeline.GetCustomer(d.ctx, d.store.Pool, rep.Rows[0].CustomerID)
	if c.Name != "Acme Corp" || !slices.Equal(c.Domains, []string{"acme.example"}) || !slices.Equal(c.Emails, []string{"li@acme.example"}) ||
		c.Grade != "B" || c.Owner != "amy@ourco.example" || c.Phone != "+49 89 1234567; +49 170 1234567" || c.Country != "Germany" {
		t.Errorf("Acme from a sheet with its own headings = %+v", c)
	}
	rep = d.importRows(read(t, sheet), false)
	c, _ = timeline.GetCustomer(d.ctx, d.store.Pool, rep.Rows[0].CustomerID)
	if rep.Created != 1 || c.Owner != "kevin@ourco.example" || c.Grade != "A" || !slices.Equal(c.Domains, []string{"hoffmann-licht.de"}) {
		t.Errorf("Hoffmann from an XLSX with its own headings = %+v (%+v)", c, rep)
	}

	for name, tc := range map[string]struct {
		file []byte
		want string
	}{
		"no name":         {[]byte("Domain,E-mail\nx.example,a@x.example\n"), `line 1: header "Domain,E-mail" has no name column`},
		"name twice":      {[]byte("Company,Customer,Domain\nA,B,x.example\n"), `line 1: column 1 "Company" and column 2 "Customer" are both the name column`},
		"grade twice":     {[]byte("name,grade,level\nA,B,C\n"), `column 2 "grade" and column 3 "level" are both the grade column`},
		"xlsx no name":    {xlsx([]any{"Website", "Tel"}, []any{"x.example", "1234567"}), `XLSX sheet "Sheet1" row 1: header "Website,Tel" has no name column`},
		"xlsx name twice": {xlsx([]any{"客户名称", "Country", "Company"}), `XLSX sheet "Sheet1" row 1: column A "客户名称" and column C "Company" are both the name column`},
	} {
		if _, _, err := timeline.ReadCustomerSheet(bytes.NewReader(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
