package classify

import (
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/message"
)

func TestDefaultCompiles(t *testing.T) {
	if _, err := Load(defaultYAML); err != nil {
		t.Fatal(err)
	}
}

const head = "kind:\n  threshold: 1\n  default_confidence: 0.8\n  rules:\n"

// An admin's mistake must say which rule and which field is wrong.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"bad regexp", head + "    - id: inquiry.en.x\n      weight: 1\n      text: ['ok', 'bad(']\n",
			[]string{`"inquiry.en.x"`, "text[1]", "missing closing )"}},
		{"unknown kind in id", head + "    - id: order.en.x\n      weight: 1\n      text: ['po']\n",
			[]string{`"order.en.x"`, "id:", "inquiry, quote, email"}},
		{"id without name", head + "    - id: quote\n      weight: 1\n      text: ['x']\n", []string{`"quote"`, "id:"}},
		{"duplicate id", head + "    - id: quote.en.x\n      weight: 1\n      text: ['a']\n    - id: quote.en.x\n      weight: 1\n      text: ['b']\n",
			[]string{`"quote.en.x"`, "duplicate"}},
		{"zero weight", head + "    - id: quote.en.x\n      text: ['a']\n", []string{`"quote.en.x"`, "weight"}},
		{"bad direction", head + "    - id: quote.en.x\n      weight: 1\n      direction: inbound\n      text: ['a']\n",
			[]string{`"quote.en.x"`, "direction", "inbound"}},
		{"no patterns", head + "    - id: quote.en.x\n      weight: 1\n", []string{`"quote.en.x"`, "at least one"}},
		{"misspelt key", head + "    - id: quote.en.x\n      wieght: 1\n", []string{"wieght"}},
		{"no threshold", "kind:\n  default_confidence: 0.8\n", []string{"kind.threshold"}},
		{"noise bad reason", head + "noise:\n  - id: spam.x\n    subject: ['win']\n", []string{`"spam.x"`, "auto_reply, bounce, bulk, calendar"}},
		{"noise bad domain", head + "noise:\n  - id: bulk.x\n    from_domain: ['a@b.com']\n", []string{`"bulk.x"`, "from_domain[0]"}},
		{"noise value without header", head + "noise:\n  - id: bulk.x\n    value: ['x']\n", []string{`"bulk.x"`, "need header"}},
		{"noise bad subject", head + "noise:\n  - id: bounce.x\n    subject: ['[']\n", []string{`"bounce.x"`, "subject[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A small admin file works on its own: its rules, its threshold.
func TestLoadCustom(t *testing.T) {
	r, err := Load([]byte(head + `    - id: inquiry.nl.offerte
      weight: 1
      text: ['graag (een )?offerte']
noise:
  - id: bulk.crm
    header: X-Mailer
    value: ['^hubspot']
`))
	if err != nil {
		t.Fatal(err)
	}
	v := r.Kind(&message.Message{NewText: "Graag een offerte voor 500 stuks."}, "in", false)
	if v.Kind != KindInquiry || v.Rule != "inquiry.nl.offerte" {
		t.Errorf("Kind = %+v", v)
	}
	reason, rule := r.Noise(&message.Message{Header: map[string]string{"X-Mailer": "HubSpot 1.0"}})
	if reason != NoiseBulk || rule != "bulk.crm" {
		t.Errorf("Noise = %q, %q", reason, rule)
	}
}

// Triggers must never drop a match: every pattern is checked against its
// trigger set on the texts that match it.
func TestTriggersKeepMatches(t *testing.T) {
	tests := []struct{ pattern, text string }{
		{`\b(pls|plz|please)( also)? quote\b`, "pls also quote 500 pcs"},
		{`(明天|(一|两|\d)天内)(给您)?报价`, "我们3天内给您报价"},
		{`\b(le|les) (adjunto|enviamos)\b`, "les enviamos la oferta"},
		{`(usd|\$) ?\d+(\.\d+)? ?/ ?(pc|pcs)`, "price usd 2.5/pcs fob"},
		{`x*abc`, "zzabc"},
		{`\bvalidity: `, "validity: 30 days"},
	}
	for _, tt := range tests {
		mt, err := compilePatterns("t", "text", []string{tt.pattern})
		if err != nil {
			t.Fatal(err)
		}
		text := foldText(tt.text)
		found := newTriggerIndex([]*matcher{mt}).scan(text)
		if !mt.match(text, nil) || !mt.match(text, found) {
			t.Errorf("%q does not match %q (triggers %q)", tt.pattern, tt.text, mt.triggers)
		}
	}
}

// The trigger filter is an optimisation: on every test text it must agree
// with running the regexp alone, for every default rule.
func TestTriggersAgreeWithRegexp(t *testing.T) {
	r := Default()
	for _, c := range kindCases {
		in := r.Prepare(c.message()).kindInput(c.dir, false)
		for _, kr := range r.kind {
			for _, f := range []struct {
				mt    *matcher
				text  string
				found triggerSet
			}{{kr.text, in.text.s, in.text.found}, {kr.text, in.text.s, nil}, {kr.subject, in.subject, nil}} {
				if f.mt != nil && f.mt.match(f.text, f.found) != f.mt.re.MatchString(f.text) {
					t.Errorf("rule %s disagrees with its regexp on %q", kr.id, f.text)
				}
			}
		}
	}
}

// On long texts the regexps run only where a trigger begins: on
// texts made of every test case, shifted so that phrases fall across the
// windows' edges, that must agree with the regexp on the whole text.
func TestAnchoredMatchAgreesWithRegexp(t *testing.T) {
	r := Default()
	var texts []string
	for _, c := range kindCases {
		texts = append(texts, r.Prepare(c.message()).kindInput(c.dir, false).text.s)
	}
	checked, matched := 0, 0
	for i := range texts {
		var b strings.Builder
		for j := i; b.Len() < 6*anchorFrom; j = (j + 1) % len(texts) {
			b.WriteString(texts[j])
			b.WriteString(" ")
		}
		for _, shift := range []int{0, 37, anchorFrom - 5, anchorFrom + 101} {
			long := strings.Repeat("x", shift) + " " + b.String()
			found := r.triggers.scan(long)
			for _, kr := range r.kind {
				if kr.text == nil || kr.text.triggers == nil {
					continue
				}
				checked++
				want := kr.text.re.MatchString(long)
				if want {
					matched++
				}
				if got := kr.text.match(long, found); got != want {
					t.Errorf("rule %s: anchored match %v, regexp %v, on text %d shifted by %d", kr.id, got, want, i, shift)
				}
				if got := kr.text.match(long, nil); got != want {
					t.Errorf("rule %s: anchored match without scan %v, regexp %v, on text %d shifted by %d", kr.id, got, want, i, shift)
				}
			}
		}
	}
	if checked == 0 || matched == 0 || matched == checked {
		t.Fatalf("%d checks, %d matches: the texts test nothing", checked, matched)
	}
}
