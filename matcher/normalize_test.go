package matcher

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string // want "" means rejected
	}{
		// display names, comments, brackets, case
		{"  John <John.Doe@Example.COM> ", "john.doe@example.com"},
		{`"Doe, John <boss>" <jd@example.com>`, "jd@example.com"},
		{"jd@example.com (John Doe)", "jd@example.com"},
		{"mailto:A@B.com", "a@b.com"},
		{"a@example.com.", "a@example.com"},
		{"PURCHASING@NSL-LIGHTING.COM", "purchasing@nsl-lighting.com"},
		// IDN: Unicode domains become punycode; punycode stays punycode
		{"m.schoene@schöne-leuchten.de", "m.schoene@xn--schne-leuchten-xpb.de"},
		{"m.schoene@XN--SCHNE-LEUCHTEN-XPB.DE", "m.schoene@xn--schne-leuchten-xpb.de"},
		{"info@светлыйдом.рф", "info@xn--b1aecqjinsl5g.xn--p1ai"},
		{"info@СветлыйДом.РФ", "info@xn--b1aecqjinsl5g.xn--p1ai"},
		// full-width forms typed on Chinese keyboards
		{"abc＠qq.com", "abc@qq.com"},
		{"abc@qq。com", "abc@qq.com"},
		{"ｊｏｈｎ@qq.com", "john@qq.com"}, // full-width local part
		{"ＪＯＨＮ.Ｗｕ＠ｑｑ．ｃｏｍ", "john.wu@qq.com"},
		{"go\u0308tz@example.de", "g\u00f6tz@example.de"}, // decomposed ö is the precomposed one
		{"G\u00d6TZ@example.de", "g\u00f6tz@example.de"},
		{"ｆｉ@x.com", "fi@x.com"},
		{"\ufb01le@x.com", "file@x.com"}, // the ligature fi
		// quoted local parts
		{`"john.smith"@example.com`, "john.smith@example.com"},
		{`"John Smith"@Example.com`, `"john smith"@example.com`},
		// lenient: underscores in domains, UTF-8 local part (RFC 6531)
		{"a@mail_relay.example.com", "a@mail_relay.example.com"},
		{"用户@例子.中国", "用户@xn--fsqu00a.xn--fiqs8s"},
		// junk
		{"", ""},
		{"   ", ""},
		{"no-at-sign", ""},
		{"a@", ""},
		{"@example.com", ""},
		{"a@b@example.com", ""},
		{"a@[192.0.2.1]", ""},
		{"a@localhost", ""},
		{"a@192.0.2.1", ""},
		{"undisclosed-recipients:;", ""},
		{"a b@example.com", ""},
		{"a@exa mple.com", ""},
		{"a@example..com", ""},
		{"a@" + strings.Repeat("x", 64) + ".com", ""},
		{"a@\u0000.com", ""},
		{strings.Repeat("a", 600) + "@example.com", ""},
		{"a@exa\xffmple.com", ""},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("Normalize(%q) = %q, want rejected", tt.in, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, in := range []string{"x@example.com", "Ab <A@B.CO.UK>", "m@schöne-leuchten.de", `"a b"@x.org`, "ＪＯＨＮ@qq.com", "Go\u0308tz@x.de"} {
		n, ok := Normalize(in)
		if !ok {
			t.Fatalf("Normalize(%q) rejected", in)
		}
		if n2, ok := Normalize(n); !ok || n2 != n {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", in, n2, n)
		}
	}
}

func TestNormalizeNoAllocWhenCanonical(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := Normalize("buyer@acme.co.uk"); !ok {
			t.Fatal("rejected")
		}
	})
	if allocs != 0 {
		t.Errorf("Normalize of a canonical address allocates %v times", allocs)
	}
}

func TestRegistrable(t *testing.T) {
	tests := []struct{ in, reg, label string }{
		{"sales.acme.co.uk", "acme.co.uk", "acme"},
		{"brightline-electrical.com.ng", "brightline-electrical.com.ng", "brightline-electrical"},
		{"mx.lumiway-lighting.com", "lumiway-lighting.com", "lumiway-lighting"},
		{"xn--b1aecqjinsl5g.xn--p1ai", "xn--b1aecqjinsl5g.xn--p1ai", "xn--b1aecqjinsl5g"},
	}
	for _, tt := range tests {
		if reg, label := registrable(tt.in); reg != tt.reg || label != tt.label {
			t.Errorf("registrable(%q) = %q, %q; want %q, %q", tt.in, reg, label, tt.reg, tt.label)
		}
	}
}
