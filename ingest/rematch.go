package ingest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// rematchBatch is how many messages one re-match transaction takes.
const rematchBatch = 100

// RematchStats counts what re-matching changed.
type RematchStats struct {
	Messages     int `json:"messages"`       // messages matched again
	Added        int `json:"events_added"`   // events that are now right
	Removed      int `json:"events_removed"` // events that are now wrong
	NoiseChanged int `json:"noise_changed"`  // messages that went on or off every timeline
	// CustomersDropped are customers created from mail that lost every
	// event (timeline.DropEmptyAutoCustomers).
	CustomersDropped int `json:"customers_dropped"`
}

func (s *RematchStats) add(o RematchStats) {
	s.Messages += o.Messages
	s.Added += o.Added
	s.Removed += o.Removed
	s.NoiseChanged += o.NoiseChanged
	s.CustomersDropped += o.CustomersDropped
}

// DrainRematch matches again every message in rematch_queue until it is
// empty, in batches of rematchBatch, each in one transaction, and returns
// what changed. It reloads the matcher first, since whatever queued the
// messages changed the customers.
//
// A message is matched from its raw bytes with message.Parse, the same
// path as a sync (forwards, Bcc, noise rules and all), plus the Bcc line a
// later Sent copy stored: the stored address lists alone would miss the
// buyer of an inline forward. Its events become those the match says: new
// ones are added with their kind from the classifier, wrong ones removed,
// the others left alone, each change with its search outbox row. A second
// run changes nothing.
func (p *Pipeline) DrainRematch(ctx context.Context) (RematchStats, error) {
	var total RematchStats
	err := p.store.InTxRetry(ctx, func(tx pgx.Tx) error {
		_, err := timeline.ExpandConcerns(ctx, tx)
		return err
	})
	if err != nil {
		return total, err
	}
	n, err := timeline.RematchBacklog(ctx, p.store.Pool)
	if err != nil || n == 0 {
		return total, err
	}
	if err := p.Reload(ctx); err != nil {
		return total, err
	}
	for {
		var batch RematchStats
		claimed := 0
		err := p.store.InTxRetry(ctx, func(tx pgx.Tx) error {
			batch = RematchStats{}
			ids, err := timeline.ClaimRematch(ctx, tx, rematchBatch)
			if err != nil {
				return err
			}
			claimed = len(ids)
			stored, err := timeline.LoadStored(ctx, tx, ids)
			if err != nil {
				return err
			}
			var lost []int64
			var b Batch
			for i := range stored {
				r, err := p.rematch(ctx, tx, &stored[i], &b)
				if err != nil {
					return err
				}
				batch.Messages++
				batch.Added += r.Added
				batch.Removed += r.Removed
				if r.NoiseChanged {
					batch.NoiseChanged++
				}
				lost = append(lost, r.Lost...)
			}
			if err := b.ownAutoCustomers(ctx, tx); err != nil {
				return err
			}
			dropped, err := timeline.DropEmptyAutoCustomers(ctx, tx, lost)
			batch.CustomersDropped = len(dropped)
			if len(dropped) > 0 {
				p.log.Info("customers created from mail lost all their mail to re-matching and were removed", "customers", dropped)
			}
			return err
		})
		if err != nil {
			return total, fmt.Errorf("match stored messages again: %w", err)
		}
		total.add(batch)
		if claimed == 0 {
			return total, nil
		}
		if p.created.Swap(false) || batch.CustomersDropped > 0 {
			// Customers created or removed in this batch must be known to the next.
			if err := p.Reload(ctx); err != nil {
				return total, err
			}
		}
	}
}

// rematch matches one stored message again inside tx.
func (p *Pipeline) rematch(ctx context.Context, tx pgx.Tx, s *timeline.Stored, b *Batch) (timeline.Rematched, error) {
	m := message.Parse(s.Raw)
	if len(m.Bcc) == 0 && len(s.Bcc) > 0 {
		m.Bcc = s.Bcc
	}
	pr := p.prepare(m, s.Raw, s.Mailbox)
	if err := timeline.ClearPending(ctx, tx, s.ID); err != nil {
		return timeline.Rematched{}, err
	}
	events, pending, err := p.events(ctx, tx, pr, b)
	if err != nil {
		return timeline.Rematched{}, err
	}
	noise := pr.rec.Noise
	if len(events) == 0 && len(pending) > 0 && noise == "" {
		noise = NoisePendingReply
	}
	r, err := timeline.ApplyRematch(ctx, tx, s, events, pr.rec.Quote, noise, pr.rec.NoiseRule, pr.rec.Direction)
	if err != nil {
		return r, err
	}
	for _, k := range pending {
		if err := timeline.AddPending(ctx, tx, s.ID, k); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Rematch queues every stored message and matches them all again
// (`mailtrail rematch`).
func (p *Pipeline) Rematch(ctx context.Context) (RematchStats, error) {
	if _, err := timeline.QueueAllForRematch(ctx, p.store.Pool, "command"); err != nil {
		return RematchStats{}, err
	}
	return p.DrainRematch(ctx)
}
