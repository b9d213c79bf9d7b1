package timeline

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// Policy is the follow-up discipline: how often each grade of customer
// must hear from its rep, when an inquiry counts as unanswered, and when
// an owner's idle customer goes back to the public pool. The config's
// followup and pool sections fill it (see configs/mailtrail.example.yaml).
type Policy struct {
	Cadence          map[string]time.Duration // grade "A".."E" -> longest allowed silence
	UnansweredAfter  time.Duration            // of working time
	Work             WorkingTime
	PoolReleaseAfter time.Duration // 0: owned customers never go back to the pool
}

// DefaultPolicy is the policy of the issue: A daily, B weekly, C every 15
// days, D monthly, E yearly; an inquiry is unanswered after 24 working
// hours (Monday to Friday, UTC); no release to the pool.
func DefaultPolicy() Policy {
	return Policy{
		Cadence: map[string]time.Duration{
			"A": 24 * time.Hour, "B": 7 * 24 * time.Hour, "C": 15 * 24 * time.Hour,
			"D": 30 * 24 * time.Hour, "E": 365 * 24 * time.Hour,
		},
		UnansweredAfter: 24 * time.Hour,
		Work:            MondayToFriday(),
	}
}

// Followup is a customer overdue for a follow-up.
type Followup struct {
	CustomerID   int64     `json:"customer_id"`
	Name         string    `json:"name"`
	Grade        string    `json:"grade"`
	Owner        string    `json:"owner"`
	CadenceHours float64   `json:"cadence_hours"`
	LastTouch    *Touch    `json:"last_touch"` // nil: never written to
	DueAt        time.Time `json:"due_at"`
	OverdueHours float64   `json:"overdue_hours"`
	OpenInquiry  *EventRef `json:"open_inquiry"` // the newest inquiry with no quote, if any
	CreatedAt    time.Time `json:"customer_created_at"`
}

// Touch is an outbound event: a rep writing to the customer.
type Touch struct {
	EventID   int64     `json:"event_id"`
	At        time.Time `json:"at"`
	Rep       string    `json:"rep"`
	Kind      string    `json:"kind"`
	Subject   string    `json:"subject"`
	DaysSince float64   `json:"days_since"`
}

// Page sizes a page of a list: at most Limit rows, after the list's own
// keyset cursor (FollowupCursor, UnansweredCursor, a customer id for the
// pool). Offset skips rows after the cursor first: it serves the API's
// deprecated offset parameter, which a client sends only without a cursor.
type Page struct {
	Limit, Offset int
}

// FollowupCursor positions a page of Followups: customers after (Due,
// CustomerID) in the list's order. The order is the due time, which does
// not move as time passes (a new outbound mail, grade or cadence does), so
// pages stay stable while the list grows at its end. The zero value starts
// at the most overdue.
type FollowupCursor struct {
	Due        time.Time
	CustomerID int64
}

// Followups lists the graded customers overdue for a follow-up at now,
// most overdue first: a customer is due its grade's cadence after the last
// outbound event to it (by any rep), or after it was created when nobody
// ever wrote to it; ties by customer id. rep, when set, keeps the
// customers it owns. Customers without a grade, or with a grade the policy
// has no cadence for, are not listed. The handover report applies the same
// rule (FollowupsOf).
func Followups(ctx context.Context, db DB, p Policy, now time.Time, rep string, scope Scope, cur FollowupCursor, pg Page) ([]Followup, error) {
	return followups(ctx, db, p, now, rep, scope, cur, pg, nil)
}

// FollowupsOf returns those of the customers ids that are overdue at now by
// the rule of Followups, most overdue first, as of now: mail dated after
// now is not counted, so that a report of a past day says what was due
// that day.
func FollowupsOf(ctx context.Context, db DB, p Policy, now time.Time, ids []int64) ([]Followup, error) {
	if len(ids) == 0 {
		return []Followup{}, nil
	}
	return followups(ctx, db, p, now, "", Scope{}, FollowupCursor{}, Page{Limit: len(ids)}, ids)
}

// followups is the one query of the follow-up rule: ids, when not nil,
// restricts it to those customers, as of now (mail after now is ignored:
// a report of a past day).
func followups(ctx context.Context, db DB, p Policy, now time.Time, rep string, scope Scope, cur FollowupCursor, pg Page, ids []int64) ([]Followup, error) {
	var grades []string
	var secs []float64
	for g, d := range p.Cadence {
		grades = append(grades, g)
		secs = append(secs, d.Seconds())
	}
	rows, err := db.Query(ctx, `
		WITH cad AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS x (grade, secs)),
		c AS (
			SELECT c.id, c.name, c.grade, coalesce(c.owner, '') AS owner, c.created_at, cad.secs,
				lt.id AS touch_id, lt.occurred_at AS touch_at, lt.rep AS touch_rep, lt.kind AS touch_kind, lt.message_id AS touch_msg,
				coalesce(lt.occurred_at, c.created_at) + make_interval(secs => cad.secs) AS due
			FROM customers c JOIN cad ON cad.grade = c.grade
			LEFT JOIN LATERAL (
				SELECT e.id, e.occurred_at, e.rep, e.kind, e.message_id FROM events e
				WHERE e.customer_id = c.id AND e.direction = 'out' AND (NOT $9 OR e.occurred_at <= $5)
				ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) lt ON true
			WHERE ($3 = '' OR c.owner = $3) AND `+VisibleSQL("c.id", 4)+`
				AND ($8::bigint[] IS NULL OR c.id = ANY($8)))
		SELECT c.id, c.name, c.grade, c.owner, c.created_at, c.secs, c.due,
			c.touch_id, c.touch_at, c.touch_rep, c.touch_kind, tm.subject,
			oi.id, oi.occurred_at, oi.subject
		FROM c
		LEFT JOIN messages tm ON tm.id = c.touch_msg
		LEFT JOIN LATERAL (
			SELECT e.id, e.occurred_at, m.subject FROM events e JOIN messages m ON m.id = e.message_id
			WHERE e.customer_id = c.id AND e.kind = 'inquiry' AND e.quote_event_id IS NULL
				AND (NOT $9 OR e.occurred_at <= $5)
			ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) oi ON true
		WHERE c.due < $5 AND ($10 OR (c.due, c.id) > ($11, $12))
		ORDER BY c.due, c.id
		LIMIT $6 OFFSET $7`, grades, secs, rep, scope.Rep, now, pg.Limit, pg.Offset, ids, ids != nil,
		cur == FollowupCursor{}, cur.Due, cur.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Followup, error) {
		var f Followup
		var secs float64
		var tid *int64
		var tat *time.Time
		var trep, tkind, tsub *string
		var oid *int64
		var oat *time.Time
		var osub *string
		err := row.Scan(&f.CustomerID, &f.Name, &f.Grade, &f.Owner, &f.CreatedAt, &secs, &f.DueAt,
			&tid, &tat, &trep, &tkind, &tsub, &oid, &oat, &osub)
		f.CadenceHours = secs / 3600
		f.OverdueHours = hours(now.Sub(f.DueAt))
		if tid != nil {
			f.LastTouch = &Touch{EventID: *tid, At: *tat, Rep: *trep, Kind: *tkind, Subject: deref(tsub),
				DaysSince: round2(now.Sub(*tat).Hours() / 24)}
		}
		if oid != nil {
			f.OpenInquiry = &EventRef{EventID: *oid, OccurredAt: *oat, Subject: deref(osub)}
		}
		return f, err
	})
}

// UnansweredInquiry is an inquiry that no outbound event to its customer
// has followed within the policy's working time.
type UnansweredInquiry struct {
	EventID      int64     `json:"event_id"`
	CustomerID   int64     `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	Rep          string    `json:"rep"`
	Subject      string    `json:"subject"`
	OccurredAt   time.Time `json:"occurred_at"`
	DueAt        time.Time `json:"due_at"`
	WaitingHours float64   `json:"waiting_working_hours"`
	ThreadID     *int64    `json:"thread_id"`
}

// UnansweredCursor positions a page of UnansweredInquiries: inquiries
// after (OccurredAt, EventID), oldest first. The zero value starts at the
// oldest.
type UnansweredCursor struct {
	OccurredAt time.Time
	EventID    int64
}

// RepCount is a count per rep.
type RepCount struct {
	Rep   string `json:"rep"`
	Count int    `json:"count"`
}

// UnansweredInquiries lists, oldest first, the inquiries received since
// `since` that nobody has answered (no outbound event to the customer after
// them) although p.UnansweredAfter of working time has passed by now, and
// their number per rep (over all of them, not just the page). rep, when
// set, keeps that rep's inquiries.
func UnansweredInquiries(ctx context.Context, db DB, p Policy, now, since time.Time, rep string, scope Scope, cur UnansweredCursor, pg Page) ([]UnansweredInquiry, []RepCount, error) {
	cutoff := p.Work.Sub(now, p.UnansweredAfter)
	where := `e.kind = 'inquiry' AND e.replied_at IS NULL AND e.occurred_at <= $1 AND e.occurred_at >= $2
		AND ($3 = '' OR e.rep = $3) AND ` + VisibleSQL("e.customer_id", 4)
	rows, err := db.Query(ctx, `
		SELECT e.id, e.customer_id, c.name, e.rep, m.subject, e.occurred_at, e.thread_id
		FROM events e JOIN customers c ON c.id = e.customer_id JOIN messages m ON m.id = e.message_id
		WHERE `+where+` AND ($7 OR (e.occurred_at, e.id) > ($8, $9))
		ORDER BY e.occurred_at, e.id LIMIT $5 OFFSET $6`, cutoff, since, rep, scope.Rep, pg.Limit, pg.Offset,
		cur == UnansweredCursor{}, cur.OccurredAt, cur.EventID)
	if err != nil {
		return nil, nil, fmt.Errorf("unanswered inquiries: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (UnansweredInquiry, error) {
		var u UnansweredInquiry
		err := row.Scan(&u.EventID, &u.CustomerID, &u.CustomerName, &u.Rep, &u.Subject, &u.OccurredAt, &u.ThreadID)
		u.DueAt = p.Work.Add(u.OccurredAt, p.UnansweredAfter)
		u.WaitingHours = hours(p.Work.Between(u.OccurredAt, now))
		return u, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("unanswered inquiries: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT e.rep, count(*) FROM events e WHERE `+where+` GROUP BY e.rep ORDER BY 2 DESC, 1`,
		cutoff, since, rep, scope.Rep)
	if err != nil {
		return nil, nil, fmt.Errorf("unanswered inquiries per rep: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RepCount])
	if err != nil {
		return nil, nil, fmt.Errorf("unanswered inquiries per rep: %w", err)
	}
	return list, counts, nil
}

// Pool reasons.
const (
	PoolNoOwner       = "no_owner"       // nobody owns the customer
	PoolOwnerInactive = "owner_inactive" // its owner has not written to it for PoolReleaseAfter
)

// PoolEntry is a customer in the public pool, with the reason.
type PoolEntry struct {
	CustomerID int64      `json:"customer_id"`
	Name       string     `json:"name"`
	Grade      string     `json:"grade,omitempty"`
	Owner      string     `json:"owner,omitempty"`
	Reason     string     `json:"reason"`
	LastTouch  *time.Time `json:"last_touch"` // the owner's last outbound event; anyone's for no_owner
	IdleDays   float64    `json:"idle_days"`  // since LastTouch, else since the customer was created
}

// PublicPool lists the customers with no owner and, when
// p.PoolReleaseAfter is set, the customers whose owner has not written to
// them (no outbound event by the owner) for that long, by customer id,
// after customer id `after` (0 for the first page). The list is computed,
// not applied: ownership is not changed here.
func PublicPool(ctx context.Context, db DB, p Policy, now time.Time, scope Scope, after int64, pg Page) ([]PoolEntry, error) {
	release := p.PoolReleaseAfter
	rows, err := db.Query(ctx, `
		WITH c AS (
			SELECT c.id, c.name, coalesce(c.grade, '') AS grade, coalesce(c.owner, '') AS owner, c.created_at,
				lt.at AS touch_at
			FROM customers c
			LEFT JOIN LATERAL (
				SELECT e.occurred_at AS at FROM events e
				WHERE e.customer_id = c.id AND e.direction = 'out' AND (coalesce(c.owner, '') = '' OR e.rep = c.owner)
				ORDER BY e.occurred_at DESC LIMIT 1) lt ON true
			WHERE `+VisibleSQL("c.id", 1)+`)
		SELECT id, name, grade, owner, touch_at,
			CASE WHEN owner = '' THEN 'no_owner' ELSE 'owner_inactive' END,
			extract(epoch FROM $2 - coalesce(touch_at, created_at)) / 86400
		FROM c
		WHERE (owner = '' OR ($3::interval > '0'::interval AND coalesce(touch_at, created_at) < $2 - $3::interval))
			AND id > $6
		ORDER BY id LIMIT $4 OFFSET $5`, scope.Rep, now, release, pg.Limit, pg.Offset, after)
	if err != nil {
		return nil, fmt.Errorf("public pool: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PoolEntry, error) {
		var e PoolEntry
		err := row.Scan(&e.CustomerID, &e.Name, &e.Grade, &e.Owner, &e.LastTouch, &e.Reason, &e.IdleDays)
		e.IdleDays = round2(e.IdleDays)
		return e, err
	})
}

func hours(d time.Duration) float64 { return round2(d.Hours()) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
