package timeline

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Verdict is the rules' judgement of a stored message, as Reclassify's
// judge returns it.
type Verdict struct {
	Kind       string
	Rule       string
	Confidence float64
	Quote      QuoteDetails
	Noise      string // when the judge says the message is on no timeline now
}

// ReclassifyReport counts what Reclassify did.
type ReclassifyReport struct {
	Messages     int            `json:"messages"`         // messages with events, judged again
	Events       int            `json:"events"`           // their events
	KindChanged  int            `json:"kind_changed"`     // events whose kind changed
	RuleChanged  int            `json:"rule_changed"`     // events whose rule or confidence changed (kind or not)
	Changes      map[string]int `json:"changes"`          // "email->quote": events
	ManualKept   int            `json:"manual_kept"`      // corrected events where the rules still disagree with the person
	ManualAgreed int            `json:"manual_agreed"`    // corrected events where the rules now say what the person said
	NowOffline   map[string]int `json:"now_off_timeline"` // messages the rules would now keep off timelines, by reason (left as they are)
	Threaded     int            `json:"threaded"`         // messages given a thread (stored before threads existed)
	Feedback     []RuleFeedback `json:"feedback"`
}

// reclassifyBatch is how many messages one transaction judges.
const reclassifyBatch = 200

// Reclassify judges every message that has events again with judge
// (typically the ingest pipeline over the stored raw bytes: parse, match,
// rules) and updates the events' kind, rule, confidence and quote details.
// A person's correction (kind_manual) keeps the kind; rule and confidence
// still follow the rules, so that the feedback compares the person with
// what the rules say now. Changed events are queued for the search index,
// links of inquiries are recomputed for the customers whose events
// changed kind, and messages stored before threads existed get one. It is
// idempotent: a second run changes nothing.
func Reclassify(ctx context.Context, s *Store, judge func(raw []byte, rep string) (Verdict, bool)) (ReclassifyReport, error) {
	rep := ReclassifyReport{Changes: map[string]int{}, NowOffline: map[string]int{}}
	if err := backfillThreads(ctx, s, &rep); err != nil {
		return rep, err
	}
	var after int64
	for {
		type msg struct {
			id  int64
			raw []byte
			rep string
		}
		rows, err := s.Pool.Query(ctx, `
			SELECT m.id, r.raw, (SELECT e.rep FROM events e WHERE e.message_id = m.id ORDER BY e.id LIMIT 1)
			FROM messages m JOIN message_raw r ON r.message_id = m.id
			WHERE m.id > $1 AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = m.id)
			ORDER BY m.id LIMIT $2`, after, reclassifyBatch)
		if err != nil {
			return rep, fmt.Errorf("reclassify: read messages: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (msg, error) {
			var m msg
			return m, row.Scan(&m.id, &m.raw, &m.rep)
		})
		if err != nil {
			return rep, fmt.Errorf("reclassify: read messages: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].id
		verdicts := make([]Verdict, len(batch))
		oks := make([]bool, len(batch))
		for i, m := range batch {
			verdicts[i], oks[i] = judge(m.raw, m.rep)
		}
		var step ReclassifyReport
		err = s.InTxRetry(ctx, func(tx pgx.Tx) error {
			step = ReclassifyReport{Changes: map[string]int{}, NowOffline: map[string]int{}}
			relinkSet := map[int64]bool{}
			for i, m := range batch {
				step.Messages++
				if !oks[i] {
					step.NowOffline[cmp.Or(verdicts[i].Noise, "unmatched")]++
					continue
				}
				if err := applyVerdict(ctx, tx, m.id, verdicts[i], &step, relinkSet); err != nil {
					return err
				}
			}
			for _, id := range slices.Sorted(maps.Keys(relinkSet)) {
				if err := RelinkCustomer(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("reclassify: %w", err)
		}
		rep.add(step)
	}
	var err error
	if rep.Feedback, err = RulesFeedback(ctx, s.Pool); err != nil {
		return rep, err
	}
	return rep, nil
}

func (r *ReclassifyReport) add(o ReclassifyReport) {
	r.Messages += o.Messages
	r.Events += o.Events
	r.KindChanged += o.KindChanged
	r.RuleChanged += o.RuleChanged
	r.ManualKept += o.ManualKept
	r.ManualAgreed += o.ManualAgreed
	for k, v := range o.Changes {
		r.Changes[k] += v
	}
	for k, v := range o.NowOffline {
		r.NowOffline[k] += v
	}
}

// applyVerdict writes v onto the events of message id.
func applyVerdict(ctx context.Context, tx DB, id int64, v Verdict, step *ReclassifyReport, relinkSet map[int64]bool) error {
	rows, err := tx.Query(ctx, `
		WITH old AS (SELECT id, kind, rule, confidence FROM events WHERE message_id = $1 FOR UPDATE),
		upd AS (
			UPDATE events e SET kind = CASE WHEN e.kind_manual IS NULL THEN $2 ELSE e.kind_manual END,
				rule = $3, confidence = $4
			FROM old WHERE e.id = old.id
				AND (e.kind, e.rule, e.confidence) IS DISTINCT FROM
					(CASE WHEN e.kind_manual IS NULL THEN $2 ELSE e.kind_manual END, $3, $4::real)
			RETURNING e.id, e.customer_id, e.kind, e.kind_manual)
		SELECT old.id, coalesce(upd.customer_id, 0), old.kind, coalesce(upd.kind, old.kind), old.rule <> $3 OR old.confidence <> $4::real,
			(SELECT kind_manual FROM events WHERE id = old.id)
		FROM old LEFT JOIN upd ON upd.id = old.id`, id, v.Kind, v.Rule, v.Confidence)
	if err != nil {
		return fmt.Errorf("update events of message %d: %w", id, err)
	}
	type change struct {
		event, customer  int64
		oldKind, newKind string
		ruleChanged      bool
		manual           *string
	}
	changes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (change, error) {
		var c change
		return c, row.Scan(&c.event, &c.customer, &c.oldKind, &c.newKind, &c.ruleChanged, &c.manual)
	})
	if err != nil {
		return fmt.Errorf("update events of message %d: %w", id, err)
	}
	for _, c := range changes {
		step.Events++
		if c.manual != nil {
			if *c.manual == v.Kind {
				step.ManualAgreed++
			} else {
				step.ManualKept++
			}
		}
		if c.ruleChanged {
			step.RuleChanged++
		}
		if c.oldKind != c.newKind {
			step.KindChanged++
			step.Changes[c.oldKind+"->"+c.newKind]++
			relinkSet[c.customer] = true
			if _, err := tx.Exec(ctx, `INSERT INTO search_outbox (event_id) VALUES ($1)`, c.event); err != nil {
				return fmt.Errorf("queue event %d for search: %w", c.event, err)
			}
		}
	}
	// Quote details follow the event's kind: written on quotes, dropped
	// from events that are no longer quotes.
	if err := setQuoteDetails(ctx, tx, `message_id = $1 AND kind = 'quote'`, id, v.Quote); err != nil {
		return err
	}
	return setQuoteDetails(ctx, tx, `message_id = $1 AND kind <> 'quote'`, id, QuoteDetails{})
}

// backfillThreads gives a thread to every message without one, oldest
// first so that replies find their parents' threads, then recomputes the
// inquiry links of the customers involved.
func backfillThreads(ctx context.Context, s *Store, rep *ReclassifyReport) error {
	relinkSet := map[int64]bool{}
	for {
		rows, err := s.Pool.Query(ctx, `
			SELECT id FROM messages WHERE thread_id IS NULL
			ORDER BY sent_at NULLS LAST, id LIMIT $1`, reclassifyBatch)
		if err != nil {
			return fmt.Errorf("reclassify: messages without thread: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("reclassify: messages without thread: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		var touched []int64
		err = s.InTxRetry(ctx, func(tx pgx.Tx) error {
			touched = touched[:0]
			for _, id := range ids {
				tm, err := scanThreadMessage(tx.QueryRow(ctx, loadThreadSQL, id, maxThreadRefs), id)
				if err != nil {
					return err
				}
				th, err := assignThread(ctx, tx, tm)
				if err != nil {
					return err
				}
				touched = append(touched, th.moved...)
			}
			rows, err := tx.Query(ctx, `SELECT DISTINCT customer_id FROM events WHERE message_id = ANY($1)`, ids)
			if err != nil {
				return err
			}
			cs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			touched = append(touched, cs...)
			return err
		})
		if err != nil {
			return fmt.Errorf("reclassify: thread messages: %w", err)
		}
		for _, c := range touched {
			relinkSet[c] = true
		}
		rep.Threaded += len(ids)
	}
	ids := slices.Sorted(maps.Keys(relinkSet))
	for len(ids) > 0 {
		n := min(len(ids), 100)
		err := s.InTxRetry(ctx, func(tx pgx.Tx) error {
			for _, id := range ids[:n] {
				if err := RelinkCustomer(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reclassify: link inquiries: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
