package classify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
)

// parseMessage turns a corpus file into a message: the real parser, so the
// figures include its own-text and forward splitting.
var parseMessage = message.Parse

type corpusLabel struct {
	File     []string `json:"file"`
	Capture  bool     `json:"capture"`
	Kind     *string  `json:"kind"`
	Category string   `json:"category"`
	Lang     string   `json:"lang"`
}

type corpusCompany struct {
	Domains []string `json:"domains"`
	Reps    []struct {
		Email   string   `json:"email"`
		Aliases []string `json:"aliases"`
	} `json:"reps"`
}

// internal tells our own addresses: a company domain or a rep's alias.
func (c *corpusCompany) internal(addr string) bool {
	addr = strings.ToLower(addr)
	for _, r := range c.Reps {
		for _, a := range append([]string{r.Email}, r.Aliases...) {
			if strings.EqualFold(a, addr) {
				return true
			}
		}
	}
	_, dom, _ := strings.Cut(addr, "@")
	return onDomain(dom, c.Domains)
}

// directionOf follows the brief: "out" when From is ours; an internal
// forward is From ours and every To/Cc ours.
func (c *corpusCompany) directionOf(m *message.Message) (dir string, forwarded bool) {
	if len(m.From) == 0 || !c.internal(m.From[0].Email) {
		return "in", false
	}
	forwarded = len(m.To)+len(m.Cc) > 0
	for _, a := range append(append([]message.Address{}, m.To...), m.Cc...) {
		if !c.internal(a.Email) {
			forwarded = false
		}
	}
	return "out", forwarded
}

type prf struct{ tp, fp, fn int }

func (s prf) String() string {
	p := float64(s.tp) / float64(max(1, s.tp+s.fp))
	r := float64(s.tp) / float64(max(1, s.tp+s.fn))
	return fmt.Sprintf("P=%.3f R=%.3f F1=%.3f (tp=%d fp=%d fn=%d)", p, r, f1(s), s.tp, s.fp, s.fn)
}

func f1(s prf) float64 { return 2 * float64(s.tp) / float64(max(1, 2*s.tp+s.fp+s.fn)) }

func TestCorpus(t *testing.T) {
	// The labeled dev corpus (shared/corpus/dev/README.md).
	corpusDir := testenv.Corpus(t, "dev")
	var co corpusCompany
	raw, err := os.ReadFile(filepath.Join(corpusDir, "company.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &co); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(corpusDir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	r := Default()
	stats := map[string]*prf{KindInquiry: {}, KindQuote: {}}
	type langStat struct{ n, ok int }
	langs := map[string]*langStat{}
	noiseCaught := map[string]map[string]int{} // category -> reason -> n
	var misses, wrongNoise, missedNoise []string
	total, correct := 0, 0

	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l corpusLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		msgs := make([]*message.Message, len(l.File))
		for i, name := range l.File {
			b, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			msgs[i] = parseMessage(b)
		}
		if !l.Capture {
			reason, rule := r.Noise(msgs[0])
			if noiseCaught[l.Category] == nil {
				noiseCaught[l.Category] = map[string]int{}
			}
			noiseCaught[l.Category][reason+" "+rule]++
			if reason == "" && (l.Category == "newsletter" || l.Category == "auto_reply" || l.Category == "bounce") {
				missedNoise = append(missedNoise, fmt.Sprintf("%s (%s)", l.File[0], l.Category))
			}
			continue
		}
		for i, m := range msgs { // every copy of a person's mail must pass
			if reason, rule := r.Noise(m); reason != "" {
				wrongNoise = append(wrongNoise, fmt.Sprintf("%s: %s by %s", l.File[i], reason, rule))
			}
		}
		dir, fwd := co.directionOf(msgs[0])
		v := r.Kind(msgs[0], dir, fwd)
		want := *l.Kind
		total++
		ls := langs[l.Lang]
		if ls == nil {
			ls = &langStat{}
			langs[l.Lang] = ls
		}
		ls.n++
		if v.Kind == want {
			correct++
			ls.ok++
		} else {
			misses = append(misses, fmt.Sprintf("%s lang=%s dir=%s fwd=%v expected=%s got=%s rule=%s conf=%.2f",
				l.File[0], l.Lang, dir, fwd, want, v.Kind, v.Rule, v.Confidence))
		}
		for k, s := range stats {
			switch {
			case v.Kind == k && want == k:
				s.tp++
			case v.Kind == k:
				s.fp++
			case want == k:
				s.fn++
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	acc := float64(correct) / float64(max(1, total))
	t.Logf("captured messages: %d, kind accuracy %.3f", total, acc)
	t.Logf("inquiry %v", stats[KindInquiry])
	t.Logf("quote   %v", stats[KindQuote])
	var keys []string
	for k := range langs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  lang %-5s %3d/%3d = %.3f", k, langs[k].ok, langs[k].n, float64(langs[k].ok)/float64(langs[k].n))
	}
	keys = keys[:0]
	for k := range noiseCaught {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("noise: category %-10s -> %v", k, noiseCaught[k])
	}
	t.Logf("captured messages flagged as noise: %d", len(wrongNoise))
	for _, s := range wrongNoise {
		t.Logf("  WRONG NOISE %s", s)
	}
	for _, s := range missedNoise {
		t.Logf("  MISSED NOISE %s", s)
	}
	for _, s := range misses {
		t.Logf("  MISS %s", s)
	}

	if f := f1(*stats[KindInquiry]); f < 0.95 {
		t.Errorf("inquiry F1 %.3f < 0.95", f)
	}
	if f := f1(*stats[KindQuote]); f < 0.95 {
		t.Errorf("quote F1 %.3f < 0.95", f)
	}
	if acc < 0.95 {
		t.Errorf("kind accuracy %.3f < 0.95", acc)
	}
	if len(missedNoise) > 0 {
		t.Errorf("%d auto_reply/bounce/newsletter messages not flagged", len(missedNoise))
	}
	if len(wrongNoise) > 0 {
		t.Errorf("%d copies of captured messages flagged as noise", len(wrongNoise))
	}
}
