package handover

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// Item is one piece of open business: an inquiry still waiting for a
// quote, or a quote still waiting for the buyer's answer.
type Item struct {
	EventID     int64     `json:"event_id"`
	CustomerID  int64     `json:"customer_id"`
	Customer    string    `json:"customer"`
	Kind        string    `json:"kind"` // inquiry or quote
	Subject     string    `json:"subject"`
	At          time.Time `json:"at"`
	AgeDays     int       `json:"age_days"`
	Counterpart string    `json:"counterpart"` // who asked (inquiry) or was quoted (quote)
	// Quote figures, when the store knows them (see quoteFigures).
	QuoteRef string `json:"quote_ref,omitempty"`
	Currency string `json:"currency,omitempty"`
	Amount   string `json:"amount,omitempty"`
}

// OpenBusiness returns the rep's open inquiries and unanswered quotes
// between since and until, oldest first, computed from events alone:
//
//   - an inquiry (kind inquiry, attributed to rep) is open when no quote
//     event for the same customer, by any rep, follows it up to until;
//   - a quote (kind quote, outbound, attributed to rep) is unanswered when
//     no inbound event from the same customer follows it up to until.
//
// "Follows" compares occurred_at. This is the one place that decides what
// is open; when issue 4 links inquiries to the quotes that answer them,
// swap the NOT EXISTS clauses below for that link and keep the signature.
func OpenBusiness(ctx context.Context, db timeline.DB, rep string, since, until time.Time) (inquiries, quotes []Item, err error) {
	figures, err := quoteFigures(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.Query(ctx, openInquiriesSQL, rep, since, until)
	if err != nil {
		return nil, nil, fmt.Errorf("open inquiries of %s: %w", rep, err)
	}
	if inquiries, err = collectItems(rows, until); err != nil {
		return nil, nil, fmt.Errorf("open inquiries of %s: %w", rep, err)
	}
	rows, err = db.Query(ctx, unansweredQuotesSQL(figures), rep, since, until)
	if err != nil {
		return nil, nil, fmt.Errorf("unanswered quotes of %s: %w", rep, err)
	}
	if quotes, err = collectItems(rows, until); err != nil {
		return nil, nil, fmt.Errorf("unanswered quotes of %s: %w", rep, err)
	}
	return inquiries, quotes, nil
}

// customerAddrSQL is true when the lower-case address addr belongs to
// customer cust: one of its contacts, or on one of its domains or a
// subdomain of one. addr and cust are SQL expressions written in code.
func customerAddrSQL(addr, cust string) string {
	return `(EXISTS (SELECT 1 FROM contacts ck WHERE ck.customer_id = ` + cust + ` AND ck.email = ` + addr + `)
		OR EXISTS (SELECT 1 FROM customer_domains cd WHERE cd.customer_id = ` + cust + `
			AND (split_part(` + addr + `, '@', 2) = cd.domain OR split_part(` + addr + `, '@', 2) LIKE '%.' || cd.domain)))`
}

// counterpartSQL picks the first address of the jsonb address list expr
// that belongs to the event's customer (e.customer_id), or NULL.
func counterpartSQL(list string) string {
	return `(SELECT lower(a->>'email') FROM jsonb_array_elements(` + list + `) WITH ORDINALITY AS x(a, n)
		WHERE ` + customerAddrSQL("lower(a->>'email')", "e.customer_id") + ` ORDER BY n LIMIT 1)`
}

// openInquiriesSQL: the rep's inquiries in [$2, $3] that no quote event
// for the same customer follows up to $3.
var openInquiriesSQL = `
		SELECT e.id, e.customer_id, c.name, e.kind, m.subject, e.occurred_at,
			coalesce(` + counterpartSQL("m.from_addrs || m.cc_addrs") + `, m.from_addrs->0->>'email', ''),
			NULL::text, NULL::text, NULL::text
		FROM events e
		JOIN messages m ON m.id = e.message_id
		JOIN customers c ON c.id = e.customer_id
		WHERE e.rep = $1 AND e.kind = 'inquiry' AND e.occurred_at >= $2 AND e.occurred_at <= $3
			AND NOT EXISTS (
				SELECT 1 FROM events q
				WHERE q.customer_id = e.customer_id AND q.kind = 'quote'
					AND q.occurred_at > e.occurred_at AND q.occurred_at <= $3)
		ORDER BY e.occurred_at, e.id`

// unansweredQuotesSQL: the rep's outbound quotes in [$2, $3] that no
// inbound event of the same customer follows up to $3; figures is the
// select list of quoteFigures.
func unansweredQuotesSQL(figures string) string {
	return `
		SELECT e.id, e.customer_id, c.name, e.kind, m.subject, e.occurred_at,
			coalesce(` + counterpartSQL("m.to_addrs || m.cc_addrs || m.bcc_addrs") + `, ''), ` + figures + `
		FROM events e
		JOIN messages m ON m.id = e.message_id
		JOIN customers c ON c.id = e.customer_id
		WHERE e.rep = $1 AND e.kind = 'quote' AND e.direction = 'out'
			AND e.occurred_at >= $2 AND e.occurred_at <= $3
			AND NOT EXISTS (
				SELECT 1 FROM events r
				WHERE r.customer_id = e.customer_id AND r.direction = 'in'
					AND r.occurred_at > e.occurred_at AND r.occurred_at <= $3)
		ORDER BY e.occurred_at, e.id`
}

func collectItems(rows pgx.Rows, until time.Time) ([]Item, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		var ref, cur, amount *string
		err := row.Scan(&it.EventID, &it.CustomerID, &it.Customer, &it.Kind, &it.Subject, &it.At, &it.Counterpart, &ref, &cur, &amount)
		it.AgeDays = days(until.Sub(it.At))
		it.QuoteRef, it.Currency, it.Amount = deref(ref), deref(cur), deref(amount)
		return it, err
	})
}

// quoteFigures returns the select list of a quote's reference, currency
// and amount: the events columns quote_ref, currency and amount when the
// schema has all three (issue 4 may add them), else NULLs. The column
// names are fixed here, never taken from input.
//
// TODO(lead): when the merged schema always has these columns, select
// them directly and drop this check.
func quoteFigures(ctx context.Context, db timeline.DB) (string, error) {
	var n int
	err := db.QueryRow(ctx, `
		SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'events'
			AND column_name IN ('quote_ref', 'currency', 'amount')`).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("look for quote columns: %w", err)
	}
	if n == 3 {
		return `e.quote_ref::text, e.currency::text, e.amount::text`, nil
	}
	return `NULL::text, NULL::text, NULL::text`, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func days(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}
