package ingest

import (
	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/quote"
	"github.com/mailtrail/mailtrail/timeline"
)

// Verdict re-runs matching and the kind rules over a stored message's raw
// bytes, for `mailtrail reclassify`. ok is false when the message would
// now be on no timeline (noise, internal, unmatched): reclassify leaves
// such events alone and only counts them.
func (p *Pipeline) Verdict(raw []byte, rep string) (v timeline.Verdict, ok bool) {
	pr := p.Prepare(raw, rep, "")
	if len(pr.buyers) == 0 {
		return timeline.Verdict{Noise: pr.rec.Noise}, false
	}
	return timeline.Verdict{
		Kind: pr.verdict.Kind, Rule: pr.verdict.Rule, Confidence: pr.verdict.Confidence, Quote: pr.rec.Quote,
	}, true
}

// quoteDetails reads what a quote states; other kinds get nothing.
func quoteDetails(m *message.Message, kind string) timeline.QuoteDetails {
	if kind != classify.KindQuote {
		return timeline.QuoteDetails{}
	}
	return QuoteDetails(m)
}

// QuoteDetails reads a quote's number, currency and total from its text,
// attachment names and XLSX attachments (package quote).
func QuoteDetails(m *message.Message) timeline.QuoteDetails {
	d := quote.FromMessage(m)
	return timeline.QuoteDetails{Ref: d.Ref, Currency: d.Currency, Amount: d.Amount}
}
