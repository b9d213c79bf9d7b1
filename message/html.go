package message

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText renders HTML as plain text for matching and search: block
// elements start new lines, <br> breaks a line, table cells are separated
// by a space, white space collapses outside <pre>, and script, style,
// title and similar invisible elements are dropped. Text inside
// <blockquote> is prefixed with "> " per level, so quoted history in HTML
// mail is cut by the same rules as in plain text.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	w := &textWriter{}
	skip := 0 // depth inside invisible elements
	skipTag := atom.Atom(0)
	pre := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skip > 0 {
				continue
			}
			w.text(string(z.Text()), pre > 0)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			start := tt != html.EndTagToken
			if skip > 0 {
				if a == skipTag {
					if start && tt == html.StartTagToken {
						skip++
					} else if !start {
						skip--
					}
				}
				continue
			}
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript, atom.Object, atom.Svg, atom.Head:
				if tt == html.StartTagToken {
					if a == atom.Head && !w.empty() {
						continue // a stray <head> in the body: ignore it
					}
					skip, skipTag = 1, a
				}
			case atom.Br:
				w.br()
			case atom.Blockquote:
				w.paragraph()
				if start {
					w.quote++
				} else if w.quote > 0 {
					w.quote--
				}
			case atom.Pre:
				w.paragraph()
				if start {
					pre++
				} else if pre > 0 {
					pre--
				}
			case atom.Td, atom.Th:
				if start {
					w.space()
				}
			case atom.Hr:
				w.newline()
			case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table:
				w.paragraph()
			case atom.Div, atom.Tr, atom.Li, atom.Ul, atom.Ol, atom.Tbody, atom.Dl, atom.Dt, atom.Dd,
				atom.Section, atom.Article, atom.Header, atom.Footer, atom.Address, atom.Form,
				atom.Fieldset, atom.Center, atom.Caption, atom.Figure, atom.Nav, atom.Main,
				atom.Aside, atom.Body, atom.Html:
				w.newline()
			}
		}
	}
}

// textWriter accumulates rendered lines.
type textWriter struct {
	out      strings.Builder
	line     strings.Builder
	quote    int  // blockquote depth at the start of the current line
	lineQ    int  // quote depth the current line was started with
	pendSp   bool // a collapsed space is due before the next word
	blank    int  // consecutive blank lines written
	anything bool
}

func (w *textWriter) empty() bool { return !w.anything && w.line.Len() == 0 }

func (w *textWriter) text(s string, pre bool) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if pre {
		for i, ln := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			if i > 0 {
				w.newline()
			}
			w.write(ln)
		}
		return
	}
	for i, f := range strings.Fields(s) {
		if i > 0 || startsWithSpace(s) {
			w.pendSp = true
		}
		w.write(f)
	}
	if endsWithSpace(s) {
		w.pendSp = true
	}
}

func startsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[0]))
}

func endsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[len(s)-1]))
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	if w.line.Len() == 0 {
		w.lineQ = w.quote
		w.pendSp = false
	} else if w.pendSp {
		w.line.WriteByte(' ')
	}
	w.pendSp = false
	w.line.WriteString(s)
}

func (w *textWriter) space() {
	if w.line.Len() > 0 {
		w.pendSp = true
	}
}

// newline ends the current line, if it holds anything.
func (w *textWriter) newline() {
	ln := strings.TrimRight(w.line.String(), " \t")
	w.line.Reset()
	w.pendSp = false
	if ln == "" {
		return
	}
	w.blank = 0
	w.anything = true
	for i := 0; i < w.lineQ; i++ {
		w.out.WriteString("> ")
	}
	w.out.WriteString(ln)
	w.out.WriteByte('\n')
}

// br ends the line; on an empty line it makes a blank one.
func (w *textWriter) br() {
	if strings.TrimSpace(w.line.String()) != "" {
		w.newline()
		return
	}
	w.line.Reset()
	w.blankLine()
}

// paragraph ends the line and leaves one blank line after it.
func (w *textWriter) paragraph() {
	w.newline()
	w.blankLine()
}

func (w *textWriter) blankLine() {
	if w.anything && w.blank == 0 {
		w.blank++
		w.out.WriteByte('\n')
	}
}

func (w *textWriter) String() string {
	w.newline()
	return strings.TrimSpace(w.out.String())
}
