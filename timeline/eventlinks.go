package timeline

import "time"

// linkColumns are the EventLinks of events aliased e, in scanDest order.
const linkColumns = `e.thread_id, e.quote_event_id, e.quoted_at, e.reply_event_id, e.replied_at,
		e.kind_manual, e.kind_manual_by, e.kind_manual_at, e.quote_ref, e.currency, e.amount::float8`

// scanDest returns the scan destinations of linkColumns, and a function
// to call after the scan that assembles the correction.
func (l *EventLinks) scanDest() (dest []any, finish func()) {
	var kind, by *string
	var at *time.Time
	dest = []any{&l.ThreadID, &l.QuoteEventID, &l.QuotedAt, &l.ReplyEventID, &l.RepliedAt,
		&kind, &by, &at, &l.QuoteRef, &l.Currency, &l.Amount}
	return dest, func() {
		l.Correction = nil
		if kind != nil {
			l.Correction = &Correction{Kind: *kind}
			if by != nil {
				l.Correction.By = *by
			}
			if at != nil {
				l.Correction.At = at.UTC()
			}
		}
	}
}
