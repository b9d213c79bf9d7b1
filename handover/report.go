// Package handover answers the day a sales rep leaves: a report of
// everything the rep was handling, built from the captured mail alone,
// and the transfer of the rep's customers to colleagues with an audit
// trail. Nothing captured from the rep's mailbox is removed: the history
// stays on the customers' timelines and in search.
package handover

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// Options chooses what a report covers.
type Options struct {
	Rep        string                   // the rep's address, lower-case (required)
	Months     int                      // the period, ending at Now; 0 means 12
	Now        time.Time                // the end of the period; zero means time.Now()
	Cadence    map[string]time.Duration // follow-up cadence per grade (config followup.cadence); nil means timeline.DefaultPolicy's
	ActiveDays int                      // a thread is active if its last message is this recent; 0 means 90
	MaxThreads int                      // active threads listed per customer; 0 means 5
}

// MaxMonths bounds Options.Months.
const MaxMonths = 120

// InputError is a bad option or request; Field names it.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

// FieldName returns the name of the bad field.
func (e *InputError) FieldName() string { return e.Field }

func (o *Options) fill() error {
	if _, ok := matcher.Normalize(o.Rep); !ok || o.Rep != strings.ToLower(o.Rep) {
		return &InputError{"rep", fmt.Sprintf("%q is not a lower-case e-mail address", o.Rep)}
	}
	if o.Months == 0 {
		o.Months = 12
	}
	if o.Months < 1 || o.Months > MaxMonths {
		return &InputError{"months", fmt.Sprintf("must be a whole number from 1 to %d", MaxMonths)}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	if o.Cadence == nil {
		o.Cadence = timeline.DefaultPolicy().Cadence
	}
	o.ActiveDays = cmp.Or(o.ActiveDays, 90)
	o.MaxThreads = cmp.Or(o.MaxThreads, 5)
	return nil
}

// Report is the handover report of one rep.
type Report struct {
	Rep         string     `json:"rep"`
	GeneratedAt time.Time  `json:"generated_at"`
	Since       time.Time  `json:"since"`
	Until       time.Time  `json:"until"`
	Months      int        `json:"months"`
	Summary     Summary    `json:"summary"`
	Customers   []Customer `json:"customers"`
}

// Summary is the top of the report.
type Summary struct {
	Customers        int           `json:"customers"`
	Owned            int           `json:"owned"`
	OpenInquiries    int           `json:"open_inquiries"`
	UnansweredQuotes int           `json:"unanswered_quotes"`
	OverdueFollowUps int           `json:"overdue_follow_ups"`
	ActiveThreads    int           `json:"active_threads"`
	AtRisk           int           `json:"at_risk"`
	QuotedTotals     []Total       `json:"quoted_totals"` // unanswered quotes' amounts per currency, when known
	OpenBusiness     []Item        `json:"open_business"` // every open inquiry and unanswered quote, in report order
	AtRiskCustomers  []CustomerRef `json:"at_risk_customers"`
}

// Total is a sum of quoted amounts in one currency.
type Total struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`
	Quotes   int     `json:"quotes"`
}

// CustomerRef names a customer.
type CustomerRef struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Grade string `json:"grade"`
}

// Customer is one customer in the report.
type Customer struct {
	ID               int64      `json:"id"`
	Name             string     `json:"name"`
	Grade            string     `json:"grade"`
	Owner            string     `json:"owner"`
	Country          string     `json:"country"`
	AutoCreated      bool       `json:"auto_created"`
	OwnedByRep       bool       `json:"owned_by_rep"`
	KeyContacts      []Contact  `json:"key_contacts"`
	LastInbound      *time.Time `json:"last_inbound"`
	LastOutbound     *time.Time `json:"last_outbound"`
	LastActivity     *time.Time `json:"last_activity"`
	OpenInquiries    []Item     `json:"open_inquiries"`
	UnansweredQuotes []Item     `json:"unanswered_quotes"`
	ActiveThreads    []Thread   `json:"active_threads"`
	FollowUp         *FollowUp  `json:"follow_up_overdue"` // nil when none is due
	SoleContact      bool       `json:"sole_contact"`      // no colleague ever corresponded with them
	OtherReps        []string   `json:"other_reps"`        // colleagues who corresponded with them too
	NextAction       string     `json:"next_action"`
}

// Contact is one of a customer's people, ranked by how much mail was
// exchanged with them.
type Contact struct {
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Messages    int       `json:"messages"`
	LastContact time.Time `json:"last_contact"`
}

// Thread is a conversation: the store's thread (References, In-Reply-To,
// else subject and participants; see timeline's threading), or for mail
// saved without one, its subject.
type Thread struct {
	ID          int64     `json:"thread_id,omitempty"` // GET /api/v1/threads/{id}; 0 when grouped by subject
	Subject     string    `json:"subject"`
	Messages    int       `json:"messages"`
	LastAt      time.Time `json:"last_at"`
	LastFrom    string    `json:"last_from"`     // who spoke last: the contact's or the rep's address
	WaitingOnUs bool      `json:"waiting_on_us"` // the customer spoke last, and we have not written to them since
}

// FollowUp says a customer is overdue for contact by its grade's cadence.
type FollowUp struct {
	// LastContact is the last outbound mail to the customer, by anyone; nil
	// when nobody ever wrote to them (then DueAt counts from the
	// customer's creation).
	LastContact *time.Time `json:"last_contact"`
	CadenceDays int        `json:"cadence_days"`
	DueAt       time.Time  `json:"due_at"`
	OverdueDays int        `json:"overdue_days"`
}

// Build gathers the report of o.Rep: every customer the rep owns, or
// corresponded with between Now-Months and Now, most important first
// (grade, then open business, then recent activity).
func Build(ctx context.Context, db timeline.DB, o Options) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	r := &Report{Rep: o.Rep, GeneratedAt: time.Now().UTC(), Until: o.Now, Months: o.Months,
		Since: o.Now.AddDate(0, -o.Months, 0)}
	if pool, ok := db.(*pgxpool.Pool); ok {
		// One snapshot for every query, so that the parts of the report
		// agree while mail keeps arriving. JIT off: the planner's row
		// estimates for these joins overshoot, and compiling them cost
		// about 2 s against tens of milliseconds of execution (measured
		// with BenchmarkBuild).
		tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return nil, fmt.Errorf("report of %s: %w", o.Rep, err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return nil, fmt.Errorf("report of %s: %w", o.Rep, err)
		}
		db = tx
	}
	custs, err := loadCustomers(ctx, db, o.Rep, r.Since, r.Until)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Customer{}
	ids := make([]int64, len(custs))
	for i := range custs {
		byID[custs[i].ID] = &custs[i]
		ids[i] = custs[i].ID
	}
	if err := loadContacts(ctx, db, ids, r.Until, byID); err != nil {
		return nil, err
	}
	inquiries, quotes, err := OpenBusiness(ctx, db, o.Rep, r.Since, r.Until)
	if err != nil {
		return nil, err
	}
	for _, it := range inquiries {
		if c := byID[it.CustomerID]; c != nil {
			c.OpenInquiries = append(c.OpenInquiries, it)
		}
	}
	for _, it := range quotes {
		if c := byID[it.CustomerID]; c != nil {
			c.UnansweredQuotes = append(c.UnansweredQuotes, it)
		}
	}
	if err := loadThreads(ctx, db, o, ids, r.Since, byID); err != nil {
		return nil, err
	}
	sole, err := SoleContacts(ctx, db, o.Rep, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range sole {
		byID[id].SoleContact = true
	}
	if err := loadFollowUps(ctx, db, o, ids, byID); err != nil {
		return nil, err
	}
	for i := range custs {
		c := &custs[i]
		c.NextAction = nextAction(c, o)
	}
	slices.SortStableFunc(custs, func(a, b Customer) int {
		return cmp.Or(
			cmp.Compare(gradeRank(a.Grade), gradeRank(b.Grade)),
			-cmp.Compare(len(a.OpenInquiries)+len(a.UnansweredQuotes), len(b.OpenInquiries)+len(b.UnansweredQuotes)),
			-compareTimes(a.LastActivity, b.LastActivity),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.ID, b.ID))
	})
	r.Customers = custs
	r.Summary = summarize(custs)
	return r, nil
}

// customersSQL: the customers of the report with their last inbound and
// outbound mail and the other reps who wrote with them, in one pass over
// their events.
const customersSQL = `
		WITH ids AS (
			SELECT id FROM customers WHERE owner = $1
			UNION
			SELECT DISTINCT customer_id FROM events WHERE rep = $1 AND occurred_at >= $2 AND occurred_at <= $3),
		agg AS (
			SELECT e.customer_id,
				max(e.occurred_at) FILTER (WHERE e.direction = 'in') AS last_in,
				max(e.occurred_at) FILTER (WHERE e.direction = 'out') AS last_out,
				array_agg(DISTINCT e.rep ORDER BY e.rep) FILTER (WHERE e.rep <> $1) AS others
			FROM events e JOIN ids ON ids.id = e.customer_id
			WHERE e.occurred_at <= $3
			GROUP BY e.customer_id)
		SELECT c.id, c.name, coalesce(c.grade, ''), coalesce(c.owner, ''), c.country, c.auto_created,
			coalesce(c.owner, '') = $1, agg.last_in, agg.last_out, coalesce(agg.others, '{}')
		FROM customers c JOIN ids ON ids.id = c.id LEFT JOIN agg ON agg.customer_id = c.id
		ORDER BY c.id`

// loadCustomers returns the customers rep owns or has events with in
// [since, until], with their last inbound, outbound and any activity up
// to until (by any rep), and the colleagues who corresponded with them.
func loadCustomers(ctx context.Context, db timeline.DB, rep string, since, until time.Time) ([]Customer, error) {
	rows, err := db.Query(ctx, customersSQL, rep, since, until)
	if err != nil {
		return nil, fmt.Errorf("customers of %s: %w", rep, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Customer, error) {
		var c Customer
		err := row.Scan(&c.ID, &c.Name, &c.Grade, &c.Owner, &c.Country, &c.AutoCreated, &c.OwnedByRep,
			&c.LastInbound, &c.LastOutbound, &c.OtherReps)
		c.LastInbound, c.LastOutbound = utc(c.LastInbound), utc(c.LastOutbound)
		c.LastActivity = latest(c.LastInbound, c.LastOutbound)
		c.KeyContacts, c.OpenInquiries, c.UnansweredQuotes, c.ActiveThreads = []Contact{}, []Item{}, []Item{}, []Thread{}
		return c, err
	})
}

// maxContacts is how many key contacts a customer lists.
const maxContacts = 5

// contactsSQL groups the addresses first and only then checks that they
// belong to the customer: a few per customer instead of one per message.
var contactsSQL = `
		WITH a AS (
			SELECT e.customer_id, e.occurred_at, lower(x.a->>'email') AS email, coalesce(x.a->>'name', '') AS name
			FROM events e JOIN messages m ON m.id = e.message_id,
				jsonb_array_elements(CASE WHEN e.direction = 'in' THEN m.from_addrs || m.cc_addrs
					ELSE m.to_addrs || m.cc_addrs || m.bcc_addrs END) AS x(a)
			WHERE e.customer_id = ANY($1) AND e.occurred_at <= $2),
		g AS (
			SELECT a.customer_id, a.email,
				(array_agg(a.name ORDER BY a.occurred_at DESC) FILTER (WHERE a.name <> ''))[1] AS name,
				count(*) AS n, max(a.occurred_at) AS last
			FROM a GROUP BY a.customer_id, a.email)
		SELECT g.customer_id, g.email,
			coalesce(g.name, (SELECT k.name FROM contacts k WHERE k.customer_id = g.customer_id AND k.email = g.email), ''),
			g.n, g.last
		FROM g
		WHERE ` + customerAddrSQL("g.email", "g.customer_id") + `
		ORDER BY g.customer_id, g.n DESC, g.last DESC, g.email`

// loadContacts ranks each customer's addresses by the messages exchanged
// with them (all time up to until): senders of inbound mail, recipients
// of outbound mail, Cc on both, that belong to the customer.
func loadContacts(ctx context.Context, db timeline.DB, ids []int64, until time.Time, byID map[int64]*Customer) error {
	rows, err := db.Query(ctx, contactsSQL, ids, until)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k Contact
		if err := rows.Scan(&id, &k.Email, &k.Name, &k.Messages, &k.LastContact); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		if c := byID[id]; c != nil && len(c.KeyContacts) < maxContacts {
			k.LastContact = k.LastContact.UTC()
			c.KeyContacts = append(c.KeyContacts, k)
		}
	}
	return rows.Err()
}

// loadThreads groups each customer's messages in the period by thread
// (by subject, ThreadKey, for those without one) and keeps the threads the rep took part in whose last
// message is at most o.ActiveDays old, newest first.
func loadThreads(ctx context.Context, db timeline.DB, o Options, ids []int64, since time.Time, byID map[int64]*Customer) error {
	rows, err := db.Query(ctx, `
		SELECT e.customer_id, e.rep, e.direction, e.occurred_at, m.subject,
			coalesce(lower(m.from_addrs->0->>'email'), ''), coalesce(t.merged_into, t.id, 0)
		FROM events e JOIN messages m ON m.id = e.message_id
		LEFT JOIN threads t ON t.id = e.thread_id
		WHERE e.customer_id = ANY($1) AND e.occurred_at >= $2 AND e.occurred_at <= $3
		ORDER BY e.customer_id, e.occurred_at, e.id`, ids, since, o.Now)
	if err != nil {
		return fmt.Errorf("threads: %w", err)
	}
	type key struct {
		customer int64
		thread   int64
		subject  string // when thread is 0
	}
	type acc struct {
		Thread
		repIn bool
	}
	threads := map[key]*acc{}
	var order []key
	for rows.Next() {
		var id int64
		var rep, dir, subject, from string
		var at time.Time
		var thread int64
		if err := rows.Scan(&id, &rep, &dir, &at, &subject, &from, &thread); err != nil {
			rows.Close()
			return fmt.Errorf("threads: %w", err)
		}
		k := key{customer: id, thread: thread}
		if thread == 0 {
			k.subject = ThreadKey(subject)
		}
		t := threads[k]
		if t == nil {
			t = &acc{Thread: Thread{ID: thread}}
			threads[k] = t
			order = append(order, k)
		}
		t.Messages++
		t.Subject, t.LastAt, t.WaitingOnUs = DisplaySubject(subject), at.UTC(), dir == "in"
		t.LastFrom = from
		if dir == "out" && from == "" {
			t.LastFrom = rep
		}
		t.repIn = t.repIn || rep == o.Rep
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("threads: %w", err)
	}
	cutoff := o.Now.AddDate(0, 0, -o.ActiveDays)
	for _, k := range order {
		t := threads[k]
		if t.repIn && !t.LastAt.Before(cutoff) {
			c := byID[k.customer]
			// A reply under another subject (a quote answering an RFQ)
			// ends the wait too.
			t.WaitingOnUs = t.WaitingOnUs && (c.LastOutbound == nil || c.LastOutbound.Before(t.LastAt))
			c.ActiveThreads = append(c.ActiveThreads, t.Thread)
		}
	}
	for _, c := range byID {
		slices.SortStableFunc(c.ActiveThreads, func(a, b Thread) int { return b.LastAt.Compare(a.LastAt) })
		if len(c.ActiveThreads) > o.MaxThreads {
			c.ActiveThreads = c.ActiveThreads[:o.MaxThreads]
		}
	}
	return nil
}

// otherRepsSQL selects, one row each time, the reps other than $1 who know
// customer c.id: an event of theirs, or its mail in their mailbox. None
// makes $1 the customer's sole contact (SoleContacts; Transfer's
// colleagues of an unowned customer).
const otherRepsSQL = `
	SELECT e.rep FROM events e WHERE e.customer_id = c.id AND e.rep <> $1
	UNION ALL
	SELECT lower(l.rep) FROM events e JOIN message_locations l ON l.message_id = e.message_id
	WHERE e.customer_id = c.id AND lower(l.rep) <> $1`

// SoleContacts returns those of ids that only rep ever corresponded
// with: every event of theirs, all time, is attributed to rep, and none
// of their messages was found in another rep's mailbox (otherRepsSQL).
// These are the customers the company risks losing with the rep.
func SoleContacts(ctx context.Context, db timeline.DB, rep string, ids []int64) ([]int64, error) {
	rows, err := db.Query(ctx, `
		SELECT c.id FROM unnest($2::bigint[]) AS c(id)
		WHERE EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.rep = $1)
			AND NOT EXISTS (`+otherRepsSQL+`)
		ORDER BY c.id`, rep, ids)
	if err != nil {
		return nil, fmt.Errorf("sole contacts of %s: %w", rep, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// loadFollowUps marks the customers overdue for a follow-up at o.Now by
// the rule of GET /api/v1/followups (timeline.Followups): graded
// customers only, due their grade's cadence after the last outbound mail
// by anyone, else after the customer was created.
func loadFollowUps(ctx context.Context, db timeline.DB, o Options, ids []int64, byID map[int64]*Customer) error {
	due, err := timeline.FollowupsOf(ctx, db, timeline.Policy{Cadence: o.Cadence}, o.Now, ids)
	if err != nil {
		return fmt.Errorf("follow-ups of %s: %w", o.Rep, err)
	}
	for _, f := range due {
		fu := &FollowUp{CadenceDays: days(o.Cadence[f.Grade]), DueAt: f.DueAt, OverdueDays: days(o.Now.Sub(f.DueAt))}
		if f.LastTouch != nil {
			at := f.LastTouch.At.UTC()
			fu.LastContact = &at
		}
		byID[f.CustomerID].FollowUp = fu
	}
	return nil
}

func summarize(custs []Customer) Summary {
	s := Summary{Customers: len(custs), QuotedTotals: []Total{}, OpenBusiness: []Item{}, AtRiskCustomers: []CustomerRef{}}
	totals := map[string]*Total{}
	var currencies []string
	for _, c := range custs {
		if c.OwnedByRep {
			s.Owned++
		}
		s.OpenInquiries += len(c.OpenInquiries)
		s.UnansweredQuotes += len(c.UnansweredQuotes)
		s.ActiveThreads += len(c.ActiveThreads)
		if c.FollowUp != nil {
			s.OverdueFollowUps++
		}
		if c.SoleContact {
			s.AtRisk++
			s.AtRiskCustomers = append(s.AtRiskCustomers, CustomerRef{c.ID, c.Name, c.Grade})
		}
		s.OpenBusiness = append(s.OpenBusiness, c.OpenInquiries...)
		s.OpenBusiness = append(s.OpenBusiness, c.UnansweredQuotes...)
		for _, q := range c.UnansweredQuotes {
			var amount float64
			if q.Currency == "" || q.Amount == "" {
				continue
			}
			if _, err := fmt.Sscan(q.Amount, &amount); err != nil {
				continue
			}
			t := totals[q.Currency]
			if t == nil {
				t = &Total{Currency: q.Currency}
				totals[q.Currency] = t
				currencies = append(currencies, q.Currency)
			}
			t.Amount += amount
			t.Quotes++
		}
	}
	slices.Sort(currencies)
	for _, cur := range currencies {
		s.QuotedTotals = append(s.QuotedTotals, *totals[cur])
	}
	return s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func gradeRank(g string) int {
	if g == "" {
		return 5
	}
	return int(g[0] - 'A')
}

func latest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.After(*b):
		return a
	default:
		return b
	}
}

// compareTimes orders nil before any time.
func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	default:
		return a.Compare(*b)
	}
}
