package eval

import (
	"context"
	"testing"

	"github.com/mailtrail/mailtrail/timeline"
)

// checkThreads asserts that every reply shares the thread of the message
// it answers (In-Reply-To), when both were stored, and logs how the corpus
// was grouped, linked and what its quotes state.
func checkThreads(t *testing.T, ctx context.Context, store *timeline.Store) {
	t.Helper()
	var split int
	err := store.Pool.QueryRow(ctx, `
		SELECT count(*) FROM messages m JOIN messages p ON p.message_id = ANY(m.in_reply_to)
		WHERE m.thread_id IS DISTINCT FROM p.thread_id`).Scan(&split)
	if err != nil {
		t.Fatal(err)
	}
	if split > 0 {
		t.Errorf("threads: %d replies are not in the thread of the message they answer", split)
	}
	var msgs, threads, multi, noRefs, noRefsGrouped int
	err = store.Pool.QueryRow(ctx, `
		WITH tl AS (SELECT DISTINCT m.* FROM messages m JOIN events e ON e.message_id = m.id),
		sizes AS (SELECT thread_id, count(*) AS n FROM tl GROUP BY thread_id)
		SELECT (SELECT count(*) FROM tl), (SELECT count(*) FROM sizes), (SELECT count(*) FROM sizes WHERE n > 1),
			(SELECT count(*) FROM tl WHERE is_reply AND in_reply_to = '{}' AND refs = '{}'),
			(SELECT count(*) FROM tl JOIN sizes s USING (thread_id) WHERE is_reply AND in_reply_to = '{}' AND refs = '{}' AND s.n > 1)`).
		Scan(&msgs, &threads, &multi, &noRefs, &noRefsGrouped)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("threads: %d timeline messages in %d threads (%d with more than one message); replies without In-Reply-To/References: %d, %d of them grouped by subject",
		msgs, threads, multi, noRefs, noRefsGrouped)
	var inq, quoted, replied, quotes, ref, cur, amount int
	err = store.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE kind = 'inquiry'), count(quote_event_id), count(reply_event_id),
			count(*) FILTER (WHERE kind = 'quote'), count(quote_ref), count(currency), count(amount)
		FROM events`).Scan(&inq, &quoted, &replied, &quotes, &ref, &cur, &amount)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("links: %d inquiry events, %d with a quote, %d replied; quotes: %d, with number %d, currency %d, total %d",
		inq, quoted, replied, quotes, ref, cur, amount)
}
