package message

import (
	"bytes"
	"maps"
	"slices"
	"testing"
)

// declaredBoundariesByLetter is declaredBoundaries as first written: it
// stops at every "b" or "B" and compares the word there. The faster one,
// which looks for "=" and reads back, must find the same.
func declaredBoundariesByLetter(raw []byte) []string {
	var bounds []string
	for i := 0; i < len(raw); {
		j := bytes.IndexAny(raw[i:], "bB")
		if j < 0 {
			break
		}
		i += j
		if len(raw)-i < len("boundary") || !bytes.EqualFold(raw[i:i+len("boundary")], []byte("boundary")) {
			i++
			continue
		}
		k := i + len("boundary")
		i = k
		for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t') {
			k++
		}
		if k >= len(raw) || raw[k] != '=' {
			continue
		}
		if v, ok := boundaryValue(raw, k+1); ok {
			bounds = append(bounds, v)
		}
	}
	return bounds
}

var boundarySeeds = []string{
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n",
	"content-type: multipart/alternative;\r\n\tBOUNDARY = x-y ; charset=utf-8",
	"boundary=\"boundary=\\\"inner\\\"\" BoUnDaRy=plain\tboundary= \t\"q\"",
	"boundary=", "boundary", "=boundary=", "xboundary=a", "boundary  =", "boundary=\"unterminated",
	"boundary=;", "boundary=\"\"", "boundary = \"  \"", "bboundary=b", "boundaryboundary=c",
	"b\u212Aoundary=k", "bOUNDARY=\xff\xfe", "boundary=" + string(bytes.Repeat([]byte("x"), 205)),
	"=== == = boundary\t\t=v =boundary=w",
}

// The seeds of the fuzz targets below run under plain `go test` too.

func TestDeclaredBoundaries(t *testing.T) {
	if got, want := declaredBoundaries([]byte(boundarySeeds[1])), []string{"x-y"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzDeclaredBoundaries(f *testing.F) {
	for _, s := range boundarySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := declaredBoundaries(raw), declaredBoundariesByLetter(raw); !slices.Equal(got, want) {
			t.Errorf("%q: got %q, want %q", raw, got, want)
		}
	})
}

// A message with a 3 MB attachment: the "boundary" search reads it all.
func BenchmarkDeclaredBoundaries(b *testing.B) {
	raw := []byte("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee the brochure.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"brochure.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64Body(bytes.Repeat([]byte("Brochure of our LED panels, 2026 edition. "), 3<<20/42)) + "--b1--\r\n")
	for _, bc := range []struct {
		name string
		f    func([]byte) []string
	}{{"by-equals", declaredBoundaries}, {"by-letter", declaredBoundariesByLetter}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				bc.f(raw)
			}
		})
	}
}

// countDashLinesByCount and delimiterLinesByIndex are the functions as
// first written, which looked for "\n--": the ones built on nextDashLine
// must find the same lines.
func countDashLinesByCount(raw []byte) int {
	n := 0
	if bytes.HasPrefix(raw, []byte("--")) {
		n++
	}
	return n + bytes.Count(raw, []byte("\n--"))
}

func delimiterLinesByIndex(raw []byte) (opened, closed map[string]bool) {
	opened, closed = map[string]bool{}, map[string]bool{}
	for i := 0; i < len(raw); {
		if raw[i] == '-' && i+1 < len(raw) && raw[i+1] == '-' && (i == 0 || raw[i-1] == '\n') {
			addDelimiter(raw, i, opened, closed)
		}
		next := bytes.Index(raw[i+1:], []byte("\n--"))
		if next < 0 {
			break
		}
		i += next + 2
	}
	return opened, closed
}

var dashSeeds = []string{
	"", "-", "--", "---", "--b1\r\n--b1--\r\n", "x--y\n--z\n", "\n--", "\n-", "a\n---\n----x--\n--", "-----\n--\n-\n--b--  \r\n",
	"text - with -- dashes\n -- not a line\n--yes", "--a\n\n--\n\n--a--",
}

func FuzzDashLines(f *testing.F) {
	for _, s := range dashSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDashLines)
}

func checkDashLines(t *testing.T, raw []byte) {
	if got, want := countDashLines(raw), countDashLinesByCount(raw); got != want {
		t.Errorf("countDashLines(%q) = %d, want %d", raw, got, want)
	}
	o, c := delimiterLines(raw)
	wo, wc := delimiterLinesByIndex(raw)
	if !maps.Equal(o, wo) || !maps.Equal(c, wc) {
		t.Errorf("delimiterLines(%q) = %v, %v; want %v, %v", raw, o, c, wo, wc)
	}
}
