package chromium

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCatchesErrors: what the handover test relies on. A clean page has no
// errors; console errors, exceptions, failed loads and CSP violations are
// all caught.
func TestCatchesErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/clean", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><head><title>ok</title><style>p{color:#123}</style></head><body><p>询价 hello</p></body></html>`))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><body><img src="/missing.png"><script>console.error("boom"); nosuchfn();</script></body></html>`))
	})
	mux.HandleFunc("/csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Write([]byte(`<!DOCTYPE html><html><body><link rel="stylesheet" href="/x.css"><p>x</p></body></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	open := func(path string) *Page {
		p, err := b.NewPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		if err := p.Navigate(ctx, srv.URL+path, 800, 600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := open("/clean")
	var title string
	if err := clean.Eval(ctx, "document.title", &title); err != nil || title != "ok" || len(clean.Errors) != 0 {
		t.Errorf("clean page: title %q (%v), errors %v", title, err, clean.Errors)
	}
	png, err := clean.Screenshot(ctx, true)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot: %v %q", err, png[:min(8, len(png))])
	}
	pdf, err := clean.PDF(ctx)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("pdf: %v", err)
	}
	broken := open("/broken")
	all := strings.Join(broken.Errors, "\n")
	for _, want := range []string{"console.error: boom", "nosuchfn is not defined", "missing.png"} {
		if !strings.Contains(all, want) {
			t.Errorf("broken page: errors lack %q:\n%s", want, all)
		}
	}
	if csp := open("/csp"); len(csp.Errors) == 0 {
		t.Errorf("CSP violation not caught")
	}
}
