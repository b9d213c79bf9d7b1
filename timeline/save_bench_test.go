package timeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// BenchmarkSaveMessage measures the save of a new message with one event
// (threading and linking included), in transactions of 100 as the sync
// does: conversations of 4 messages (inquiry, reply, quote, reply) over
// 50 customers. "one-by-one" is SaveMessage for each (links recomputed
// after every message); "batch" is the sync's way: CapturePlans, SaveMany
// of the 100, then Relinks.Flush.
func BenchmarkSaveMessage(b *testing.B) {
	ctx := context.Background()
	url := testenv.MigratedPostgres(b)
	s, err := timeline.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var custs []int64
	for i := range 50 {
		id, _, _, err := timeline.UpsertCustomer(ctx, s.Pool, timeline.CustomerInput{Name: fmt.Sprintf("C%d", i), Grade: "B", Owner: amy})
		if err != nil {
			b.Fatal(err)
		}
		custs = append(custs, id)
	}
	kinds := []string{"inquiry", "email", "quote", "email"}
	dirs := []string{"in", "out", "out", "in"}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0 // messages saved so far, across sub-benchmarks: keys stay new
	captured := func() *timeline.Captured {
		j := n
		n++
		conv, pos := j/4, j%4
		c := &timeline.Captured{
			DedupKey: fmt.Sprintf("b:%d", j), ContentHash: "h", MessageID: fmt.Sprintf("m%d@x", j),
			Subject: fmt.Sprintf("RFQ %d", conv), SentAt: base.Add(time.Duration(j) * time.Hour), Size: 10,
			From: []message.Address{{Email: "x@y.z"}}, Direction: dirs[pos], Raw: []byte("x"),
		}
		if pos > 0 {
			c.InReplyTo = []string{fmt.Sprintf("m%d@x", j-1)}
			c.References = []string{fmt.Sprintf("m%d@x", j-pos), fmt.Sprintf("m%d@x", j-1)}
		}
		c.Events = []timeline.NewEvent{{CustomerID: custs[conv%len(custs)], Kind: kinds[pos], Direction: dirs[pos],
			Rep: amy, OccurredAt: c.SentAt, Rule: kinds[pos] + ".x", Confidence: 0.9}}
		return c
	}
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; i < b.N; i += 100 {
			err := s.InTx(ctx, func(tx pgx.Tx) error {
				for range min(100, b.N-i) {
					if _, err := timeline.SaveMessage(ctx, tx, captured(), nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for i := 0; i < b.N; i += 100 {
			err := s.InTx(ctx, func(tx pgx.Tx) error {
				if err := timeline.CapturePlans(ctx, tx); err != nil {
					return err
				}
				var cs []*timeline.Captured
				for range min(100, b.N-i) {
					cs = append(cs, captured())
				}
				var l timeline.Relinks
				if _, err := timeline.SaveMany(ctx, tx, cs, make([]*timeline.Location, len(cs)), &l, nil); err != nil {
					return err
				}
				return l.Flush(ctx, tx)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
