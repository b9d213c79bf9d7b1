package search

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSimplify(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"報價單", "报价单"},
		{"报价单", "报价单"},
		{"請參考附件報價單，交貨期四十天", "请参考附件报价单，交货期四十天"},
		{"Quotation 報價 for 台灣", "Quotation 报价 for 台湾"},
		{"Коммерческое предложение", "Коммерческое предложение"},
		{"お見積書", "お见积书"}, // kanji fold too: consistent on both sides
		{"", ""},
	} {
		if got := simplify(c.in); got != c.want {
			t.Errorf("simplify(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if n := len(t2s()); n < 3900 {
		t.Errorf("traditional map has %d entries, want about 4000", n)
	}
	for k := range t2s() {
		if k < 0x3400 {
			t.Errorf("map key %U is below the fast-path bound U+3400", k)
		}
	}
}

func TestSimplifyNoAllocWhenUnchanged(t *testing.T) {
	s := strings.Repeat("报价单 quotation ", 100)
	if a := testing.AllocsPerRun(100, func() { _ = simplify(s) }); a != 0 {
		t.Errorf("simplify allocated %v times on simplified text", a)
	}
}

func TestFold(t *testing.T) {
	if got := fold("报价", "ACME", ""); got != "" {
		t.Errorf("fold of simplified text = %q, want empty", got)
	}
	if got := fold("報價", "ACME", "交貨"); got != "报价\n交货" {
		t.Errorf("fold = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("报", 10) // 3 bytes each
	for n := range 31 {
		got := truncate(s, n)
		if len(got) > n || !utf8.ValidString(got) || len(got) < n-2 {
			t.Errorf("truncate(%d) = %q (%d bytes)", n, got, len(got))
		}
	}
	if truncate("abc", 10) != "abc" {
		t.Error("short string changed")
	}
}

func TestDisplay(t *testing.T) {
	got := display([]addr{{Name: "王经理", Email: "wang@sz.example"}, {Email: "a@b.example"}, {Name: "Undisclosed"}, {}})
	want := []string{"王经理 <wang@sz.example>", "a@b.example", "Undisclosed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("display = %q", got)
	}
}

func TestMarkup(t *testing.T) {
	got := markup("<b>" + markPre + "报价" + markPost + "</b> & more")
	if want := "&lt;b&gt;<mark>报价</mark>&lt;/b&gt; &amp; more"; got != want {
		t.Errorf("markup = %q, want %q", got, want)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 500*time.Millisecond, 30*time.Second
	for attempt := 1; attempt <= 100; attempt++ {
		full := hi
		if attempt < 7 {
			full = lo << (attempt - 1) // 0.5, 1, 2, 4, 8, 16 s
		}
		for range 20 {
			d := backoff(attempt, lo, hi)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}
