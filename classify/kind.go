package classify

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Verdict is the kind of event a person's message is.
type Verdict struct {
	// Kind is "inquiry", "quote" or "email".
	Kind string
	// Rule is the id of the rule that decided, e.g. "inquiry.en.please_quote",
	// or "email.en.will_quote" when counter-evidence won, or "email.default"
	// when no rule reached the threshold.
	Rule string
	// Confidence is in (0, 1). For a rule's verdict it is 1 - e^-margin/2,
	// margin being how far the winning score is ahead of the next kind's
	// (0.5 when barely ahead, 0.82 one threshold ahead, capped by
	// kind.max_confidence). For "email.default" it is
	// kind.default_confidence, lowered by weak evidence for another kind.
	Confidence float64
}

// DefaultRule is Verdict.Rule when no rule reached the threshold.
const DefaultRule = "email.default"

type kindRule struct {
	id         string
	kind       int    // index into kinds
	dir        string // "in", "out" or "any"
	weight     float64
	text       *matcher
	subject    *matcher
	attachment *matcher
}

// kinds indexes the scores in Kind; email first, so it wins ties.
var kinds = [...]string{KindEmail, KindInquiry, KindQuote}

func compileKindRule(y kindRuleYAML) (kindRule, error) {
	kind, err := splitID(y.ID, KindInquiry, KindQuote, KindEmail)
	if err != nil {
		return kindRule{}, err
	}
	kr := kindRule{id: y.ID, weight: y.Weight, dir: y.Direction}
	for i, k := range kinds {
		if k == kind {
			kr.kind = i
		}
	}
	if kr.weight <= 0 {
		return kr, fmt.Errorf("rule %q: weight: must be > 0 (counter-evidence is an email.* rule)", y.ID)
	}
	if kr.dir == "" {
		// Buyers ask, reps quote: the default direction follows the kind.
		kr.dir = map[string]string{KindInquiry: "in", KindQuote: "out", KindEmail: "any"}[kind]
	}
	if kr.dir != "in" && kr.dir != "out" && kr.dir != "any" {
		return kr, fmt.Errorf("rule %q: direction: %q is not in, out or any", y.ID, kr.dir)
	}
	if kr.text, err = compilePatterns(y.ID, "text", y.Text); err != nil {
		return kr, err
	}
	if kr.subject, err = compilePatterns(y.ID, "subject", y.Subject); err != nil {
		return kr, err
	}
	if kr.attachment, err = compilePatterns(y.ID, "attachment", y.Attachment); err != nil {
		return kr, err
	}
	if kr.text == nil && kr.subject == nil && kr.attachment == nil {
		return kr, fmt.Errorf("rule %q: needs at least one of text, subject, attachment", y.ID)
	}
	return kr, nil
}

// kindInput is what Kind looks at, already folded.
type kindInput struct {
	dir         string
	text        foldedText
	subject     string // "" when inherited (Re:/Fw:)
	attachments []string
}

func (kr *kindRule) fires(in *kindInput) bool {
	if kr.dir != "any" && kr.dir != in.dir {
		return false
	}
	if kr.text != nil && kr.text.match(in.text.s, in.text.found) {
		return true
	}
	if kr.subject != nil && in.subject != "" && kr.subject.match(in.subject, nil) {
		return true
	}
	if kr.attachment != nil {
		for _, a := range in.attachments {
			if kr.attachment.match(a, nil) {
				return true
			}
		}
	}
	return false
}

// Kind judges which event a person's message is. direction is "out" for
// mail written by our side and anything else for the buyer's ("in");
// inquiry rules default to "in", quote rules to "out", so a rep's "thank you
// for your inquiry" is no inquiry and a buyer's counter-offer with a price
// is no quote.
//
// It reads only the message's own words: NewText (Text when the parser found
// none), cut again at any reply header the parser missed; a subject only
// when it is not inherited ("Re: RFQ ..." says nothing about this message);
// and attachment file names. For an internal forward (forwarded = true) it
// reads instead the forwarded originals' text and subject, judged as the
// buyer's ("in"), and falls back to the text below the forward separator
// when the parser found no Forwarded part; a "forward" with nothing
// forwarded inside (a rep's price list to himself, customers in Bcc) is
// judged as the sender's own mail.
//
// Every rule that fires adds its weight to its kind's score; email.* rules
// are counter-evidence ("we will quote tomorrow", "thanks for your
// quotation"). The highest score wins if it reaches kind.threshold and
// beats email's; otherwise the verdict is email.
func (ml *Mail) Kind(direction string, forwarded bool) Verdict {
	r := ml.r
	in := ml.kindInput(direction, forwarded)
	var score [len(kinds)]float64
	var best [len(kinds)]*kindRule
	for i := range r.kind {
		kr := &r.kind[i]
		if !kr.fires(&in) {
			continue
		}
		score[kr.kind] += kr.weight
		if b := best[kr.kind]; b == nil || kr.weight > b.weight {
			best[kr.kind] = kr
		}
	}
	win := 0 // email
	for k := 1; k < len(kinds); k++ {
		if score[k] >= r.threshold && score[k] > score[win] {
			win = k
		}
	}
	if win == 0 && best[0] == nil {
		weak := math.Min(1, max(score[1], score[2])/r.threshold)
		return Verdict{Kind: KindEmail, Rule: DefaultRule, Confidence: r.defaultConfidence * (1 - weak/2)}
	}
	runnerUp := 0.0
	for k, s := range score {
		if k != win {
			runnerUp = max(runnerUp, s)
		}
	}
	conf := math.Min(r.maxConfidence, 1-math.Exp(-(score[win]-runnerUp))/2)
	return Verdict{Kind: kinds[win], Rule: best[win].id, Confidence: conf}
}

func (ml *Mail) kindInput(direction string, forwarded bool) kindInput {
	m := ml.m
	in := kindInput{dir: "in"}
	subject := m.Subject
	var text string
	if forwarded {
		var parts []string
		for _, f := range m.Forwarded {
			if t := strings.TrimSpace(ownText(f.Text)); t != "" {
				parts = append(parts, t)
			}
		}
		text = strings.Join(parts, "\n")
		if len(m.Forwarded) > 0 && m.Forwarded[0].Subject != "" {
			subject = m.Forwarded[0].Subject
		}
		if text == "" {
			text = strings.TrimSpace(forwardedBody(m.Text))
		}
	}
	if text == "" {
		// Not a forward after all (nothing forwarded inside), e.g. a price
		// list a rep sent to himself with the customers in Bcc: the
		// sender's own words, in the sender's direction.
		if direction == "out" {
			in.dir = "out"
		}
		in.text = *ml.text()
	} else {
		in.text = ml.r.fold(text)
	}
	if !inheritedSubjectRE.MatchString(subject) {
		in.subject = foldText(subject)
	}
	for _, a := range m.Attachments {
		if a.Filename != "" {
			in.attachments = append(in.attachments, foldFilename(a.Filename))
		}
	}
	return in
}

// inheritedSubjectRE matches reply and forward prefixes in the languages we
// meet ("Re:", "AW:", "RES:", "Fw:", "回复：", "転送:", "Ответ:", "رد:").
var inheritedSubjectRE = regexp.MustCompile(`(?i)^\s*(?:re|aw|sv|vs|antw|odp|res|rif|ref|fw|fwd|wg|tr|rv|enc|转发|轉寄|转寄|回复|回覆|答复|答覆|返信|転送|ответ|пересл|رد|إعادة توجيه)\s*(?:\[\d+\])?\s*[:：]`)

// foldFilename folds a file name like text and turns "_" into a space, so
// that `\bquotation\b` matches "Quotation_QT-2025-0315.pdf" ("_" is a word
// character in RE2).
func foldFilename(name string) string {
	return foldText(strings.ReplaceAll(name, "_", " "))
}
