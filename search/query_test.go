package search

import (
	"strings"
	"testing"
	"time"
)

func TestSearchLanguages(t *testing.T) {
	e := newEnv(t)
	acme := e.customer("ACME Pumps Ltd")
	sz := e.customer("深圳华强电子有限公司")
	tw := e.customer("台灣精密機械股份有限公司")
	ru := e.customer("ООО Ромашка")
	jp := e.customer("株式会社サンプル")

	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	en := e.event(fixture{Customer: acme, Kind: "inquiry", At: t0,
		Subject: "Inquiry: 500 centrifugal pumps",
		Body:    "Hello, please send your best price for 500 centrifugal pumps, model CP-200, FOB Ningbo.",
		From:    []addr{{Name: "John Smith", Email: "john@acme.example"}}, Attachments: []string{"RFQ-2025-031.pdf"}})
	zhs := e.event(fixture{Customer: sz, Kind: "quote", Direction: "out", At: t0.Add(time.Hour),
		Subject: "报价单 - 离心泵 CP-200",
		Body:    "王经理您好，附件是离心泵的报价单，请查收。交货期为三十天。"})
	zht := e.event(fixture{Customer: tw, At: t0.Add(2 * time.Hour),
		Subject: "關於報價的問題",
		Body:    "陳先生您好，請參考附件報價單，我們的交貨期是四十天。"})
	rus := e.event(fixture{Customer: ru, At: t0.Add(3 * time.Hour),
		Subject: "Коммерческое предложение на насосы",
		Body:    "Добрый день! Просим направить коммерческое предложение на центробежные насосы."})
	jap := e.event(fixture{Customer: jp, At: t0.Add(4 * time.Hour),
		Subject: "お見積書の送付について",
		Body:    "いつもお世話になっております。ポンプのお見積書をお送りいたします。"})

	if got := e.backlog(); got != 5 {
		t.Fatalf("backlog = %d, want 5", got)
	}
	if n := e.drain(e.ix); n != 5 {
		t.Fatalf("drained %d rows, want 5", n)
	}
	if got := e.backlog(); got != 0 {
		t.Fatalf("backlog after drain = %d, want 0", got)
	}

	for _, c := range []struct {
		q    string
		want []int64
	}{
		{"pumps", []int64{en}},
		{"centrifugal", []int64{en}},
		{"john@acme.example", []int64{en}}, // from
		{"RFQ-2025-031", []int64{en}},      // attachment name
		{"ACME", []int64{en}},              // customer name
		{"报价", []int64{zhs, zht}},          // prefix of 报价单; traditional via the fold
		{"报价单", []int64{zhs, zht}},
		{"報價", []int64{zhs, zht}},  // traditional query finds simplified too
		{"交货期", []int64{zhs, zht}}, // 交貨期 folds to 交货期
		{"深圳华强", []int64{zhs}},
		{"насосы", []int64{rus}},
		{"насос", []int64{rus}}, // prefix
		{"Ромашка", []int64{rus}},
		{"見積書", []int64{jap}},
		{"お見積書", []int64{jap}},
	} {
		e.wantIDs(Query{Q: c.q}, c.want...)
	}

	// An empty query lists everything, newest first.
	hits, total, err := e.ix.Search(e.ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 5 || len(hits) != 5 || hits[0].EventID != jap || hits[4].EventID != en {
		t.Errorf("empty query: total %d, hits %+v", total, hits)
	}

	// Hit fields and the snippet.
	hits, _, err = e.ix.Search(e.ctx, Query{Q: "pumps"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("pumps: %v %+v", err, hits)
	}
	h := hits[0]
	if h.CustomerID != acme || h.CustomerName != "ACME Pumps Ltd" || h.Kind != "inquiry" || h.Direction != "in" ||
		h.Rep != "rep@example.com" || h.From != "John Smith <john@acme.example>" || !h.OccurredAt.Equal(t0) {
		t.Errorf("hit = %+v", h)
	}
	if !strings.Contains(h.Snippet, "<mark>pumps</mark>") {
		t.Errorf("snippet %q has no highlighted match", h.Snippet)
	}
}

func TestSearchSnippetIsEscaped(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Evil Corp")
	e.event(fixture{Customer: c, Subject: "hello",
		Body: "<script>alert(1)</script> please quote \uE000fake\uE001 widgets & \"gadgets\""})
	e.event(fixture{Customer: c, Subject: "Empty <b>body</b> widgets", Body: ""})
	e.drain(e.ix)
	hits, _, err := e.ix.Search(e.ctx, Query{Q: "widgets"})
	if err != nil || len(hits) != 2 {
		t.Fatalf("%v %+v", err, hits)
	}
	for _, h := range hits {
		if strings.Contains(h.Snippet, "<script") || strings.Contains(h.Snippet, "<b>") {
			t.Errorf("snippet not escaped: %q", h.Snippet)
		}
		if strings.Count(h.Snippet, "<mark>") != strings.Count(h.Snippet, "</mark>") {
			t.Errorf("unbalanced marks: %q", h.Snippet)
		}
		t.Logf("snippet: %s", h.Snippet)
	}
}

func TestSearchFilters(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.customer("Alpha"), e.customer("Beta"), e.customer("Gamma")
	// Reps that try to break out of the quoted filter value, and the
	// victims they would reach if they did.
	hostile := []string{
		`x" OR rep = "y`,
		`x\" OR rep = "y`,
		`x\\" OR rep = "y`,
		`x\`,
		`"`,
		`\`,
		`' OR 1=1 --`,
		"line\nbreak\" OR rep = \"y",
		`) OR (rep = "y"`,
		`x" OR customer_id IN [1, 2, 3] OR rep = "`,
	}
	y := e.event(fixture{Customer: a, Rep: "y", Subject: "widgets"})
	anna := e.event(fixture{Customer: b, Rep: "anna@seller.example", Subject: "widgets", Kind: "quote"})
	bob := e.event(fixture{Customer: c, Rep: "bob@seller.example", Subject: "widgets"})
	byRep := map[string]int64{}
	for _, r := range hostile {
		byRep[r] = e.event(fixture{Customer: c, Rep: r, Subject: "gadgets"})
	}
	e.drain(e.ix)

	e.wantIDs(Query{Q: "widgets", CustomerIDs: []int64{a}}, y)
	e.wantIDs(Query{Q: "widgets", CustomerIDs: []int64{a, b}}, y, anna)
	e.wantIDs(Query{Q: "widgets", CustomerIDs: []int64{999}})
	e.wantIDs(Query{Q: "widgets", Rep: "anna@seller.example"}, anna)
	e.wantIDs(Query{Q: "widgets", Rep: "y"}, y)
	e.wantIDs(Query{Q: "widgets", Kind: "quote"}, anna)
	e.wantIDs(Query{Q: "widgets", Rep: "bob@seller.example", CustomerIDs: []int64{a}})
	e.wantIDs(Query{Rep: "bob@seller.example"}, bob)
	for _, r := range hostile {
		e.wantIDs(Query{Rep: r}, byRep[r])
		e.wantIDs(Query{Rep: r, Kind: r})
	}
}

func TestSearchPaging(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Pager")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []int64
	for i := range 25 {
		all = append(all, e.event(fixture{Customer: c, Subject: "paging test", At: t0.Add(time.Duration(i) * time.Minute)}))
	}
	e.drain(e.ix)
	hits, total, err := e.ix.Search(e.ctx, Query{})
	if err != nil || total != 25 || len(hits) != 20 {
		t.Fatalf("default limit: %v total %d hits %d", err, total, len(hits))
	}
	hits, _, err = e.ix.Search(e.ctx, Query{Limit: 10, Offset: 20})
	if err != nil || len(hits) != 5 || hits[4].EventID != all[0] {
		t.Fatalf("last page: %v %+v", err, hits)
	}
	hits, _, err = e.ix.Search(e.ctx, Query{Limit: 1000, Offset: -3})
	if err != nil || len(hits) != 25 {
		t.Fatalf("clamped: %v %d hits", err, len(hits))
	}
}

// TestLongBody checks the body cap (words past maxBody are not indexed)
// and that a match past the excerpt is found but not shown.
func TestLongBody(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Long Ltd")
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 1400) // 37.8 KB
	body := "Dear Sir, greetings. " + filler[:20000] + " zanzibar " + filler[20000:] + " xylophone"
	ev := e.event(fixture{Customer: c, Subject: "long mail", Body: body})
	e.drain(e.ix)
	e.wantIDs(Query{Q: "zanzibar"}, ev) // at 20 KB: indexed
	e.wantIDs(Query{Q: "xylophone"})    // past 32 KB: cut
	hits, _, err := e.ix.Search(e.ctx, Query{Q: "zanzibar"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("%v %+v", err, hits)
	}
	if s := hits[0].Snippet; !strings.HasPrefix(s, "Dear Sir") || strings.Contains(s, "<mark>") {
		t.Errorf("snippet = %q, want the body's first words unmarked", s)
	}
}
