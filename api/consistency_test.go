package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/timeline"
)

// TestErrorsAreJSON: every failure is {"error": {"code", "message"}} with
// the right status; 400s name the parameter or field.
func TestErrorsAreJSON(t *testing.T) {
	f := newFixture(t, false)
	big := `{"name": "` + strings.Repeat("x", 70<<10) + `"}`
	huge := `{"to": "` + amy + `", "mapping": {"1": "` + strings.Repeat("x", 2<<20) + `"}}`
	for _, tc := range []struct {
		who, method, path, body string
		status                  int
		code, mention           string
		header                  []string
	}{
		{"admin", "DELETE", "/api/v1/customers", "", 405, "method_not_allowed", "GET, POST", nil},
		{"admin", "PUT", "/api/v1/customers/{Alpha}", "", 405, "method_not_allowed", "GET, PATCH", nil},
		{"admin", "POST", "/healthz", "", 405, "method_not_allowed", "GET", nil},
		{"admin", "GET", "/api/v2/customers", "", 404, "not_found", "/api/v2/customers", nil},
		{"admin", "GET", "/nothing-here", "", 404, "not_found", "/nothing-here", nil},
		{"", "GET", "/api/v1/nothing-here", "", 401, "unauthorized", "token", nil},
		{"admin", "GET", "/api/v1/customers?limit=0", "", 400, "invalid_parameter", "limit", nil},
		{"admin", "GET", "/api/v1/customers?limit=201", "", 400, "invalid_parameter", "limit", nil},
		{"admin", "GET", "/api/v1/customers?cursor=zz", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/customers/abc", "", 400, "invalid_parameter", "id", nil},
		{"admin", "GET", "/api/v1/customers/0/timeline", "", 400, "invalid_parameter", "id", nil},
		{"admin", "GET", "/api/v1/customers/{Alpha}/timeline?cursor=zz!", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/followups?cursor=zz", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/inquiries/unanswered?cursor=zz", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/pool?cursor=x1", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/pool?offset=100001", "", 400, "invalid_parameter", "offset", nil},
		{"admin", "GET", "/api/v1/customers/{Alpha}/merges?cursor=x", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/customers/{Alpha}/merges?limit=201", "", 400, "invalid_parameter", "limit", nil},
		{"admin", "GET", "/api/v1/mailboxes?cursor=!", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/reports/churn?cursor=MTox", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/rules/feedback?cursor=eDp5", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/customers/424242", "", 404, "not_found", "not found", nil},
		{"admin", "GET", "/api/v1/search", "", 400, "invalid_parameter", "q", nil},
		{"admin", "GET", "/api/v1/search?q=x&kind=memo", "", 400, "invalid_parameter", "kind", nil},
		{"admin", "GET", "/api/v1/search?q=x&cursor=bad", "", 400, "invalid_parameter", "cursor", nil},
		{"admin", "GET", "/api/v1/reps/not-an-address/handover", "", 400, "invalid_parameter", "email", nil},
		{"admin", "GET", "/api/v1/reps/" + amy + "/handover?format=pdf", "", 400, "invalid_parameter", "format", nil},
		{"admin", "GET", "/api/v1/reps/" + amy + "/handover?months=0", "", 400, "invalid_parameter", "months", nil},
		{"admin", "POST", "/api/v1/customers", `{}`, 400, "invalid_field", "name: required", nil},
		{"admin", "POST", "/api/v1/customers", ``, 400, "invalid_field", "body: empty", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "  "}`, 400, "invalid_field", "name: must not be empty", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": 5}`, 400, "invalid_field", "name: must be a string", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "grade": "Z"}`, 400, "invalid_field", "grade", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "owner": "nobody"}`, 400, "invalid_field", "owner", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "domains": ["ok.example", "not a domain"]}`, 400, "invalid_field", "domains[1]", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "domains": ["gmail.com"]}`, 400, "invalid_field", "domains[0]: gmail.com is a free-mail domain", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "contacts": [{"email": "bad"}]}`, 400, "invalid_field", "contacts[0].email", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "domains": "x.example"}`, 400, "invalid_field", "domains: must be an array", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X", "colour": "red"}`, 400, "invalid_field", "colour: unknown field", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X"} {"name": "Y"}`, 400, "invalid_field", "body", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X",`, 400, "invalid_field", "body", nil},
		{"admin", "POST", "/api/v1/customers", big, 413, "body_too_large", "too large", nil},
		{"admin", "POST", "/api/v1/reps/" + bob + "/handover", huge, 413, "body_too_large", "too large", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "X"}`, 415, "unsupported_media_type", "application/json", []string{"Content-Type", "text/plain"}},
		{"admin", "POST", "/api/v1/customers", `{"name": "alpha gmbh"}`, 409, "conflict", "name: alpha gmbh is already on customer", nil},
		{"admin", "POST", "/api/v1/customers", `{"name": "Y", "domains": ["Alpha.Example"]}`, 409, "conflict", "domains: alpha.example is already on customer", nil},
		{"admin", "PATCH", "/api/v1/customers/{Bravo}", `{"name": "Alpha GmbH"}`, 409, "conflict", "name", nil},
		{"admin", "PATCH", "/api/v1/customers/424242", `{"grade": "A"}`, 404, "not_found", "not found", nil},
		{"admin", "POST", "/api/v1/reps/" + bob + "/handover", `{}`, 400, "invalid_field", "to:", nil},
		{"admin", "POST", "/api/v1/reps/" + bob + "/handover", `{"to": "` + bob + `"}`, 400, "invalid_field", "to: is the departing rep", nil},
		{"admin", "POST", "/api/v1/reps/" + bob + "/handover", `{"mapping": {"abc": "` + amy + `"}}`, 400, "invalid_field", "mapping.abc", nil},
		{"admin", "POST", "/api/v1/reps/" + bob + "/handover", `{"mapping": {"{Alpha}": "` + bob + `x"}}`, 400, "invalid_field", "mapping.", nil},
		{"amy", "POST", "/api/v1/customers", `{"name": "X"}`, 403, "forbidden", "admin or manager", nil},
	} {
		body := tc.body
		for name, id := range f.ids {
			body = strings.ReplaceAll(body, "{"+name+"}", fmt.Sprint(id))
		}
		var r response
		if tc.header != nil {
			r = f.do(tc.who, tc.method, tc.path, body, tc.header...)
		} else {
			r = f.do(tc.who, tc.method, tc.path, body)
		}
		name := tc.method + " " + tc.path + " " + truncate(tc.body)
		if r.status != tc.status || r.errorCode() != tc.code || !strings.Contains(r.errorMessage(), tc.mention) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", name, r.status, truncate(string(r.body)), tc.status, tc.code, tc.mention)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if tc.status == 405 && r.header.Get("Allow") != tc.mention {
			t.Errorf("%s: Allow %q, want %q", name, r.header.Get("Allow"), tc.mention)
		}
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// TestCustomerWrites: create and update, normalized, audited.
func TestCustomerWrites(t *testing.T) {
	f := newFixture(t, false)
	r := f.do("manager", "POST", "/api/v1/customers", `{"name": " Echo Lighting Pty ", "grade": "a", "owner": "Amy@OurCo.Example",
		"domains": ["ECHO.example", "@echo-lighting.example", "echo.example"], "contacts": [{"email": "Buyer@Echo.Example", "name": "Kim"}]}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c timeline.Customer
	json.Unmarshal(r.body, &c)
	if c.Name != "Echo Lighting Pty" || c.Grade != "A" || c.Owner != amy || strings.Join(c.Domains, ",") != "echo-lighting.example,echo.example" ||
		strings.Join(c.Emails, ",") != "buyer@echo.example" || r.header.Get("Location") != fmt.Sprintf("/api/v1/customers/%d", c.ID) {
		t.Errorf("created %+v, Location %q", c, r.header.Get("Location"))
	}
	// Who last edited it, for re-matching, which keeps what a person touched.
	editedBy := func() string {
		var by string
		f.store.Pool.QueryRow(f.ctx, `SELECT coalesce(edited_by, '') FROM customers WHERE id = $1`, c.ID).Scan(&by)
		return by
	}
	if by := editedBy(); by != "api:manager" {
		t.Errorf("created customer edited by %q, want api:manager", by)
	}
	path := fmt.Sprintf("/api/v1/customers/%d", c.ID)
	// Absent fields stay; null clears the grade; lists replace.
	r = f.do("admin", "PATCH", path, `{"grade": null, "owner": "`+bob+`", "domains": ["echo.example"], "contacts": []}`)
	c = timeline.Customer{} // grade is left out when empty
	json.Unmarshal(r.body, &c)
	if r.status != 200 || c.Name != "Echo Lighting Pty" || c.Grade != "" || c.Owner != bob ||
		strings.Join(c.Domains, ",") != "echo.example" || len(c.Emails) != 0 {
		t.Errorf("patch: %d %+v", r.status, c)
	}
	changes, err := timeline.OwnerChanges(f.ctx, f.store.Pool, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []timeline.OwnerChange{
		{CustomerID: c.ID, OldOwner: "", NewOwner: amy, Via: "api", Actor: "manager"},
		{CustomerID: c.ID, OldOwner: amy, NewOwner: bob, Via: "api", Actor: "config-admin"},
	}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Errorf("owner changes %+v, want %+v", changes, want)
	}
	if by := editedBy(); by != "api:config-admin" {
		t.Errorf("patched customer edited by %q, want api:config-admin", by)
	}
	// A rename re-indexes the customer's events (search documents carry the name).
	var before, after int
	f.store.Pool.QueryRow(f.ctx, `SELECT count(*) FROM search_outbox`).Scan(&before)
	if r := f.do("admin", "PATCH", "/api/v1/customers/{Alpha}", `{"name": "Alpha Licht GmbH"}`); r.status != 200 {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
	f.store.Pool.QueryRow(f.ctx, `SELECT count(*) FROM search_outbox`).Scan(&after)
	if after-before != 2 {
		t.Errorf("rename queued %d events for re-indexing, want Alpha's 2", after-before)
	}
	// An empty patch changes nothing and still answers the customer.
	if r := f.do("admin", "PATCH", path, `{}`); r.status != 200 {
		t.Errorf("empty patch: %d %s", r.status, r.body)
	}
}
