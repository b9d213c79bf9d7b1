package timeline

import (
	"context"
	"fmt"
)

// QuoteDetails is what a quote states about itself. Empty fields were not
// found. Amount is a plain decimal ("11250.00"), never a float.
type QuoteDetails struct {
	Ref      string `json:"quote_ref,omitempty"` // quotation or PI number, e.g. "QT-2025-0315"
	Currency string `json:"currency,omitempty"`  // ISO 4217, e.g. "USD"
	Amount   string `json:"amount,omitempty"`    // the total
}

// IsZero reports whether nothing was found.
func (q QuoteDetails) IsZero() bool { return q == QuoteDetails{} }

// setQuoteDetails writes q onto the events selected by where ($1 is arg).
func setQuoteDetails(ctx context.Context, db DB, where string, arg any, q QuoteDetails) error {
	_, err := db.Exec(ctx, `
		UPDATE events SET quote_ref = $2, currency = $3, amount = $4::numeric
		WHERE `+where+` AND (quote_ref, currency, amount) IS DISTINCT FROM ($2, $3, $4::numeric)`,
		arg, nullable(q.Ref), nullable(q.Currency), nullable(q.Amount))
	if err != nil {
		return fmt.Errorf("save quote details: %w", err)
	}
	return nil
}

// SetQuoteDetails stores what a quote event states (after a correction
// made it a quote, or a reclassification read it again).
func SetQuoteDetails(ctx context.Context, db DB, eventID int64, q QuoteDetails) error {
	return setQuoteDetails(ctx, db, `id = $1`, eventID, q)
}
