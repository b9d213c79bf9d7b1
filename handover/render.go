package handover

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/http"
	"strings"
	texttemplate "text/template"
	"time"
)

// Formats a report renders to.
const (
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatHTML     = "html"
)

// ContentSecurityPolicy is the header to serve the HTML report with: the
// page needs nothing but its inline style, so anything else it tried to
// load (a script or image smuggled in through a subject line, were
// escaping ever to fail) would be refused.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'"

// Serve writes the report in format as an HTTP response, with its media
// type and, for HTML, its Content-Security-Policy. It renders before
// writing: an error (from rendering) leaves w untouched for the caller's
// error response; a client gone while the page is written is not one.
func Serve(w http.ResponseWriter, r *Report, format string) error {
	var buf bytes.Buffer
	if err := Render(&buf, r, format); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ContentType(format))
	if format == FormatHTML {
		w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
	return nil
}

// ContentType returns the media type of a format.
func ContentType(format string) string {
	switch format {
	case FormatMarkdown:
		return "text/markdown; charset=utf-8"
	case FormatHTML:
		return "text/html; charset=utf-8"
	}
	return "application/json"
}

//go:embed report.html.tmpl report.md.tmpl
var templates embed.FS

var funcs = map[string]any{
	"date": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			return t.UTC().Format("2006-01-02")
		case *time.Time:
			if t != nil {
				return t.UTC().Format("2006-01-02")
			}
		}
		return "never"
	},
	"stamp":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"join":    strings.Join,
	"md":      mdEscape,
	"subject": DisplaySubject,
	"plural":  plural,
	"grade": func(g string) string {
		if g == "" {
			return "–"
		}
		return g
	},
	"add": func(a, b int) int { return a + b },
	"money": func(t Total) string {
		return fmt.Sprintf("%s %.2f", t.Currency, t.Amount)
	},
	"figure": func(it Item) string {
		var parts []string
		if it.QuoteRef != "" {
			parts = append(parts, it.QuoteRef)
		}
		if it.Amount != "" {
			parts = append(parts, strings.TrimSpace(it.Currency+" "+it.Amount))
		}
		return strings.Join(parts, ", ")
	},
}

var (
	htmlTmpl = htmltemplate.Must(htmltemplate.New("report.html.tmpl").Funcs(funcs).ParseFS(templates, "report.html.tmpl"))
	mdTmpl   = texttemplate.Must(texttemplate.New("report.md.tmpl").Funcs(funcs).ParseFS(templates, "report.md.tmpl"))
)

// Render writes the report as JSON, Markdown or HTML. The HTML is one
// self-contained printable page: CSS inline, no scripts, no external
// assets.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatJSON, "":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown:
		return mdTmpl.Execute(w, r)
	case FormatHTML:
		return htmlTmpl.Execute(w, r)
	}
	return &InputError{"format", fmt.Sprintf("%q is not json, md or html", format)}
}

// mdReplacer escapes what Markdown would read as markup in inline text.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `#`, `\#`, "\n", " ", "\r", " ")

func mdEscape(s string) string { return mdReplacer.Replace(s) }
