package matcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

var normalizeSeeds = []string{
	"John <John.Doe@Example.COM>", `"Doe, John" <jd@example.com>`, "jd@example.com (John)",
	"m@schöne-leuchten.de", "info@светлыйдом.рф", "abc＠qq.com", "abc@qq。com", `"a b"@x.org`,
	`"a<b"@x.org`, "a@[1.2.3.4]", "undisclosed-recipients:;", "mailto:x@y.z", "=?utf-8?q?x?= <a@b.c>",
	"a@xn--.com", "a@xn--zz.com", "<>", "@", "a@b", "a@b.c.", "\"\\\"\"@x.com", "a@-x-.com",
	"ｊｏｈｎ@qq.com", "go\u0308tz@x.de", "\ufb01@x.com", "＂ａ ｂ＂@x.org", "a\ufe6bb@x.com",
}

func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := Normalize(in)
		if fn, fok, handled := fastNormalize(in); handled {
			if sn, sok := normalizeSlow(in); fn != sn || fok != sok {
				t.Fatalf("fast path %q, %v; slow path %q, %v for %q", fn, fok, sn, sok, in)
			}
		}
		if !ok {
			if n != "" {
				t.Fatalf("rejected %q but returned %q", in, n)
			}
			return
		}
		local, dom := splitAddr(n)
		if local == "" || dom == "" || !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: empty part or invalid UTF-8", in, n)
		}
		for i := 0; i < len(dom); i++ {
			if c := dom[i]; c >= 0x80 || c >= 'A' && c <= 'Z' {
				t.Fatalf("Normalize(%q) = %q: domain not lower-case ASCII", in, n)
			}
		}
		if n2, ok := Normalize(n); !ok || n2 != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(%q) = %q, %v", in, n, n, n2, ok)
		}
	})
}

// splitHeader turns "Name <a@b>, c@d" into Addrs the way a lenient parser
// would; the matcher must cope with whatever comes out.
func splitHeader(s string) []Addr {
	var out []Addr
	for _, p := range strings.Split(s, ",") {
		a := Addr{Email: p}
		if i := strings.IndexByte(p, '<'); i >= 0 {
			a.Name = strings.Trim(p[:i], ` "`)
		}
		out = append(out, a)
	}
	return out
}

func FuzzMatch(f *testing.F) {
	f.Add("Rashid <rashid@sunrise-trading.ae>", "amy@nblumiway.cn", "x@example.com", "", "")
	f.Add("amy@nblumiway.cn", "buyer@acme.co.uk, new@buyer.com.au", "", "a@b.com,c@d.org", "")
	f.Add("info@lumiway-lighting.com", "amy@nblumiway.cn", "", "", "j@vertrieb.acme.co.uk")
	f.Add("Sunrise Trading LLC <accounts@sunrise-trading.net>", "amy@nblumiway.cn", "", "", "")
	f.Add("'rashid@sunrise-trading.ae' <x@evil.ru>", "", "", "", "")
	f.Add("MAILER-DAEMON@mx.lumiway-lighting.com", "amy@nblumiway.cn", "", "", "amy@nblumiway.cn")
	f.Add("x@sunrise-tr\u0430ding.ae", "", "", "", "")
	f.Add("", "", "", "", "")
	seedFromCorpus(f)

	m := New(testDirectory())
	f.Fuzz(func(t *testing.T, from, to, cc, bcc, fwd string) {
		env := Envelope{From: splitHeader(from), To: splitHeader(to), Cc: splitHeader(cc), Bcc: splitHeader(bcc)}
		if fwd != "" {
			env.Forwarded = [][]Addr{splitHeader(fwd)}
		}
		r := m.Match(env)
		if r.Direction != In && r.Direction != Out {
			t.Fatalf("direction %q", r.Direction)
		}
		if r.InternalOnly && len(r.Parties) > 0 {
			t.Fatalf("internal-only with parties %+v", r.Parties)
		}
		seen := map[partyKey]bool{}
		for _, p := range r.Parties {
			res := p.Resolution
			if res.Class == ClassInternal || res.Class == ClassInvalid {
				t.Fatalf("party of class %v: %+v", res.Class, p)
			}
			if n, ok := Normalize(res.Email); !ok || n != res.Email {
				t.Fatalf("party email %q does not normalise to itself", res.Email)
			}
			k := keyOf(res)
			if seen[k] {
				t.Fatalf("duplicate party %+v", k)
			}
			seen[k] = true
		}
		for _, b := range r.Buyers() {
			if !b.Resolution.IsBuyer() {
				t.Fatalf("non-buyer in Buyers: %+v", b)
			}
		}
	})
}

// seedFromCorpus adds the From/To/Cc header lines of some corpus messages,
// when the corpus is found (it is optional for fuzzing).
func seedFromCorpus(f *testing.F) {
	corpusDir := testenv.FindCorpus("dev")
	if corpusDir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "mail", "*", "*", "00[0-1]*.eml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		head, _, _ := strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n")
		var from, to, cc string
		for _, line := range strings.Split(head, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(k) {
			case "from":
				from = v
			case "to":
				to = v
			case "cc":
				cc = v
			}
		}
		f.Add(from, to, cc, "", "")
	}
}
