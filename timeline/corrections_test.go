package timeline_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mailtrail/mailtrail/timeline"
)

// judge is a stand-in for the ingest pipeline: "Quotation" in the raw
// message makes a quote, "RFQ" an inquiry, anything else an email.
func judge(raw []byte, rep string) (timeline.Verdict, bool) {
	switch {
	case bytes.Contains(raw, []byte("Quotation")):
		return timeline.Verdict{Kind: "quote", Rule: "quote.judge", Confidence: 0.9,
			Quote: timeline.QuoteDetails{Ref: "QT-9", Currency: "USD", Amount: "100.00"}}, true
	case bytes.Contains(raw, []byte("RFQ")):
		return timeline.Verdict{Kind: "inquiry", Rule: "inquiry.judge", Confidence: 0.9}, true
	case bytes.Contains(raw, []byte("Out of office")):
		return timeline.Verdict{Noise: "auto_reply"}, false
	}
	return timeline.Verdict{Kind: "email", Rule: "email.default", Confidence: 0.8}, true
}

func (f *fx) outbox(eventID int64) int {
	f.t.Helper()
	var n int
	if err := f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM search_outbox WHERE event_id = $1`, eventID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fx) correct(id int64, kind string) {
	f.t.Helper()
	if _, err := timeline.CorrectKind(f.ctx, f.s.Pool, id, kind, "manager"); err != nil {
		f.t.Fatal(err)
	}
}

// A person's correction wins over the rules, survives reclassify, relinks
// inquiries and shows up as feedback on the rule.
func TestCorrectionSticksThroughReclassify(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "A", amy)
	inq := f.one(mail{msgid: "i", subject: "RFQ panels", at: day(0), kind: timeline.KindInquiry, rule: "inquiry.judge", customers: []int64{buyer}})
	thanks := f.one(mail{msgid: "t", inReplyTo: []string{"i"}, subject: "Thanks", at: day(1), dir: "out", customers: []int64{buyer}})
	missed := f.one(mail{msgid: "q", inReplyTo: []string{"i"}, subject: "Quotation", at: day(2), dir: "out", customers: []int64{buyer}})
	ooo := f.one(mail{msgid: "o", subject: "Out of office", at: day(2), customers: []int64{buyer}})

	// A manager says "Thanks" was the quote.
	before := f.outbox(thanks.ID)
	f.correct(thanks.ID, timeline.KindQuote)
	thanks = f.event(thanks.ID)
	if thanks.Kind != timeline.KindQuote || thanks.Correction == nil || thanks.Correction.Kind != timeline.KindQuote ||
		thanks.Correction.By != "manager" || thanks.Correction.At.IsZero() || thanks.Rule != "email.test" {
		t.Fatalf("after the correction: kind %s correction %+v rule %s", thanks.Kind, thanks.Correction, thanks.Rule)
	}
	if f.outbox(thanks.ID) != before+1 {
		t.Fatal("the correction queued no search update")
	}
	if inq = f.event(inq.ID); inq.QuoteEventID == nil || *inq.QuoteEventID != thanks.ID {
		t.Fatalf("inquiry links to %v, want the corrected quote %d", inq.QuoteEventID, thanks.ID)
	}

	rep, err := timeline.Reclassify(f.ctx, f.s, judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 4 || rep.Events != 3 || rep.KindChanged != 1 || rep.Changes["email->quote"] != 1 ||
		rep.ManualKept != 1 || rep.NowOffline["auto_reply"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	thanks = f.event(thanks.ID)
	if thanks.Kind != timeline.KindQuote || thanks.Rule != "email.default" {
		t.Fatalf("corrected event after reclassify: kind %s rule %s, want quote (kept) and email.default (the rules now)", thanks.Kind, thanks.Rule)
	}
	missed = f.event(missed.ID)
	if missed.Kind != timeline.KindQuote || missed.Rule != "quote.judge" || missed.QuoteRef == nil || *missed.QuoteRef != "QT-9" ||
		missed.Amount == nil || *missed.Amount != 100 || f.outbox(missed.ID) != 2 {
		t.Fatalf("reclassified quote: %+v", missed)
	}
	if ooo = f.event(ooo.ID); ooo.Kind != timeline.KindEmail {
		t.Fatalf("a message now judged noise was changed: %+v", ooo)
	}
	if len(rep.Feedback) != 1 {
		t.Fatalf("feedback %+v", rep.Feedback)
	}
	fb := rep.Feedback[0]
	if fb.Rule != "email.default" || fb.RuleKind != "email" || fb.Corrections != 1 || fb.Disagree != 1 ||
		fb.ToKind["quote"] != 1 || fb.Fired != 1 || fb.Precision == nil || *fb.Precision != 0 {
		t.Fatalf("feedback %+v", fb)
	}

	// Idempotent: a second run changes nothing.
	rep, err = timeline.Reclassify(f.ctx, f.s, judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep.KindChanged != 0 || rep.RuleChanged != 0 || rep.Threaded != 0 {
		t.Fatalf("second run %+v", rep)
	}

	// Removing the correction gives the rules' kind back.
	f.correct(thanks.ID, "")
	if thanks = f.event(thanks.ID); thanks.Kind != timeline.KindEmail || thanks.Correction != nil {
		t.Fatalf("after removing the correction: %s %+v", thanks.Kind, thanks.Correction)
	}
	if inq = f.event(inq.ID); inq.QuoteEventID == nil || *inq.QuoteEventID != missed.ID {
		t.Fatalf("inquiry links to %v, want %d", inq.QuoteEventID, missed.ID)
	}
	if _, err := timeline.CorrectKind(f.ctx, f.s.Pool, 9999, "quote", "x"); !errors.Is(err, timeline.ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
	if _, err := timeline.CorrectKind(f.ctx, f.s.Pool, thanks.ID, "offer", "x"); err == nil {
		t.Fatal("kind offer accepted")
	}
}

// Mail stored before threads existed gets its threads from reclassify.
func TestReclassifyBackfillsThreads(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "A", amy)
	a := f.one(mail{msgid: "a", subject: "RFQ", at: day(0), kind: timeline.KindInquiry, rule: "inquiry.judge", customers: []int64{buyer}})
	b := f.one(mail{msgid: "b", inReplyTo: []string{"a"}, subject: "Re: your request", at: day(1), dir: "out", customers: []int64{buyer}})
	f.exec(`UPDATE events SET thread_id = NULL, quote_event_id = NULL, reply_event_id = NULL, replied_at = NULL`)
	f.exec(`UPDATE messages SET thread_id = NULL`)
	f.exec(`DELETE FROM thread_refs`)
	rep, err := timeline.Reclassify(f.ctx, f.s, judge)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Threaded != 2 {
		t.Fatalf("threaded %d messages, want 2", rep.Threaded)
	}
	if f.thread(a) != f.thread(b) {
		t.Fatal("backfill split the conversation")
	}
	if a = f.event(a.ID); a.ReplyEventID == nil || *a.ReplyEventID != b.ID {
		t.Fatalf("backfill left the inquiry unlinked: %+v", a.EventLinks)
	}
}
