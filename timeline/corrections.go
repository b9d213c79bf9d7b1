package timeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ruleKindSQL is the kind a rule id stands for ("quote.en.x" -> quote,
// "email.default" -> email), in SQL over events aliased e.
const ruleKindSQL = `CASE split_part(e.rule, '.', 1) WHEN 'inquiry' THEN 'inquiry' WHEN 'quote' THEN 'quote' ELSE 'email' END`

// CorrectKind records a person's verdict on an event's kind: kind becomes
// the event's kind and stays so through `mailtrail reclassify`. An empty
// kind removes the correction, giving the event back the rules' kind. It
// queues the event for the search index and recomputes the customer's
// inquiry links, in db (call it in a transaction). Quote details are
// dropped when the event stops being a quote. It returns ErrNotFound for
// an unknown event.
func CorrectKind(ctx context.Context, db DB, eventID int64, kind, by string) (customerID int64, err error) {
	switch kind {
	case "", KindInquiry, KindQuote, KindEmail:
	default:
		return 0, fmt.Errorf("correct event %d: kind %q is not inquiry, quote or email", eventID, kind)
	}
	err = db.QueryRow(ctx, `
		UPDATE events e SET
			kind = coalesce($2, `+ruleKindSQL+`),
			kind_manual = $2,
			kind_manual_by = CASE WHEN $2 IS NULL THEN NULL ELSE $3 END,
			kind_manual_at = CASE WHEN $2 IS NULL THEN NULL ELSE now() END,
			quote_ref = CASE WHEN coalesce($2, `+ruleKindSQL+`) = 'quote' THEN e.quote_ref END,
			currency = CASE WHEN coalesce($2, `+ruleKindSQL+`) = 'quote' THEN e.currency END,
			amount = CASE WHEN coalesce($2, `+ruleKindSQL+`) = 'quote' THEN e.amount END
		WHERE e.id = $1
		RETURNING e.customer_id`, eventID, nullable(kind), by).Scan(&customerID)
	if err != nil {
		return 0, fmt.Errorf("correct event %d: %w", eventID, notFound(err))
	}
	if _, err := db.Exec(ctx, `INSERT INTO search_outbox (event_id) VALUES ($1)`, eventID); err != nil {
		return 0, fmt.Errorf("correct event %d: queue for search: %w", eventID, err)
	}
	if err := RelinkCustomer(ctx, db, customerID); err != nil {
		return 0, err
	}
	return customerID, nil
}

// EventRaw returns the raw message of an event.
func EventRaw(ctx context.Context, db DB, eventID int64) ([]byte, error) {
	var raw []byte
	err := db.QueryRow(ctx, `SELECT r.raw FROM events e JOIN message_raw r ON r.message_id = e.message_id WHERE e.id = $1`,
		eventID).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("raw message of event %d: %w", eventID, notFound(err))
	}
	return raw, nil
}

// RuleFeedback is what people said about one rule's verdicts: among the
// events the rule decided (Rule is what the rules say now, after the
// latest reclassify), how many a person corrected and to which kind.
type RuleFeedback struct {
	Rule        string         `json:"rule"`
	RuleKind    string         `json:"rule_kind"` // the kind the rule gives
	Fired       int64          `json:"events"`    // events the rule decides now
	Corrections int64          `json:"corrections"`
	Agree       int64          `json:"agree"`    // corrections that say what the rule says (kept, or fixed since)
	Disagree    int64          `json:"disagree"` // corrections to another kind
	ToKind      map[string]int `json:"corrected_to"`
	Precision   *float64       `json:"precision"` // 1 - disagree/events, as far as people looked
}

// RulesFeedback summarizes the manual corrections per rule, the rules
// that people disagree with most first, then by rule (the API pages by
// this order).
func RulesFeedback(ctx context.Context, db DB) ([]RuleFeedback, error) {
	by := map[string]*RuleFeedback{}
	var ids []string
	rows, err := db.Query(ctx, `
		SELECT e.rule, e.kind_manual, count(*) FROM events e
		WHERE e.kind_manual IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("rules feedback: %w", err)
	}
	for rows.Next() {
		var rule, manual string
		var n int64
		if err := rows.Scan(&rule, &manual, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rules feedback: %w", err)
		}
		f := by[rule]
		if f == nil {
			f = &RuleFeedback{Rule: rule, RuleKind: kindOfRule(rule), ToKind: map[string]int{}}
			by[rule] = f
			ids = append(ids, rule)
		}
		f.Corrections += n
		if manual == f.RuleKind {
			f.Agree += n
		} else {
			f.Disagree += n
			f.ToKind[manual] += int(n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rules feedback: %w", err)
	}
	if len(ids) > 0 {
		rows, err := db.Query(ctx, `SELECT e.rule, count(*) FROM events e WHERE e.rule = ANY($1) GROUP BY 1`, ids)
		if err != nil {
			return nil, fmt.Errorf("rules feedback: %w", err)
		}
		for rows.Next() {
			var rule string
			var n int64
			if err := rows.Scan(&rule, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("rules feedback: %w", err)
			}
			by[rule].Fired = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("rules feedback: %w", err)
		}
	}
	out := make([]RuleFeedback, 0, len(by))
	for _, f := range by {
		if f.Fired > 0 {
			p := round4(1 - float64(f.Disagree)/float64(f.Fired))
			f.Precision = &p
		}
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Disagree != out[j].Disagree {
			return out[i].Disagree > out[j].Disagree
		}
		return out[i].Rule < out[j].Rule
	})
	return out, nil
}

// kindOfRule is ruleKindSQL in Go.
func kindOfRule(rule string) string {
	switch k, _, _ := strings.Cut(rule, "."); k {
	case KindInquiry, KindQuote:
		return k
	}
	return KindEmail
}
