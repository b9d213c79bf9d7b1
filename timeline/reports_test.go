package timeline_test

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/timeline"
)

func TestInquiryFunnel(t *testing.T) {
	f := newFx(t)
	x := f.customer("X", "A", amy)
	y := f.customer("Y", "A", bob)
	z := f.customer("Z", "A", bob)
	inq := func(id string, at time.Time, rep string, c int64) {
		f.one(mail{msgid: id, subject: "RFQ " + id, at: at, kind: timeline.KindInquiry, rep: rep, customers: []int64{c}})
	}
	out := func(id, parent string, at time.Time, kind, rep string, c int64) {
		f.one(mail{msgid: id, inReplyTo: []string{parent}, subject: "Re: RFQ " + parent, at: at, dir: "out", kind: kind, rep: rep, customers: []int64{c}})
	}
	inq("i0", day(-10), amy, x) // before the range
	inq("i1", day(0), amy, x)
	out("r1", "i1", day(0, 2), timeline.KindEmail, amy, x)
	out("q1", "i1", day(0, 10), timeline.KindQuote, amy, x)
	inq("i2", day(7), amy, x)
	out("q2", "i2", day(7, 4), timeline.KindQuote, amy, x)
	inq("i3", day(29), amy, x) // 2025-04-01, never answered
	inq("i4", day(30), bob, y)
	out("r4", "i4", day(30, 6), timeline.KindEmail, bob, y)
	inq("i5", day(28, 20), bob, z) // 2025-03-31 20:00 UTC is April in Shanghai

	from, to := day(-1), day(40)
	fu, err := timeline.InquiryFunnel(f.ctx, f.s.Pool, from, to, "", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// Reply hours 2, 4, 6; quote hours 10, 4 (percentile_cont interpolates).
	checkRow(t, "total", fu.Total, 5, 3, 2, 0.4, [4]float64{4, 5.6, 7, 9.4})
	if len(fu.PerRep) != 2 || fu.PerRep[0].Rep != amy || fu.PerRep[1].Rep != bob {
		t.Fatalf("per rep %+v", fu.PerRep)
	}
	checkRow(t, "amy", fu.PerRep[0], 3, 2, 2, 0.6667, [4]float64{3, 3.8, 7, 9.4})
	checkRow(t, "bob", fu.PerRep[1], 2, 1, 0, 0, [4]float64{6, 6, -1, -1})
	months := map[string]int64{}
	for _, m := range fu.PerMonth {
		months[m.Month] = m.Inquiries
	}
	if months["2025-03"] != 3 || months["2025-04"] != 2 || len(months) != 2 {
		t.Fatalf("months in UTC %v", months)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	fu, err = timeline.InquiryFunnel(f.ctx, f.s.Pool, from, to, bob, sh)
	if err != nil {
		t.Fatal(err)
	}
	if fu.Total.Inquiries != 2 || len(fu.PerMonth) != 1 || fu.PerMonth[0].Month != "2025-04" {
		t.Fatalf("bob in Shanghai: total %+v months %+v", fu.Total, fu.PerMonth)
	}
}

// checkRow compares counts and [reply median, reply p90, quote median,
// quote p90] (-1: none).
func checkRow(t *testing.T, name string, r timeline.FunnelRow, inq, replied, quoted int64, conv float64, p [4]float64) {
	t.Helper()
	if r.Inquiries != inq || r.Replied != replied || r.Quoted != quoted || r.Conversion != conv {
		t.Errorf("%s: %d inquiries, %d replied, %d quoted, conversion %v; want %d, %d, %d, %v",
			name, r.Inquiries, r.Replied, r.Quoted, r.Conversion, inq, replied, quoted, conv)
	}
	for i, got := range []*float64{r.ReplyHours.Median, r.ReplyHours.P90, r.QuoteHours.Median, r.QuoteHours.P90} {
		switch {
		case p[i] < 0 && got != nil:
			t.Errorf("%s: percentile %d = %v, want none", name, i, *got)
		case p[i] >= 0 && (got == nil || *got != p[i]):
			t.Errorf("%s: percentile %d = %v, want %v", name, i, got, p[i])
		}
	}
}

func TestChurn(t *testing.T) {
	f := newFx(t)
	now := day(300)
	ws := now.Add(-30 * 24 * time.Hour)
	inbound := func(c int64, rep string, base, recent int) {
		for i := range base { // spread over the 180 days before the window
			f.one(mail{subject: "x", at: ws.Add(-time.Duration(i+1) * 180 * 24 * time.Hour / time.Duration(base+1)), rep: rep, customers: []int64{c}})
		}
		for i := range recent {
			f.one(mail{subject: "x", at: ws.Add(time.Duration(i+1) * 24 * time.Hour), rep: rep, customers: []int64{c}})
		}
	}
	dropped := f.customer("Dropped", "A", amy)
	steady := f.customer("Steady", "A", amy)
	small := f.customer("Small", "A", amy)
	silent := f.customer("Silent", "A", bob)
	inbound(dropped, amy, 36, 1) // 6 expected, 1 came
	inbound(steady, amy, 36, 5)  // 6 expected, 5 came
	inbound(small, amy, 6, 0)    // 1 expected: too little to say
	inbound(silent, bob, 18, 0)  // 3 expected, none came
	// Outbound mail is not the customer's activity.
	for i := range 10 {
		f.one(mail{subject: "x", at: ws.Add(time.Duration(i) * time.Hour), dir: "out", customers: []int64{dropped}})
	}
	rows, err := timeline.Churn(f.ctx, f.s.Pool, now, timeline.ChurnParams{}, timeline.Scope{}, timeline.ChurnCursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].CustomerID != dropped || rows[1].CustomerID != silent {
		t.Fatalf("churn %+v, want Dropped then Silent", rows)
	}
	r := rows[0]
	if r.Recent != 1 || r.Baseline != 36 || r.MonthlyRate != 6 || r.Expected != 6 || r.Ratio != 0.17 || r.LastInbound == nil {
		t.Fatalf("Dropped: %+v", r)
	}
	if rows[1].Recent != 0 || rows[1].Expected != 3 || rows[1].Ratio != 0 {
		t.Fatalf("Silent: %+v", rows[1])
	}
	rows, err = timeline.Churn(f.ctx, f.s.Pool, now, timeline.ChurnParams{MaxRatio: 0.9}, timeline.Scope{Rep: amy}, timeline.ChurnCursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].CustomerID != dropped || rows[1].CustomerID != steady {
		t.Fatalf("ratio 0.9, amy's customers: %+v", rows)
	}
}
