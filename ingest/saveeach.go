package ingest

import (
	"context"
	"errors"
	"log/slog"
	"maps"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mailtrail/mailtrail/timeline"
)

// saveEach is SaveBatch one message at a time, each in a savepoint, for
// a batch that SaveBatch could not store because of one of its messages:
// a message whose save fails with a data error (isDataError) is stored
// raw instead, marked malformed with the error, on no timeline. So one
// message that nobody foresaw never blocks its folder, and is not lost.
// The raw messages go in the transaction.
func (p *Pipeline) saveEach(ctx context.Context, tx pgx.Tx, prs []*Prepared, locs []*timeline.Location) ([]timeline.SaveResult, error) {
	if err := timeline.CapturePlans(ctx, tx); err != nil {
		return nil, err
	}
	var b Batch
	rs := make([]timeline.SaveResult, 0, len(prs))
	for i, pr := range prs {
		r, err := p.saveInSavepoint(ctx, tx, pr, locs[i], &b)
		if isDataError(err) {
			p.log.Error("message cannot be saved: stored raw, marked malformed", "rep", pr.rep, "dedup_key", pr.rec.DedupKey, "err", err)
			kept := salvage(pr.rec.Raw, int64(pr.rec.Size), pr.rep, "saving it failed: "+err.Error())
			r, err = p.saveInSavepoint(ctx, tx, kept, locs[i], &b)
		}
		if err != nil {
			return rs, err
		}
		rs = append(rs, r)
	}
	return rs, b.finish(ctx, tx)
}

// storeOrEach runs store(tx, false) in a transaction (retried as
// InTxRetry does), and, when PostgreSQL refuses the batch's data
// (isDataError), store(tx, true): the batch again, one message at a time
// (saveEach), the way out of a batch refused whatever the try. attrs say
// which batch in the log.
func storeOrEach(ctx context.Context, st *timeline.Store, log *slog.Logger, store func(tx pgx.Tx, each bool) error, attrs ...any) error {
	err := st.InTxRetry(ctx, func(tx pgx.Tx) error { return store(tx, false) })
	if isDataError(err) {
		log.Warn("batch refused: saving its messages one by one", append(attrs, "err", err)...)
		err = st.InTxRetry(ctx, func(tx pgx.Tx) error { return store(tx, true) })
	}
	return err
}

// saveInSavepoint is Save in a savepoint of tx, rolled back on error with
// what it added to b.
func (p *Pipeline) saveInSavepoint(ctx context.Context, tx pgx.Tx, pr *Prepared, loc *timeline.Location, b *Batch) (timeline.SaveResult, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return timeline.SaveResult{}, err
	}
	autos := maps.Clone(b.autos) // customers created in a rolled-back savepoint do not exist
	r, err := p.Save(ctx, sp, pr, loc, b)
	if err != nil {
		b.autos = autos
		if rerr := sp.Rollback(ctx); rerr != nil {
			return r, errors.Join(err, rerr)
		}
		return r, err
	}
	return r, sp.Commit(ctx)
}

// isDataError reports whether err is PostgreSQL refusing the data itself
// (classes 22 data exception, 23 integrity constraint, 54 program limit,
// such as an index entry too long): the same save fails again, however
// often it is tried.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}
