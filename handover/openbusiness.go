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
	// What a quote states, when it could be read (package quote).
	QuoteRef string `json:"quote_ref,omitempty"`
	Currency string `json:"currency,omitempty"`
	Amount   string `json:"amount,omitempty"`
}

// OpenBusiness returns the rep's open inquiries and unanswered quotes
// between since and until, oldest first:
//
//   - an inquiry (kind inquiry, attributed to rep) is open when it has no
//     quote linked by until (timeline's link: a quote to the customer by
//     any rep in its thread, else within timeline.QuoteWindow), as in the
//     follow-up lists;
//   - a quote (kind quote, outbound, attributed to rep) is unanswered when
//     no inbound event from the same customer follows it up to until.
func OpenBusiness(ctx context.Context, db timeline.DB, rep string, since, until time.Time) (inquiries, quotes []Item, err error) {
	rows, err := db.Query(ctx, openInquiriesSQL, rep, since, until)
	if err != nil {
		return nil, nil, fmt.Errorf("open inquiries of %s: %w", rep, err)
	}
	if inquiries, err = collectItems(rows, until); err != nil {
		return nil, nil, fmt.Errorf("open inquiries of %s: %w", rep, err)
	}
	rows, err = db.Query(ctx, unansweredQuotesSQL, rep, since, until)
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

// openInquiriesSQL: the rep's inquiries in [$2, $3] with no quote linked
// by $3.
var openInquiriesSQL = `
		SELECT e.id, e.customer_id, c.name, e.kind, m.subject, e.occurred_at,
			coalesce(` + counterpartSQL("m.from_addrs || m.cc_addrs") + `, m.from_addrs->0->>'email', ''),
			NULL::text, NULL::text, NULL::text
		FROM events e
		JOIN messages m ON m.id = e.message_id
		JOIN customers c ON c.id = e.customer_id
		WHERE e.rep = $1 AND e.kind = 'inquiry' AND e.occurred_at >= $2 AND e.occurred_at <= $3
			AND (e.quoted_at IS NULL OR e.quoted_at > $3)
		ORDER BY e.occurred_at, e.id`

// unansweredQuotesSQL: the rep's outbound quotes in [$2, $3] that no
// inbound event of the same customer follows up to $3, with what the
// quote states (number, currency, total).
var unansweredQuotesSQL = `
		SELECT e.id, e.customer_id, c.name, e.kind, m.subject, e.occurred_at,
			coalesce(` + counterpartSQL("m.to_addrs || m.cc_addrs || m.bcc_addrs") + `, ''),
			e.quote_ref::text, e.currency::text, e.amount::text
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
