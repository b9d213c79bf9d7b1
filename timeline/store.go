// Package timeline is mailtrail's PostgreSQL store: customers and their
// contacts, captured messages with the folders they were found in, the
// events on each customer's timeline, and the search outbox. It owns the
// SQL; the other packages call its functions.
package timeline

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a customer, event or message does not exist.
var ErrNotFound = errors.New("not found")

// DB is what a query needs: the pool or a transaction, so that the same
// function runs inside a caller's transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store wraps the connection pool.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects to PostgreSQL at url.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err // pgx's message names the bad part, never the password
	}
	// Plan every execution for its parameters and the tables as they are
	// now. A first sync fills empty tables: the generic plans PostgreSQL
	// settles on after five runs of a prepared statement were made for
	// empty tables (sequential scans) and kept, and threading a message
	// grew linearly with the mailbox (0.6 -> 1.6 ms within 1,600
	// messages). Planning costs tens of microseconds.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	// Times read back are UTC whatever the server's or the process's zone:
	// API answers, reports and exports then agree with one another (a
	// follow-up's due_at in /followups and in the handover report).
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{Pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// InTxRetry is InTx, retried when PostgreSQL aborts the transaction for a
// deadlock or a serialization failure: two reps' workers saving the same
// message (a Cc'd colleague) in different orders can deadlock, and the
// retry then succeeds because the other side has committed.
func (s *Store) InTxRetry(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.InTx(ctx, fn); !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.IntN(50*(attempt+1))) * time.Millisecond):
		}
	}
	return err
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	// 23503 foreign_key_violation: an event or contact saved for a customer
	// that a concurrent merge deleted; the retry finds the redirect.
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23503")
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
