package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// listWalk is one list endpoint as TestPagination walks it.
type listWalk struct {
	route string // the route as registered, "GET /api/v1/..."
	path  string // a request of it; may use {Name} placeholders
	list  string // the answer's array that is paged
	key   string // what names an item: a field, "a.id" for a nested one, "a.id+b.id" for several
	limit int    // the walk's page size: below the list's length, so that it takes several pages
	// offset: the list paged by offset before it had cursors, and still
	// takes offset as a deprecated alias.
	offset bool
}

// listWalks are the list endpoints TestPagination walks, over the data
// pagingExtras adds to the fixture.
var listWalks = []listWalk{
	{"GET /api/v1/customers", "/api/v1/customers", "customers", "id", 3, false},
	{"GET /api/v1/customers/{id}/timeline", "/api/v1/customers/{Charlie}/timeline", "events", "event_id", 1, false},
	{"GET /api/v1/customers/{id}/threads", "/api/v1/customers/{Alpha}/threads", "threads", "thread_id", 1, false},
	{"GET /api/v1/threads/{id}", "/api/v1/threads/{CharlieThread}", "events", "event_id", 1, false},
	{"GET /api/v1/customers/duplicates", "/api/v1/customers/duplicates", "duplicates", "a.id+b.id", 4, false},
	{"GET /api/v1/search", "/api/v1/search?q=panel", "hits", "event_id", 2, true},
	{"GET /api/v1/followups", "/api/v1/followups", "followups", "customer_id", 1, true},
	{"GET /api/v1/inquiries/unanswered", "/api/v1/inquiries/unanswered?since=2026-01-01", "inquiries", "event_id", 1, true},
	{"GET /api/v1/pool", "/api/v1/pool", "customers", "customer_id", 2, true},
	{"GET /api/v1/customers/{id}/merges", "/api/v1/customers/{Alpha}/merges", "merges", "merge_id", 2, false},
	{"GET /api/v1/mailboxes", "/api/v1/mailboxes", "mailboxes", "rep", 2, false},
	{"GET /api/v1/reports/churn", "/api/v1/reports/churn?min_expected=0.1", "customers", "customer_id", 1, false},
	{"GET /api/v1/rules/feedback", "/api/v1/rules/feedback", "rules", "rule", 1, false},
}

// notPaged are the GET routes whose answers hold arrays that are not
// lists to page, and why. Every other route answering an array is a list,
// and TestEveryListPages holds it to cursor paging.
var notPaged = map[string]string{
	"GET /api/v1/customers/{id}":        "one customer: its domains and addresses are part of it",
	"GET /api/v1/status":                "the daemon's state in one snapshot, as `mailtrail status` prints it; /api/v1/mailboxes pages the mailboxes",
	"GET /api/v1/reps/{email}/handover": "one report, also rendered as Markdown and HTML, that a manager reads whole",
	"GET /api/v1/reports/funnel":        "sums per rep and per month over the period asked for",
}

// TestEveryListPages: every GET route whose answer holds an array is
// walked by TestPagination or named in notPaged with a reason, and every
// list is described as paged: limit and cursor parameters, next_cursor in
// the answer, and offset only where it was before, marked deprecated.
func TestEveryListPages(t *testing.T) {
	doc := openAPIDoc(t)
	walked := map[string]listWalk{}
	for _, w := range listWalks {
		walked[w.route] = w
	}
	routes := New(nil, nil, nil, nil).Routes()
	for route := range notPaged {
		if !slices.Contains(routes, route) {
			t.Errorf("notPaged names %s, which is not a route", route)
		}
	}
	for _, route := range routes {
		method, _, _ := strings.Cut(route, " ")
		if method != "GET" {
			continue
		}
		schema := resolveSchema(doc, responseSchema(t, doc, route, 200))
		props, _ := schema["properties"].(map[string]any)
		var arrays []string
		for name, p := range props {
			if slices.Contains(typesOf(p.(map[string]any)), "array") {
				arrays = append(arrays, name)
			}
		}
		w, isWalked := walked[route]
		_, exempt := notPaged[route]
		switch {
		case isWalked && exempt:
			t.Errorf("%s is both walked and in notPaged", route)
		case exempt || len(arrays) == 0 && !isWalked:
			continue
		case !isWalked:
			t.Errorf("%s answers arrays %v but TestPagination does not walk it: add it to listWalks, or to notPaged with a reason", route, arrays)
			continue
		}
		if req, _ := schema["required"].([]any); !slices.Contains(req, any("next_cursor")) || !slices.Contains(arrays, w.list) {
			t.Errorf("%s: the 200 answer must require next_cursor beside the array %q", route, w.list)
		}
		item, op := operation(doc, route)
		params := parameters(doc, item, op, "query")
		if params["limit"] == nil || params["cursor"] == nil {
			t.Errorf("%s: limit and cursor must be described", route)
		}
		if off := params["offset"]; w.offset != (off != nil) || off != nil && off["deprecated"] != true {
			t.Errorf("%s: offset described as %v; it must be there, deprecated, exactly on the lists that had it (%v)", route, off, w.offset)
		}
	}
}

// withQuery appends a query parameter to path.
func withQuery(path, param string) string {
	if strings.Contains(path, "?") {
		return path + "&" + param
	}
	return path + "?" + param
}

// itemKey names an item of a list by the fields of key.
func itemKey(item map[string]any, key string) string {
	var parts []string
	for _, field := range strings.Split(key, "+") {
		var v any = item
		for _, name := range strings.Split(field, ".") {
			m, _ := v.(map[string]any)
			v = m[name]
		}
		parts = append(parts, fmt.Sprint(v))
	}
	return strings.Join(parts, "+")
}

// walk follows next_cursor from path until it is null and returns the
// items of every page in order, and the number of pages.
func (f *fixture) walk(t *testing.T, path, list, key string) (items []string, pages int) {
	t.Helper()
	next := path
	for pages < 100 {
		r := f.do("admin", "GET", next, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", next, r.status, r.body)
		}
		pages++
		v := r.json(t)
		page, ok := v[list].([]any)
		if !ok {
			t.Fatalf("%s: no array %q in %s", next, list, r.body)
		}
		for _, it := range page {
			items = append(items, itemKey(it.(map[string]any), key))
		}
		cursor, isString := v["next_cursor"].(string)
		if c, present := v["next_cursor"]; !present || (c != nil && !isString) {
			t.Fatalf("%s: next_cursor %v, want a string or null", next, c)
		}
		if !isString {
			return items, pages
		}
		next = withQuery(path, "cursor="+cursor)
	}
	t.Fatalf("%s: no end after %d pages", path, pages)
	return nil, 0
}

// TestPagination walks every list endpoint with a small limit: the pages
// together are the unpaged list (one page at the largest limit), in its
// order, with no item twice and none left out.
func TestPagination(t *testing.T) {
	f := newFixture(t, true)
	f.pagingExtras()
	for _, w := range listWalks {
		whole, pages := f.walk(t, withQuery(w.path, "limit=200"), w.list, w.key)
		if pages != 1 {
			t.Errorf("%s: %d pages at limit 200, want the whole list in one", w.path, pages)
		}
		if len(whole) <= w.limit {
			t.Errorf("%s: %d items, want more than the walk's limit %d so that it pages: %v", w.path, len(whole), w.limit, whole)
		}
		if dup := duplicates(whole); len(dup) > 0 {
			t.Errorf("%s: the unpaged list repeats %v", w.path, dup)
		}
		paged, pages := f.walk(t, withQuery(w.path, fmt.Sprintf("limit=%d", w.limit)), w.list, w.key)
		if !slices.Equal(paged, whole) {
			t.Errorf("%s by %d: %v, want %v (repeated: %v, missing: %v)", w.path, w.limit, paged, whole,
				duplicates(paged), missing(whole, paged))
		}
		if want := (len(whole) + w.limit - 1) / w.limit; pages < want {
			t.Errorf("%s by %d: %d pages for %d items", w.path, w.limit, pages, len(whole))
		}
		if !w.offset || len(whole) < 2 {
			continue
		}
		// The deprecated offset still skips rows, and next_cursor goes on
		// from there although the walk keeps offset in its URL.
		from := withQuery(w.path, fmt.Sprintf("offset=1&limit=%d", w.limit))
		if got, _ := f.walk(t, from, w.list, w.key); !slices.Equal(got, whole[1:]) {
			t.Errorf("%s, then by cursor: %v, want %v", from, got, whole[1:])
		}
	}
}

// TestChurnPagesShareTheirTime: the churn report's cursor keeps the first
// page's time, so that every page ranks by the same windows.
func TestChurnPagesShareTheirTime(t *testing.T) {
	f := newFixture(t, false)
	ago := time.Now().Add(-100 * 24 * time.Hour).Truncate(time.Second)
	f.mail("Alpha", amy, "in", "email", "buyer@alpha.example", "News from Alpha", ago)
	f.mail("Bravo", bob, "in", "email", "boss@bravo.example", "News from Bravo", ago)
	path := "/api/v1/reports/churn?min_expected=0.1&limit=1"
	var first string
	pages := 0
	for next := path; next != ""; pages++ {
		v := f.do("admin", "GET", next, "").json(t)
		at, _ := v["at"].(string)
		if first == "" {
			first = at
		}
		if at != first || pages > 3 {
			t.Fatalf("page %d: at %s, want the first page's %s", pages+1, at, first)
		}
		next = ""
		if c, ok := v["next_cursor"].(string); ok {
			next = path + "&cursor=" + c
		}
	}
	if pages < 2 {
		t.Errorf("%s: %d page, want several", path, pages)
	}
}

// duplicates returns the items that occur more than once.
func duplicates(xs []string) []string {
	seen := map[string]int{}
	var out []string
	for _, x := range xs {
		if seen[x]++; seen[x] == 2 {
			out = append(out, x)
		}
	}
	return out
}

// missing returns the items of want that got lacks.
func missing(want, got []string) []string {
	var out []string
	for _, x := range want {
		if !slices.Contains(got, x) {
			out = append(out, x)
		}
	}
	return out
}

// pagingExtras adds to accessExtras' data enough items to every list for
// it to take several pages, with ties in each list's order, where a
// cursor on the first sort key alone would skip or repeat items:
//
//	customers Golf and Hotel:  the same phone as Echo and Foxtrot, so six duplicate pairs of equal score
//	Bravo and Delta:           created at the same time, neither written to: due for a follow-up at the same time
//	Delta and Golf:            inquiries nobody answered, Delta's at the same time as Bravo's
//	Delta, Echo ... Hotel:     no owner, so in the pool
//	India, Juliet, Kilo:       merged into Alpha
//	carol+test@ourco.example:  a third mailbox, after amy's and bob's
//	Alpha, Bravo, Charlie:     mail 100 days ago and none since: Alpha's shortfall first, Bravo's and Charlie's equal
//	three rules corrected:     two disagreed with once each, one agreed with
func (f *fixture) pagingExtras() {
	f.t.Helper()
	f.accessExtras()
	for _, name := range []string{"Golf Trading", "Hotel Trading"} {
		f.customer(name, "", "+1 555 0100")
	}
	if _, err := timeline.ScanDuplicates(f.ctx, f.store.Pool, func(string) bool { return false }); err != nil {
		f.t.Fatal(err)
	}
	f.ids["CharlieThread"] = f.threadOf("Charlie", "Samples of the LED panel")
	if _, err := f.store.Pool.Exec(f.ctx, `UPDATE customers SET created_at = '2026-03-01T08:00:00Z' WHERE id = ANY($1)`,
		[]int64{f.ids["Bravo"], f.ids["Delta"]}); err != nil {
		f.t.Fatal(err)
	}
	for _, name := range []string{"India Lights", "Juliet Lights", "Kilo Lights"} {
		from := f.customer(name, "", "")
		if err := f.store.InTx(f.ctx, func(tx pgx.Tx) error {
			_, err := timeline.MergeCustomers(f.ctx, tx, f.ids["Alpha"], from, "test")
			return err
		}); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := timeline.EnsureMailbox(f.ctx, f.store.Pool, "carol+test@ourco.example", "imap.ourco.example", "carol"); err != nil {
		f.t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // the fixture's day
	f.mail("Delta", amy, "in", "inquiry", "buyer@delta.example", "RFQ LED panel for Delta", day)
	f.mail("Golf", bob, "in", "inquiry", "buyer@golf.example", "RFQ LED panel for Golf", day.Add(time.Hour))
	ago := time.Now().Add(-100 * 24 * time.Hour).Truncate(time.Second)
	f.mail("Alpha", amy, "in", "email", "buyer@alpha.example", "News from Alpha", ago)
	f.mail("Alpha", amy, "in", "email", "buyer@alpha.example", "More news from Alpha", ago.Add(-24*time.Hour))
	f.mail("Bravo", bob, "in", "email", "boss@bravo.example", "News from Bravo", ago)
	f.mail("Charlie", amy, "in", "email", "ops@charlie.example", "News from Charlie", ago.Add(-48*time.Hour))
	for _, c := range []struct{ customer, subject, rule, kind string }{
		{"Alpha", "Quotation LED panel", "quote.subject", "email"},
		{"Charlie", "Samples of the LED panel", "email.default", "quote"},
		{"Charlie", "Re: Samples of the LED panel", "email.fallback", "email"},
	} {
		var event int64
		if err := f.store.Pool.QueryRow(f.ctx, `UPDATE events e SET rule = $3 FROM messages m
			WHERE m.id = e.message_id AND e.customer_id = $1 AND m.subject = $2 RETURNING e.id`,
			f.ids[c.customer], c.subject, c.rule).Scan(&event); err != nil {
			f.t.Fatalf("rule of %s's %q: %v", c.customer, c.subject, err)
		}
		if r := f.do("admin", "PATCH", fmt.Sprintf("/api/v1/events/%d", event), `{"kind": "`+c.kind+`"}`); r.status != 200 {
			f.t.Fatalf("correct %s's %q: %d %s", c.customer, c.subject, r.status, r.body)
		}
	}
}

// customer adds a customer, its domain made of its name's first word,
// which names it in f.ids.
func (f *fixture) customer(name, owner, phone string) int64 {
	f.t.Helper()
	short := strings.Fields(name)[0]
	id, _, _, err := timeline.UpsertCustomer(f.ctx, f.store.Pool, timeline.CustomerInput{
		Name: name, Owner: owner, Phone: phone, Domains: []string{strings.ToLower(short) + ".example"}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.ids[short] = id
	return id
}

// threadOf returns the thread of a customer's mail with subject.
func (f *fixture) threadOf(customer, subject string) int64 {
	f.t.Helper()
	var thread *int64
	err := f.store.Pool.QueryRow(f.ctx, `SELECT e.thread_id FROM events e JOIN messages m ON m.id = e.message_id
		WHERE e.customer_id = $1 AND m.subject = $2`, f.ids[customer], subject).Scan(&thread)
	if err != nil || thread == nil {
		f.t.Fatalf("thread of %s's %q: %v (thread %v)", customer, subject, err, thread)
	}
	return *thread
}
