package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const eventSelect = `
	SELECT e.id, e.customer_id, e.kind, e.direction, e.rep, e.occurred_at, e.rule, e.confidence,
		m.message_id, m.subject, m.from_addrs, m.to_addrs, m.cc_addrs, left(m.body, 300), m.attachments,
		` + linkColumns + `
	FROM events e JOIN messages m ON m.id = e.message_id`

func scanEvent(row pgx.CollectableRow) (Event, error) {
	var e Event
	links, finish := e.EventLinks.scanDest()
	err := row.Scan(append([]any{&e.ID, &e.CustomerID, &e.Kind, &e.Direction, &e.Rep, &e.OccurredAt, &e.Rule, &e.Confidence,
		&e.MessageID, &e.Subject, &e.From, &e.To, &e.Cc, &e.Snippet, &e.Attachments}, links...)...)
	finish()
	return e, err
}

// TimelineCursor positions a page of a timeline: events strictly older than
// (Before, BeforeID). The zero value starts at the newest event.
type TimelineCursor struct {
	Before   time.Time
	BeforeID int64
}

// Timeline returns a customer's events, newest first.
func Timeline(ctx context.Context, db DB, customerID int64, cur TimelineCursor, limit int) ([]Event, error) {
	if cur.Before.IsZero() {
		cur.Before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := db.Query(ctx, eventSelect+`
		WHERE e.customer_id = $1 AND (e.occurred_at, e.id) < ($2, $3)
		ORDER BY e.occurred_at DESC, e.id DESC LIMIT $4`,
		customerID, cur.Before, cur.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("timeline of customer %d: %w", customerID, err)
	}
	return pgx.CollectRows(rows, scanEvent)
}

// ExportEvent is one line of `mailtrail export events`: the contract that
// outside tools script against. Add fields; never rename or drop one.
type ExportEvent struct {
	EventID    int64          `json:"event_id"`
	Kind       string         `json:"kind"`
	Direction  string         `json:"direction"`
	OccurredAt time.Time      `json:"occurred_at"`
	Rep        string         `json:"rep"`
	MessageID  *string        `json:"message_id"`
	Subject    string         `json:"subject"`
	From       []ExportAddr   `json:"from"`
	To         []ExportAddr   `json:"to"`
	Cc         []ExportAddr   `json:"cc"`
	Customer   ExportCustomer `json:"customer"`
	Rule       string         `json:"rule"`
	Confidence float32        `json:"confidence"`
	// Added with threads, links, corrections and quote details (issue 4).
	ThreadID     *int64     `json:"thread_id"`
	KindManual   *string    `json:"kind_manual"`    // a person's correction, already in Kind
	QuoteEventID *int64     `json:"quote_event_id"` // inquiry: the quote that answers it
	RepliedAt    *time.Time `json:"replied_at"`     // inquiry: first outbound event after it
	QuoteRef     *string    `json:"quote_ref"`
	Currency     *string    `json:"currency"`
	Amount       *float64   `json:"amount"`
}

// ExportAddr is an address in the export.
type ExportAddr struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// ExportCustomer is the customer of an exported event.
type ExportCustomer struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
	Emails  []string `json:"emails"`
}

// ExportEvents streams every event in id order to fn.
func ExportEvents(ctx context.Context, db DB, fn func(ExportEvent) error) error {
	rows, err := db.Query(ctx, `
		SELECT e.id, e.kind, e.direction, e.occurred_at, e.rep, m.message_id, m.subject,
			m.from_addrs, m.to_addrs, m.cc_addrs, e.rule, e.confidence, c.id, c.name,
			coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains d WHERE d.customer_id = c.id), '{}'),
			coalesce((SELECT array_agg(email ORDER BY email) FROM contacts k WHERE k.customer_id = c.id), '{}'),
			e.thread_id, e.kind_manual, e.quote_event_id,
			e.replied_at, e.quote_ref, e.currency, e.amount::float8
		FROM events e JOIN messages m ON m.id = e.message_id JOIN customers c ON c.id = e.customer_id
		ORDER BY e.id`)
	if err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x ExportEvent
		if err := rows.Scan(&x.EventID, &x.Kind, &x.Direction, &x.OccurredAt, &x.Rep, &x.MessageID, &x.Subject,
			&x.From, &x.To, &x.Cc, &x.Rule, &x.Confidence, &x.Customer.ID, &x.Customer.Name,
			&x.Customer.Domains, &x.Customer.Emails,
			&x.ThreadID, &x.KindManual, &x.QuoteEventID, &x.RepliedAt, &x.QuoteRef, &x.Currency, &x.Amount); err != nil {
			return fmt.Errorf("export events: %w", err)
		}
		x.OccurredAt = x.OccurredAt.UTC()
		if x.RepliedAt != nil {
			*x.RepliedAt = x.RepliedAt.UTC()
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DirectoryCustomer is what the matcher needs of a customer.
type DirectoryCustomer struct {
	ID          int64
	Name        string
	AutoCreated bool
	Domains     []string
	Contacts    []Contact
}

// Directory loads every customer with its domains and contacts, by id.
func Directory(ctx context.Context, db DB) ([]DirectoryCustomer, error) {
	rows, err := db.Query(ctx, `
		SELECT c.id, c.name, c.auto_created,
			coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains d WHERE d.customer_id = c.id), '{}'),
			coalesce((SELECT array_agg(email ORDER BY email) FROM contacts k WHERE k.customer_id = c.id), '{}'),
			coalesce((SELECT array_agg(name ORDER BY email) FROM contacts k WHERE k.customer_id = c.id), '{}'),
			coalesce((SELECT array_agg(learned ORDER BY email) FROM contacts k WHERE k.customer_id = c.id), '{}')
		FROM customers c ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("load customer directory: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DirectoryCustomer, error) {
		var d DirectoryCustomer
		var emails, names []string
		var learned []bool
		err := row.Scan(&d.ID, &d.Name, &d.AutoCreated, &d.Domains, &emails, &names, &learned)
		for i := range emails {
			d.Contacts = append(d.Contacts, Contact{Email: emails[i], Name: names[i], Learned: learned[i]})
		}
		return d, err
	})
}
