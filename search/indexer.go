package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meilisearch/meilisearch-go"
)

// drainLock is the pg_try_advisory_xact_lock key that makes one DrainOnce
// at a time run against a database, whichever daemon it is in. Row locks
// alone (FOR UPDATE SKIP LOCKED) would let two daemons send different
// batches in parallel, and then an "upsert event 7" claimed by one could
// reach Meilisearch after the "delete event 7" claimed by the other,
// leaving a document for a deleted event. One drainer at a time sends
// batches in outbox order, and Meilisearch applies tasks in the order they
// were enqueued. It costs no throughput that matters: Meilisearch indexes
// one batch at a time per index anyway. ("mailtrl" in ASCII.)
const drainLock int64 = 0x6d61696c74726c

// Drain runs DrainOnce until the outbox is empty and returns the rows it
// consumed: the whole outbox indexed now (sync --once, reindex, tests).
func (ix *Index) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := ix.DrainOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// DrainOnce moves at most one batch of the oldest search_outbox rows into
// Meilisearch and returns how many rows it consumed. It returns 0 with no
// error when the outbox is empty or another daemon is draining.
//
// Within a transaction it claims the rows (under drainLock, and FOR UPDATE
// SKIP LOCKED so that the claim also holds against anything else that
// touches the outbox, and stays disjoint if the lock is ever relaxed),
// builds the documents with one query, sends one addition and
// one deletion task, waits until Meilisearch has applied both, and only then
// deletes exactly the claimed rows and commits. Any failure rolls back and
// leaves the rows for the next try: delivery is at least once, which is
// safe because both operations are idempotent.
//
// Each event's last row in the batch wins. An "upsert" of an event that no
// longer exists becomes a delete, so a deleted message whose events went by
// ON DELETE CASCADE without a "delete" row still leaves the index.
func (ix *Index) DrainOnce(ctx context.Context) (n int, err error) {
	tx, err := ix.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin drain: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // no-op after Commit

	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, drainLock).Scan(&locked); err != nil {
		return 0, fmt.Errorf("drain lock: %w", err)
	}
	if !locked {
		return 0, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT id, event_id, op FROM search_outbox
		ORDER BY id LIMIT $1
		FOR UPDATE SKIP LOCKED`, ix.batchSize)
	if err != nil {
		return 0, fmt.Errorf("claim outbox rows: %w", err)
	}
	type outboxRow struct {
		ID, EventID int64
		Op          string
	}
	claimed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	if err != nil {
		return 0, fmt.Errorf("claim outbox rows: %w", err)
	}
	if len(claimed) == 0 {
		return 0, tx.Commit(ctx)
	}

	last := make(map[int64]string, len(claimed)) // event id -> its newest op
	rowIDs := make([]int64, len(claimed))
	for i, r := range claimed {
		rowIDs[i] = r.ID
		last[r.EventID] = r.Op
	}
	gone := make(map[int64]bool, len(last)) // events whose document must go
	var upserts []int64
	for id, op := range last {
		gone[id] = true // unless an upsert finds its event below
		if op == "upsert" {
			upserts = append(upserts, id)
		}
	}
	var docs []document
	if len(upserts) > 0 {
		if docs, err = loadDocuments(ctx, tx, upserts); err != nil {
			return 0, err
		}
		for _, d := range docs {
			delete(gone, d.ID)
		}
	}
	if err := ix.apply(ctx, docs, gone); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM search_outbox WHERE id = ANY($1)`, rowIDs); err != nil {
		return 0, fmt.Errorf("delete drained outbox rows: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit drain: %w", err)
	}
	return len(claimed), nil
}

// apply sends the additions and deletions of one batch and waits for all
// of them. Additions go in requests of at most requestDocs documents (at
// most ~50 MB with 32 KB bodies and their fold, under Meilisearch's 100 MB
// payload limit), all enqueued before any is awaited: Meilisearch merges
// queued tasks into one indexing batch, 1.4 to 1.6 times faster than
// waiting for each (measured: 4 x 500 in flight vs 1). Additions and
// deletions touch disjoint ids, so their relative order does not matter.
func (ix *Index) apply(ctx context.Context, docs []document, gone map[int64]bool) error {
	var tasks []int64
	pk := "id" // three fields end in "id": never let Meilisearch guess
	for chunk := range slices.Chunk(docs, ix.requestDocs) {
		info, err := ix.index.AddDocumentsWithContext(ctx, chunk, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return fmt.Errorf("add %d documents: %w", len(chunk), err)
		}
		tasks = append(tasks, info.TaskUID)
	}
	if len(gone) > 0 {
		ids := make([]string, 0, len(gone))
		for id := range gone {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		info, err := ix.index.DeleteDocumentsWithContext(ctx, ids, nil)
		if err != nil {
			return fmt.Errorf("delete %d documents: %w", len(ids), err)
		}
		tasks = append(tasks, info.TaskUID)
	}
	for _, uid := range tasks {
		if err := ix.wait(ctx, uid); err != nil {
			return err
		}
	}
	return nil
}

// Run is the indexer loop. It ensures the index, then drains the outbox
// until ctx is cancelled, and returns nil then: cancellation is how it is
// stopped, not a failure. A full batch is followed at once by the next;
// otherwise it polls every 500 ms.
//
// Polling rather than LISTEN/NOTIFY: a notification needs a trigger in the
// schema or a NOTIFY in every writer (ingest, Rebuild, manual repairs), a
// connection held out of the pool with its own reconnect logic, and a poll
// anyway for what was missed while disconnected. One indexed probe every
// 500 ms is negligible load, and new mail waits at most half a second
// beside the ~150 ms Meilisearch takes to make a document searchable.
//
// Any failure (PostgreSQL or Meilisearch down, a failed task) is logged
// and retried after an exponential, jittered, capped delay; the outbox rows
// stay until they are in the index, so nothing is lost. The index and its
// settings are ensured again before the retry, since a failure may mean
// the index was deleted.
func (ix *Index) Run(ctx context.Context) error {
	ix.log.Info("search indexer started", "batch", ix.batchSize)
	defer ix.log.Info("search indexer stopped")
	ensured, failures := false, 0
	for {
		var n int
		err := ctx.Err()
		if err == nil && !ensured {
			if err = ix.Ensure(ctx); err == nil {
				ensured = true
			}
		}
		if err == nil {
			n, err = ix.DrainOnce(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		var delay time.Duration
		switch {
		case err != nil:
			failures++
			ensured = false
			delay = backoff(failures, ix.backoffMin, ix.backoffMax)
			ix.log.Log(ctx, levelOf(err), "search indexer failed, will retry",
				"err", err, "attempt", failures, "retry_in", delay.Round(time.Millisecond))
		case failures > 0:
			ix.log.Info("search indexer recovered", "attempts", failures)
			failures = 0
		}
		if err == nil {
			if n == ix.batchSize {
				continue // more is waiting
			}
			delay = ix.poll
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff returns the delay before retry number attempt (from 1): min
// doubled per attempt, capped at max, then jittered over its upper half so
// several daemons that failed together do not retry in step.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// levelOf logs errors that will not go away by themselves as errors: a
// rejected API key or setting (Meilisearch's 4xx answers) and failed tasks
// (e.g. an index with another primary key). Those are retried too, in case
// an operator fixes the cause, but someone has to look. The rest (network,
// 5xx, timeouts) are warnings.
func levelOf(err error) slog.Level {
	var me *meilisearch.Error
	var te *TaskError
	if errors.As(err, &te) || errors.As(err, &me) && me.StatusCode >= 400 && me.StatusCode < 500 {
		return slog.LevelError
	}
	return slog.LevelWarn
}

// Rebuild refills the index from PostgreSQL: it ensures the index (creating
// it if it was deleted), deletes every document, waits for that, and then
// enqueues an upsert for every event; Run (or DrainOnce) does the rest.
// Searches return fewer results until the outbox is drained. The order
// matters: enqueueing before the deletion finished could lose documents.
// Rows already in the outbox stay; the duplicates are harmless. It is safe
// while indexers run: a batch they add before the deletion is enqueued
// again. Run it after the index was deleted or lost, and after changing
// what a document holds.
func (ix *Index) Rebuild(ctx context.Context) error {
	if err := ix.Ensure(ctx); err != nil {
		return err
	}
	info, err := ix.index.DeleteAllDocumentsWithContext(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete all documents of %s: %w", ix.name, err)
	}
	if err := ix.wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("delete all documents of %s: %w", ix.name, err)
	}
	tag, err := ix.pool.Exec(ctx, `
		INSERT INTO search_outbox (event_id, op)
		SELECT id, 'upsert' FROM events ORDER BY id`)
	if err != nil {
		return fmt.Errorf("enqueue all events: %w", err)
	}
	ix.log.Info("search index rebuild enqueued", "events", tag.RowsAffected())
	return nil
}
