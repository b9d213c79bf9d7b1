package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ThreadSummary is one thread of a customer, from that customer's events.
type ThreadSummary struct {
	ThreadID      int64      `json:"thread_id"`
	Subject       string     `json:"last_subject"`
	FirstAt       time.Time  `json:"first_at"`
	LastAt        time.Time  `json:"last_at"`
	LastDirection string     `json:"last_direction"` // "in": the buyer spoke last; "out": the rep did
	LastRep       string     `json:"last_rep"`
	Messages      int        `json:"message_count"`
	OpenInquiry   *EventRef  `json:"open_inquiry"` // the newest inquiry with no quote yet, if any
	Kinds         KindCounts `json:"kinds"`
}

// KindCounts counts a thread's events by kind.
type KindCounts struct {
	Inquiry int `json:"inquiry"`
	Quote   int `json:"quote"`
	Email   int `json:"email"`
}

// EventRef points at one event.
type EventRef struct {
	EventID    int64     `json:"event_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Subject    string    `json:"subject"`
}

// ThreadCursor positions a page of threads: threads whose last event is
// strictly older than (Before, BeforeID). The zero value starts at the newest.
type ThreadCursor struct {
	Before   time.Time
	BeforeID int64
}

// CustomerThreads returns a customer's threads, the most recently active
// first. Events not threaded yet (stored before threads existed and not
// passed through `mailtrail reclassify`) are left out.
func CustomerThreads(ctx context.Context, db DB, customerID int64, cur ThreadCursor, limit int) ([]ThreadSummary, error) {
	if cur.Before.IsZero() {
		cur.Before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	// Counts per thread first (cheap), then the last event and the open
	// inquiry of the page's threads only, by index lookups.
	rows, err := db.Query(ctx, `
		WITH t AS (
			SELECT e.thread_id, count(*) AS n, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at,
				count(*) FILTER (WHERE e.kind = 'inquiry') AS inquiries,
				count(*) FILTER (WHERE e.kind = 'quote') AS quotes
			FROM events e
			WHERE e.customer_id = $1 AND e.thread_id IS NOT NULL
			GROUP BY e.thread_id
			HAVING (max(e.occurred_at), e.thread_id) < ($2, $3)
			ORDER BY max(e.occurred_at) DESC, e.thread_id DESC
			LIMIT $4)
		SELECT t.thread_id, l.subject, t.first_at, t.last_at, l.direction, l.rep, t.n, t.inquiries, t.quotes,
			o.id, o.occurred_at, o.subject
		FROM t
		CROSS JOIN LATERAL (
			SELECT m.subject, e.direction, e.rep FROM events e JOIN messages m ON m.id = e.message_id
			WHERE e.thread_id = t.thread_id AND e.customer_id = $1
			ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) l
		LEFT JOIN LATERAL (
			SELECT e.id, e.occurred_at, m.subject FROM events e JOIN messages m ON m.id = e.message_id
			WHERE e.thread_id = t.thread_id AND e.customer_id = $1 AND e.kind = 'inquiry' AND e.quote_event_id IS NULL
			ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) o ON true
		ORDER BY t.last_at DESC, t.thread_id DESC`, customerID, cur.Before, cur.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("threads of customer %d: %w", customerID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ThreadSummary, error) {
		var s ThreadSummary
		var oid *int64
		var oat *time.Time
		var osub *string
		err := row.Scan(&s.ThreadID, &s.Subject, &s.FirstAt, &s.LastAt, &s.LastDirection, &s.LastRep, &s.Messages,
			&s.Kinds.Inquiry, &s.Kinds.Quote, &oid, &oat, &osub)
		s.Kinds.Email = s.Messages - s.Kinds.Inquiry - s.Kinds.Quote
		if oid != nil {
			s.OpenInquiry = &EventRef{EventID: *oid, OccurredAt: *oat, Subject: *osub}
		}
		return s, err
	})
}

// Thread is one conversation: its events in order.
type Thread struct {
	ThreadID    int64   `json:"thread_id"`
	CustomerIDs []int64 `json:"customer_ids"`
	Events      []Event `json:"events"`
}

// GetThread returns the events of thread id that v may see, oldest first,
// after the event (AfterAt, AfterID) when set, at most limit of them. An id
// merged into another thread resolves to that thread. ErrNotFound when the
// thread does not exist or v sees none of its customers.
func GetThread(ctx context.Context, db DB, id int64, scope Scope, afterAt time.Time, afterID int64, limit int) (Thread, error) {
	live, err := resolveThread(ctx, db, id)
	if err != nil {
		return Thread{}, err
	}
	t := Thread{ThreadID: live}
	err = db.QueryRow(ctx, `
		SELECT coalesce(array_agg(DISTINCT e.customer_id ORDER BY e.customer_id), '{}') FROM events e
		WHERE e.thread_id = $1 AND `+VisibleSQL("e.customer_id", 2), live, scope.Rep).Scan(&t.CustomerIDs)
	if err != nil {
		return t, fmt.Errorf("thread %d: %w", live, err)
	}
	if len(t.CustomerIDs) == 0 {
		return t, ErrNotFound
	}
	rows, err := db.Query(ctx, eventSelect+`
		WHERE e.thread_id = $1 AND e.customer_id = ANY($2) AND (e.occurred_at, e.id) > ($3, $4)
		ORDER BY e.occurred_at, e.id LIMIT $5`, live, t.CustomerIDs, afterAt, afterID, limit)
	if err != nil {
		return t, fmt.Errorf("events of thread %d: %w", live, err)
	}
	t.Events, err = pgx.CollectRows(rows, scanEvent)
	return t, err
}

// GetEvent returns one event or ErrNotFound.
func GetEvent(ctx context.Context, db DB, id int64) (Event, error) {
	rows, err := db.Query(ctx, eventSelect+` WHERE e.id = $1`, id)
	if err != nil {
		return Event{}, fmt.Errorf("event %d: %w", id, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanEvent)
	return e, notFound(err)
}
