package handover

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/chromium"
)

// TestHTMLInChromium opens the HTML report in headless Chromium, served
// as the API serves it (CSP included): it must render every customer,
// without a console error, and print to PDF.
func TestHTMLInChromium(t *testing.T) {
	w := newWorld(t)
	r := w.report()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if err := Serve(rw, r, FormatHTML); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	p, closeAll, err := chromium.Open(ctx, t.TempDir(), srv.URL, 1100, 1400)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	var got struct {
		Title    string `json:"title"`
		Sections int    `json:"sections"`
		Cards    int    `json:"cards"`
		Scripts  int    `json:"scripts"`
	}
	if err := p.Eval(ctx, `({title: document.title, sections: document.querySelectorAll("section.customer").length,
		cards: document.querySelectorAll(".card").length, scripts: document.scripts.length})`, &got); err != nil {
		t.Fatal(err)
	}
	if got.Title != "Handover: "+amy || got.Sections != len(r.Customers) || got.Cards != 6 || got.Scripts != 0 {
		t.Errorf("rendered %+v, want %d customer sections, 6 cards, no script", got, len(r.Customers))
	}
	if len(p.Errors) > 0 {
		t.Errorf("console errors: %q", p.Errors)
	}
	for _, w := range p.Warnings {
		t.Logf("chromium warning: %s", w)
	}
	pdf, err := p.PDF(ctx)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("print to PDF: %v", err)
	}
	if len(p.Errors) > 0 {
		t.Errorf("console errors while printing: %q", p.Errors)
	}
}
