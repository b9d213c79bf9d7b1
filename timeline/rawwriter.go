package timeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// A RawWriter stores the raw messages of a batch on a connection of its
// own, in a transaction of its own, while the batch's transaction saves
// everything else: the raw bytes were a third of a sync's PostgreSQL time,
// on the one backend that a folder's saves go through in order. The
// batch's transaction commits only after Commit returned nil, so a crash
// never leaves a message without its raw bytes; it can leave raw rows
// whose message never committed (their ids are never used again), which
// DeleteOrphanRaw removes. Migration 011 dropped the foreign key that
// made such a row wait for the message's transaction.
type RawWriter struct {
	items   chan rawItem
	done    chan error
	aborted atomic.Bool
}

type rawItem struct {
	id  int64
	raw []byte
}

// RawConn is a connection of its own for raw writers, one at a time. It
// is not taken from the pool: a batch holding a pooled connection for its
// transaction while waiting for a second one could wait forever.
type RawConn struct{ conn *pgx.Conn }

// RawConn opens a connection for raw writers.
func (s *Store) RawConn(ctx context.Context) (*RawConn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect for raw messages: %w", err)
	}
	return &RawConn{conn}, nil
}

// Close closes the connection.
func (rc *RawConn) Close() { rc.conn.Close(context.Background()) }

// Start begins a raw writer's transaction. Every writer started must be
// ended by Commit or Abort before the next one starts. A nil RawConn
// starts a nil writer: the raw messages stay in the batch's transaction.
func (rc *RawConn) Start(ctx context.Context) *RawWriter {
	if rc == nil {
		return nil
	}
	w := &RawWriter{items: make(chan rawItem, 256), done: make(chan error, 1)}
	go func() { w.done <- w.run(ctx, rc.conn) }()
	return w
}

func (w *RawWriter) run(ctx context.Context, conn *pgx.Conn) error {
	defer func() {
		for range w.items { // Add never blocks, even after an error
		}
	}()
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// What has queued up while the last rows were written goes in one
		// round trip: each was a wake-up of both sides, on cores that the
		// sync, PostgreSQL and the IMAP server share.
		for it := range w.items {
			rows := [][]any{{it.id, it.raw}}
			// Only this goroutine receives: what len counts is there.
			for size := len(it.raw); size < rawBatchBytes && len(w.items) > 0; {
				next := <-w.items
				rows = append(rows, []any{next.id, next.raw})
				size += len(next.raw)
			}
			// COPY rather than an INSERT per row: no ON CONFLICT is needed,
			// as every id is a message this transaction's batch created.
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"message_raw"}, []string{"message_id", "raw"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("save raw messages: %w", err)
			}
		}
		if w.aborted.Load() {
			return errRawAborted // rolls back
		}
		return nil
	})
}

// rawBatchBytes bounds the raw bytes a RawWriter sends in one round trip.
const rawBatchBytes = 4 << 20

// Add queues the raw bytes of message id.
func (w *RawWriter) Add(id int64, raw []byte) { w.items <- rawItem{id, raw} }

// Commit waits for the queued rows and commits them.
func (w *RawWriter) Commit() error {
	if w == nil {
		return nil
	}
	close(w.items)
	return <-w.done
}

// Abort rolls the writer's transaction back (the connection stays
// usable: cancelling a query would close it).
func (w *RawWriter) Abort() {
	if w == nil {
		return
	}
	w.aborted.Store(true)
	close(w.items)
	<-w.done
}

var errRawAborted = errors.New("raw writer aborted")

// DeleteOrphanRaw removes raw rows whose message does not exist: left by
// a batch whose transaction failed, or a crash, after its raw writer had
// committed.
func DeleteOrphanRaw(ctx context.Context, db DB) (int64, error) {
	tag, err := db.Exec(ctx, `
		DELETE FROM message_raw r WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id)`)
	if err != nil {
		return 0, fmt.Errorf("delete orphan raw messages: %w", err)
	}
	return tag.RowsAffected(), nil
}
