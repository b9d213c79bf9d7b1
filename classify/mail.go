package classify

import (
	"strings"

	"github.com/mailtrail/mailtrail/message"
)

// Mail is a message as Noise and Kind read it. Both judge the writer's own
// text (NewText, else Text, cut again at quoted history by ownText), folded
// by foldText and scanned for the rules' trigger words: a Mail does that
// once, on first use, where Rules.Noise and then Rules.Kind would do it
// twice (cutting and folding were most of Noise's CPU).
//
// A Mail is for one goroutine, and its message must not change while the
// Mail is in use.
type Mail struct {
	r   *Rules
	m   *message.Message
	own *foldedText // nil until text is called
}

// foldedText is a text folded by foldText, with the trigger words in it.
type foldedText struct {
	s     string
	found triggerSet
}

// Prepare returns m ready for Noise and Kind. It does no work itself.
func (r *Rules) Prepare(m *message.Message) *Mail {
	return &Mail{r: r, m: m}
}

// Noise is r.Prepare(m).Noise(), for a caller that needs no Kind.
func (r *Rules) Noise(m *message.Message) (reason string, rule string) {
	return r.Prepare(m).Noise()
}

// Kind is r.Prepare(m).Kind(direction, forwarded), for a caller that needs
// no Noise.
func (r *Rules) Kind(m *message.Message, direction string, forwarded bool) Verdict {
	return r.Prepare(m).Kind(direction, forwarded)
}

func (r *Rules) fold(text string) foldedText {
	s := foldText(text)
	return foldedText{s: s, found: r.triggers.scan(s)}
}

// text returns the message's own text, folded and scanned.
func (ml *Mail) text() *foldedText {
	if ml.own == nil {
		text := ml.m.NewText
		if strings.TrimSpace(text) == "" {
			text = ml.m.Text
		}
		own := ml.r.fold(ownText(text))
		ml.own = &own
	}
	return ml.own
}
