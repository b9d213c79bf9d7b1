package timeline_test

import (
	"fmt"
	"testing"

	"github.com/mailtrail/mailtrail/timeline"
)

// BenchmarkQueueRematch measures finding the stored messages that an
// import of 1,000 customers concerns, among 100,000 messages with four
// addresses each. Run with:
//
//	go test ./timeline/ -run '^$' -bench QueueRematch
func BenchmarkQueueRematch(b *testing.B) {
	d := newDBTB(b)
	const messages, customers = 100_000, 1_000
	if _, err := d.store.Pool.Exec(d.ctx, `
		INSERT INTO messages (dedup_key, size, from_addrs, to_addrs, cc_addrs)
		SELECT 'mid:' || i, 1000,
			jsonb_build_array(jsonb_build_object('name', 'Buyer ' || i, 'email', 'buyer' || i || '@sales.company' || (i % 20000) || '.example')),
			'[{"email": "amy@ourco.example"}]'::jsonb,
			jsonb_build_array(jsonb_build_object('email', 'cc' || i || '@gmail.com'), jsonb_build_object('email', 'bob@ourco.example'))
		FROM generate_series(1, $1) i`, messages); err != nil {
		b.Fatal(err)
	}
	var domains, emails []string
	for i := range customers {
		domains = append(domains, fmt.Sprintf("company%d.example", i*7))
		emails = append(emails, fmt.Sprintf("cc%d@gmail.com", i*13))
	}
	b.ResetTimer()
	var n int
	for b.Loop() {
		tx, err := d.store.Pool.Begin(d.ctx)
		if err != nil {
			b.Fatal(err)
		}
		n, err = timeline.QueueRematch(d.ctx, tx, timeline.Concern{Domains: domains, Emails: emails, Reason: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		tx.Rollback(d.ctx)
	}
	b.ReportMetric(float64(n), "messages-found")
	b.ReportMetric(float64(messages)/(b.Elapsed().Seconds()/float64(b.N)), "messages-scanned/s")
}
