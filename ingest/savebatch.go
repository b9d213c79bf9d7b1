package ingest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/mailtrail/mailtrail/timeline"
)

// Batch is what the saves of one transaction share: the inquiry links to
// recompute before it commits, and the customers of new buyers already
// found or created in it (a buyer writes many messages: one lookup each
// was a round trip per message). A cached customer merged away meanwhile
// is harmless: events follow the merge's redirect.
type Batch struct {
	Links timeline.Relinks
	Raw   *timeline.RawWriter // nil: raw messages in the batch's transaction
	autos map[string]int64    // auto_key -> customer
	seen  map[int64]bool      // customers from mail given an event in this batch
}

func (b *Batch) autoSeen(id int64) {
	if b.seen == nil {
		b.seen = map[int64]bool{}
	}
	b.seen[id] = true
}

// SaveBatch stores prepared messages inside tx, locs[i] being where
// prs[i] was found (nil for none): in order, new messages a few at a time
// in one round trip (timeline.SaveMany), then the inquiry links of every
// customer the batch touched, once, locked in id order (timeline.Relinks).
//
// With raw not nil, the raw messages go to raw (see timeline.RawWriter):
// the caller commits raw, then tx.
func (p *Pipeline) SaveBatch(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location, raw *timeline.RawWriter) ([]timeline.SaveResult, error) {
	return p.saveBatch(ctx, tx, prs, locs, Batch{Raw: raw})
}

// SaveOlder is SaveBatch for mail older than most of what is stored (a
// backfill, an import): the links that it changes in inquiries stored
// before are left in pending_links for timeline.FlushPendingLinks
// (timeline.Relinks.Defer), which the caller runs after a number of
// batches.
func (p *Pipeline) SaveOlder(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location, raw *timeline.RawWriter) ([]timeline.SaveResult, error) {
	return p.saveBatch(ctx, tx, prs, locs, Batch{Raw: raw, Links: timeline.Relinks{Defer: true}})
}

func (p *Pipeline) saveBatch(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location, b Batch) ([]timeline.SaveResult, error) {
	if err := timeline.CapturePlans(ctx, tx); err != nil {
		return nil, err
	}
	rs, err := p.saveMany(ctx, tx, prs, locs, &b)
	if err != nil {
		return rs, err
	}
	return rs, b.finish(ctx, tx)
}

// finish does what a batch's saves leave to its end: the inquiry links,
// and the owners of the customers created from mail that it touched
// (timeline.OwnAutoCustomers: a first sync runs newest first and in
// parallel, so the rep who created one was not always the first to write).
func (b *Batch) finish(ctx context.Context, tx timeline.DB) error {
	if err := b.Links.Flush(ctx, tx); err != nil {
		return fmt.Errorf("link inquiries: %w", err)
	}
	return b.ownAutoCustomers(ctx, tx)
}

// ownAutoCustomers gives the customers from mail that the batch gave an
// event the rep of their earliest event as owner (timeline.OwnAutoCustomers).
func (b *Batch) ownAutoCustomers(ctx context.Context, tx timeline.DB) error {
	if len(b.seen) == 0 {
		return nil
	}
	return timeline.OwnAutoCustomers(ctx, tx, slices.Collect(maps.Keys(b.seen)))
}

func (b *Batch) auto(key string, id int64) {
	if b.autos == nil {
		b.autos = map[string]int64{}
	}
	b.autos[key] = id
}
