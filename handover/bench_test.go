package handover

import (
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/timeline"
)

// BenchmarkBuild builds the report of a rep with a large book: of 3,000
// customers with 20 messages each over a year, the rep owns 1,000 and
// shares 200 more (about 22,000 of the 60,000 events).
//
//	go test -run '^$' -bench Build -benchmem ./handover/
func BenchmarkBuild(b *testing.B) {
	ctx := b.Context()
	url := testenv.MigratedPostgres(b)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	setupBench(b, store)
	var r *Report
	for b.Loop() {
		if r, err = Build(ctx, store.Pool, Options{Rep: "amy@ourco.example", Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Summary.Customers), "customers")
}

func setupBench(b *testing.B, store *timeline.Store) {
	ctx := b.Context()
	for _, sql := range []string{
		`INSERT INTO customers (name, grade, owner)
			SELECT 'Customer ' || i, (ARRAY['A','B','C','D','E'])[1 + i % 5],
				CASE WHEN i % 3 = 0 THEN 'amy@ourco.example' ELSE 'bob@ourco.example' END
			FROM generate_series(1, 3000) i`,
		`INSERT INTO customer_domains (customer_id, domain) SELECT id, 'c' || id || '.example' FROM customers`,
		// Customer k has 20 messages, one every 18 days up to now, cycling
		// inquiry (in), quote (out), reply (in), follow-up (out) from a
		// different start per customer, so a quarter end on an open
		// inquiry and a quarter on an unanswered quote.
		`INSERT INTO messages (dedup_key, subject, sent_at, from_addrs, to_addrs, size, direction)
			SELECT 'k' || k || '-' || n,
				CASE WHEN n > 0 THEN 'Re: ' ELSE '' END || 'Order ' || k || '/' || (n / 4),
				$1::timestamptz - ((19 - n) * 18 || ' days')::interval - (k || ' minutes')::interval,
				jsonb_build_array(jsonb_build_object('email', CASE WHEN (n + k) % 2 = 0 THEN 'buyer@c' || k || '.example' ELSE 'amy@ourco.example' END)),
				jsonb_build_array(jsonb_build_object('email', CASE WHEN (n + k) % 2 = 1 THEN 'buyer@c' || k || '.example' ELSE 'amy@ourco.example' END)),
				100, CASE WHEN (n + k) % 2 = 0 THEN 'in' ELSE 'out' END
			FROM generate_series(1, 3000) k, generate_series(0, 19) n`,
		`INSERT INTO events (message_id, customer_id, kind, direction, rep, occurred_at)
			SELECT m.id, x.k, CASE (x.n + x.k) % 4 WHEN 0 THEN 'inquiry' WHEN 1 THEN 'quote' ELSE 'email' END,
				m.direction,
				CASE WHEN x.k % 3 = 0 OR (x.k % 5 = 0 AND x.n % 2 = 0) THEN 'amy@ourco.example' ELSE 'bob@ourco.example' END,
				m.sent_at
			FROM messages m, LATERAL (SELECT split_part(substring(m.dedup_key FROM 2), '-', 1)::int AS k,
				split_part(m.dedup_key, '-', 2)::int AS n) x`,
		`INSERT INTO message_locations (rep, folder, uidvalidity, uid, message_id)
			SELECT e.rep, 'INBOX', 1, e.message_id, e.message_id FROM events e`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = []any{now}
		}
		if _, err := store.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatal(err)
		}
	}
}
