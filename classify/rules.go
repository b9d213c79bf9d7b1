// Package classify decides, from a parsed message alone, whether it is noise
// that must stay off a customer timeline (auto-reply, bounce, bulk mail,
// calendar invitation) and, for a person's mail, which kind of event it is:
// a buyer's inquiry, a rep's quote, or ordinary email.
//
// All phrases live in rules.yaml, which an administrator can copy, edit and
// load with Load; Default is the copy embedded in the binary. Matching is
// done on folded text (see fold.go), never on quoted history, and every
// verdict names the rule that decided it, so a wrong verdict can be traced to
// one line of the file.
package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed rules.yaml
var defaultYAML []byte

// Kinds of event and reasons for noise, as they appear in rule ids.
const (
	KindInquiry = "inquiry"
	KindQuote   = "quote"
	KindEmail   = "email"

	NoiseAutoReply = "auto_reply"
	NoiseBounce    = "bounce"
	NoiseBulk      = "bulk"
	NoiseCalendar  = "calendar"
)

// Rules is a compiled rules file. It is immutable after Load and safe for
// concurrent use.
type Rules struct {
	threshold         float64
	defaultConfidence float64
	maxConfidence     float64
	kind              []kindRule
	noise             []noiseRule
	triggers          *triggerIndex // of the text matchers, kind and noise
}

// file is the YAML layout of rules.yaml; the file itself documents it.
type file struct {
	Kind struct {
		Threshold         float64        `yaml:"threshold"`
		DefaultConfidence float64        `yaml:"default_confidence"`
		MaxConfidence     float64        `yaml:"max_confidence"`
		Rules             []kindRuleYAML `yaml:"rules"`
	} `yaml:"kind"`
	Noise []noiseRuleYAML `yaml:"noise"`
}

type kindRuleYAML struct {
	ID         string   `yaml:"id"`
	Direction  string   `yaml:"direction"`
	Weight     float64  `yaml:"weight"`
	Text       []string `yaml:"text"`
	Subject    []string `yaml:"subject"`
	Attachment []string `yaml:"attachment"`
}

type noiseRuleYAML struct {
	ID          string   `yaml:"id"`
	Header      string   `yaml:"header"`
	Value       []string `yaml:"value"`
	Except      []string `yaml:"except"`
	ContentType []string `yaml:"content_type"`
	From        []string `yaml:"from"`
	FromDomain  []string `yaml:"from_domain"`
	Subject     []string `yaml:"subject"`
	Text        []string `yaml:"text"`
	MaxText     int      `yaml:"max_text"`
}

var (
	defaultOnce  sync.Once
	defaultRules *Rules
)

// Default returns the rules embedded from classify/rules.yaml. It panics if
// that file does not compile, which the package tests rule out.
func Default() *Rules {
	defaultOnce.Do(func() {
		r, err := Load(defaultYAML)
		if err != nil {
			panic("classify: embedded rules.yaml: " + err.Error())
		}
		defaultRules = r
	})
	return defaultRules
}

// Load compiles a rules file. Unknown keys are errors (a misspelt key would
// otherwise silently disable a rule), and every error names the rule id and
// the field that is wrong, e.g.
//
//	rule "quote.en.unit_price": text[2]: error parsing regexp: missing closing ): ...
//
// Patterns are Go RE2 regular expressions, matched case-insensitively
// against folded text (fold.go): write ASCII punctuation, not full-width.
func Load(yamlBytes []byte) (*Rules, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(yamlBytes))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("classify rules: %w", err)
	}
	r := &Rules{
		threshold:         f.Kind.Threshold,
		defaultConfidence: f.Kind.DefaultConfidence,
		maxConfidence:     f.Kind.MaxConfidence,
	}
	if r.threshold <= 0 {
		return nil, errors.New("classify rules: kind.threshold must be > 0")
	}
	if r.defaultConfidence <= 0 || r.defaultConfidence > 1 {
		return nil, errors.New("classify rules: kind.default_confidence must be in (0, 1]")
	}
	if r.maxConfidence == 0 {
		r.maxConfidence = 0.99
	}
	seen := map[string]bool{}
	for i, y := range f.Kind.Rules {
		kr, err := compileKindRule(y)
		if err != nil {
			return nil, fmt.Errorf("classify rules: kind.rules[%d]: %w", i, err)
		}
		if seen[kr.id] {
			return nil, fmt.Errorf("classify rules: kind.rules[%d]: rule %q: duplicate id", i, kr.id)
		}
		seen[kr.id] = true
		r.kind = append(r.kind, kr)
	}
	for i, y := range f.Noise {
		nr, err := compileNoiseRule(y)
		if err != nil {
			return nil, fmt.Errorf("classify rules: noise[%d]: %w", i, err)
		}
		if seen[nr.id] {
			return nil, fmt.Errorf("classify rules: noise[%d]: rule %q: duplicate id", i, nr.id)
		}
		seen[nr.id] = true
		r.noise = append(r.noise, nr)
	}
	var text []*matcher
	for _, kr := range r.kind {
		text = append(text, kr.text)
	}
	for _, nr := range r.noise {
		text = append(text, nr.text)
	}
	r.triggers = newTriggerIndex(text)
	return r, nil
}

// splitID checks an id of the form "<first>.<rest>" where first is one of
// allowed, and returns first. Ids carry the kind or reason so that a verdict's
// Rule alone tells what fired.
func splitID(id string, allowed ...string) (string, error) {
	first, rest, ok := strings.Cut(id, ".")
	if !ok || rest == "" {
		return "", fmt.Errorf("rule %q: id: want %s.<lang>.<name>", id, strings.Join(allowed, "|"))
	}
	for _, a := range allowed {
		if first == a {
			return first, nil
		}
	}
	return "", fmt.Errorf("rule %q: id: must start with one of %s", id, strings.Join(allowed, ", "))
}

// compilePatterns compiles each pattern on its own, so an error names the
// faulty entry, then joins them into one matcher (one pass over the text).
func compilePatterns(id, field string, pats []string) (*matcher, error) {
	if len(pats) == 0 {
		return nil, nil
	}
	mt := &matcher{}
	parts := make([]string, 0, len(pats))
	always := false
	for i, p := range pats {
		p = foldPattern(p)
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("rule %q: %s[%d]: empty pattern", id, field, i)
		}
		src, triggers, err := lowerPattern(p)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %s[%d]: %w", id, field, i, err)
		}
		if _, err := regexp.Compile(src); err != nil {
			return nil, fmt.Errorf("rule %q: %s[%d]: %w", id, field, i, err)
		}
		parts = append(parts, "(?:"+src+")")
		if triggers == nil {
			always = true
		}
		mt.triggers = append(mt.triggers, triggers...)
	}
	src := strings.Join(parts, "|")
	mt.re = regexp.MustCompile(src)
	if always {
		mt.triggers = nil
	} else {
		mt.anchor(src, mt.triggers)
		mt.triggers = minimal(dedupe(mt.triggers))
	}
	return mt, nil
}
