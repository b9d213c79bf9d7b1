package timeline_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/migrations"
	"github.com/mailtrail/mailtrail/timeline"
)

// benchNow is the "now" of the synthetic data: three years of mail before it.
var benchNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	benchCustomers     = 2000
	benchReps          = 10
	benchConversations = 250_000 // of 4 events each: 1,000,000 events
)

// BenchmarkReports bulk-loads 1,000,000 synthetic events (COPY, once per
// run), computes every inquiry's links with the real code, then times each
// report and list query. Run it with
//
//	go test -run '^$' -bench BenchmarkReports -benchtime 20x ./timeline/
//
// It is a benchmark only: the normal `go test` never loads the data.
// MAILTRAIL_BENCH_DATABASE_URL, when set, names a database to use instead
// of a fresh one: the data are loaded there once and reused by later runs
// (to study plans with psql between runs).
func BenchmarkReports(b *testing.B) {
	ctx := context.Background()
	url := os.Getenv("MAILTRAIL_BENCH_DATABASE_URL")
	if url == "" {
		url = testenv.Postgres(b)
	}
	if _, _, err := migrations.Apply(ctx, url); err != nil {
		b.Fatal(err)
	}
	s, err := timeline.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var have int64
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == 0 {
		loadBenchData(b, ctx, s)
	} else if have != 4*benchConversations {
		b.Fatalf("MAILTRAIL_BENCH_DATABASE_URL holds %d events, not this benchmark's data: use an empty database", have)
	}
	var bigCustomer int64
	if err := s.Pool.QueryRow(ctx, `SELECT customer_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&bigCustomer); err != nil {
		b.Fatal(err)
	}

	p := timeline.DefaultPolicy()
	p.PoolReleaseAfter = 30 * 24 * time.Hour
	year := benchNow.AddDate(-1, 0, 0)
	rep := "rep3@ourco.example"
	var thread int64
	if err := s.Pool.QueryRow(ctx, `SELECT thread_id FROM events WHERE customer_id = $1 ORDER BY occurred_at DESC LIMIT 1`, bigCustomer).Scan(&thread); err != nil {
		b.Fatal(err)
	}
	// One connection for all queries, so that the CPU time its server
	// process spends can be read from /proc: on a shared machine the wall
	// time says as much about the neighbours as about the query.
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	db := timeline.DB(conn)
	run := func(name string, f func() (int, error)) {
		b.Run(name, func(b *testing.B) {
			n := 0
			cpu0 := backendCPU(pid)
			for b.Loop() {
				var err error
				if n, err = f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			if cpu0 >= 0 {
				b.ReportMetric(float64(backendCPU(pid)-cpu0)/float64(b.N), "server_cpu_ms/op")
			}
			b.ReportMetric(float64(n), "rows")
		})
	}
	run("funnel/12_months", func() (int, error) {
		f, err := timeline.InquiryFunnel(ctx, db, year, benchNow, "", time.UTC)
		return int(f.Total.Inquiries), err
	})
	run("funnel/3_months", func() (int, error) {
		f, err := timeline.InquiryFunnel(ctx, db, benchNow.AddDate(0, -3, 0), benchNow, "", time.UTC)
		return int(f.Total.Inquiries), err
	})
	run("funnel/12_months_one_rep", func() (int, error) {
		f, err := timeline.InquiryFunnel(ctx, db, year, benchNow, rep, time.UTC)
		return int(f.Total.Inquiries), err
	})
	run("funnel/3_years", func() (int, error) {
		f, err := timeline.InquiryFunnel(ctx, db, benchNow.AddDate(-3, 0, 0), benchNow, "", time.UTC)
		return int(f.Total.Inquiries), err
	})
	run("churn", func() (int, error) {
		r, err := timeline.Churn(ctx, db, benchNow, timeline.ChurnParams{}, timeline.Scope{}, timeline.ChurnCursor{}, 200)
		return len(r), err
	})
	run("followups/all", func() (int, error) {
		r, err := timeline.Followups(ctx, db, p, benchNow, "", timeline.Scope{}, timeline.FollowupCursor{}, timeline.Page{Limit: 200})
		return len(r), err
	})
	run("followups/one_rep_as_rep", func() (int, error) {
		r, err := timeline.Followups(ctx, db, p, benchNow, rep, timeline.Scope{Rep: rep}, timeline.FollowupCursor{}, timeline.Page{Limit: 200})
		return len(r), err
	})
	run("unanswered/90_days", func() (int, error) {
		r, _, err := timeline.UnansweredInquiries(ctx, db, p, benchNow, benchNow.AddDate(0, 0, -90), "", timeline.Scope{}, timeline.UnansweredCursor{}, timeline.Page{Limit: 200})
		return len(r), err
	})
	run("unanswered/90_days_one_rep_as_rep", func() (int, error) {
		r, _, err := timeline.UnansweredInquiries(ctx, db, p, benchNow, benchNow.AddDate(0, 0, -90), rep, timeline.Scope{Rep: rep}, timeline.UnansweredCursor{}, timeline.Page{Limit: 200})
		return len(r), err
	})
	run("pool", func() (int, error) {
		r, err := timeline.PublicPool(ctx, db, p, benchNow, timeline.Scope{}, 0, timeline.Page{Limit: 200})
		return len(r), err
	})
	run("customer_threads/biggest_customer", func() (int, error) {
		r, err := timeline.CustomerThreads(ctx, db, bigCustomer, timeline.ThreadCursor{}, 50)
		return len(r), err
	})
	run("thread", func() (int, error) {
		t, err := timeline.GetThread(ctx, db, thread, timeline.Scope{}, time.Time{}, 0, 200)
		return len(t.Events), err
	})
	run("rules_feedback", func() (int, error) {
		r, err := timeline.RulesFeedback(ctx, db)
		return len(r), err
	})
}

// loadBenchData writes benchCustomers customers and benchConversations
// conversations (inquiry, the rep's first reply, a quote or a second
// email, the buyer's answer) over the three years before benchNow, with
// activity skewed towards a few big customers and a tenth of them gone
// quiet in the last 40 days; one conversation in ten gets no answer (the
// buyer writes three more times). Secondary indexes are dropped during
// COPY and built again after it.
func loadBenchData(b *testing.B, ctx context.Context, s *timeline.Store) {
	b.Helper()
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	var custIDs []int64
	for i := range benchCustomers {
		owner := fmt.Sprintf("rep%d@ourco.example", i%benchReps)
		if i%20 == 0 {
			owner = ""
		}
		grade := []string{"A", "B", "B", "C", "C", "C", "D", "D", "D", "E"}[rng.IntN(10)]
		var id int64
		err := s.Pool.QueryRow(ctx, `INSERT INTO customers (name, grade, owner, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			fmt.Sprintf("Customer %d", i), grade, nullStr(owner), benchNow.AddDate(-3, 0, 0)).Scan(&id)
		if err != nil {
			b.Fatal(err)
		}
		custIDs = append(custIDs, id)
	}
	// Zipf-like weights: customer k gets 1/(k+1)^0.8 of the activity.
	cum := make([]float64, benchCustomers)
	total := 0.0
	for k := range cum {
		total += 1 / math.Pow(float64(k+1), 0.8)
		cum[k] = total
	}
	pick := func() int {
		x := rng.Float64() * total
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	span := benchNow.Sub(benchNow.AddDate(-3, 0, 0))
	type ev struct {
		cust           int64
		rep, kind, dir string
		at             time.Time
	}
	conv := func(i int) [4]ev {
		k := pick()
		c := custIDs[k]
		rep := fmt.Sprintf("rep%d@ourco.example", k%benchReps)
		limit := span
		if k%10 == 7 { // gone quiet: nothing in the last 40 days
			limit -= 40 * 24 * time.Hour
		}
		t0 := benchNow.Add(-span).Add(time.Duration(rng.Int64N(int64(limit))))
		hours := func(mean float64) time.Duration { return time.Duration(rng.ExpFloat64() * mean * float64(time.Hour)) }
		if rng.IntN(10) == 0 {
			return [4]ev{{c, rep, "inquiry", "in", t0}, {c, rep, "email", "in", t0.Add(hours(48))},
				{c, rep, "email", "in", t0.Add(hours(96))}, {c, rep, "email", "in", t0.Add(hours(200))}}
		}
		second := ev{c, rep, "quote", "out", t0.Add(hours(30))}
		if rng.IntN(10) >= 6 {
			second.kind = "email"
		}
		return [4]ev{
			{c, rep, "inquiry", "in", t0},
			{c, rep, "email", "out", t0.Add(hours(8))},
			second,
			{c, rep, "email", "in", second.at.Add(hours(72))},
		}
	}
	convs := make([][4]ev, benchConversations)
	for i := range convs {
		convs[i] = conv(i)
	}
	copyRows := func(table string, cols []string, n int, row func(i int) []any) {
		b.Helper()
		i := 0
		_, err := s.Pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		}))
		if err != nil {
			b.Fatalf("copy %s: %v", table, err)
		}
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = 'public' AND i.tablename IN ('events', 'messages')
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		b.Fatal(err)
	}
	type index struct{ Name, Def string }
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		b.Fatal(err)
	}
	for _, ix := range indexes {
		if _, err := s.Pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
	copyRows("threads", []string{"id"}, benchConversations, func(i int) []any { return []any{int64(i + 1)} })
	n := benchConversations * 4
	copyRows("messages", []string{"id", "dedup_key", "subject", "sent_at", "size", "direction", "thread_id", "subject_key"}, n,
		func(i int) []any {
			e := convs[i/4][i%4]
			subj := fmt.Sprintf("RFQ %d", i/4)
			return []any{int64(i + 1), fmt.Sprintf("b:%d", i+1), subj, e.at, 1000, e.dir, int64(i/4 + 1), subj}
		})
	rules := map[string]string{"inquiry": "inquiry.en.please_quote", "quote": "quote.any.attachment", "email": "email.default"}
	copyRows("events", []string{"id", "message_id", "customer_id", "kind", "direction", "rep", "occurred_at", "rule", "confidence", "thread_id"}, n,
		func(i int) []any {
			e := convs[i/4][i%4]
			return []any{int64(i + 1), int64(i + 1), e.cust, e.kind, e.dir, e.rep, e.at, rules[e.kind], float32(0.9), int64(i/4 + 1)}
		})
	for _, q := range []string{
		`SELECT setval('threads_id_seq', (SELECT max(id) FROM threads))`,
		`SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))`,
		`SELECT setval('events_id_seq', (SELECT max(id) FROM events))`,
		// A few corrections, for the feedback.
		`UPDATE events SET kind = 'quote', kind_manual = 'quote', kind_manual_by = 'bench', kind_manual_at = now() WHERE id % 5000 = 2`,
	} {
		if _, err := s.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	for _, ix := range indexes {
		if _, err := s.Pool.Exec(ctx, ix.Def); err != nil {
			b.Fatal(err)
		}
	}
	loaded := time.Since(start)
	// Links with the real code, customer by customer, 50 per transaction.
	start = time.Now()
	for i := 0; i < len(custIDs); i += 50 {
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			for _, id := range custIDs[i:min(i+50, len(custIDs))] {
				if err := timeline.RelinkCustomer(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	linked := time.Since(start)
	if _, err := s.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var events, inquiries, quoted int64
	err = s.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE kind = 'inquiry'), count(quote_event_id) FROM events`).
		Scan(&events, &inquiries, &quoted)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "BenchmarkReports: loaded %d events (%d inquiries, %d quoted) with COPY and indexed them in %v; linked every inquiry (RelinkCustomer x %d) in %v\n",
		events, inquiries, quoted, loaded.Round(time.Millisecond), len(custIDs), linked.Round(time.Millisecond))
}

// backendCPU returns the CPU time (user + system, in ms) that process pid
// has used, or -1 when /proc does not tell (the server is not local).
func backendCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name in parentheses: utime is the 14th
	// field of the line, stime the 15th, in clock ticks (100 per second).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (u + st) * 10
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
