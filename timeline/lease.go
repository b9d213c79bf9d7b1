package timeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeLease takes or renews owner's lease on rep's mailbox for ttl. It
// fails (ok false, with the holder) while another owner's lease runs;
// an expired lease, or one that stale says is dead, is taken over.
func TakeLease(ctx context.Context, db DB, rep, owner string, ttl time.Duration, stale func(holder string) bool) (ok bool, holder string, err error) {
	take := func(over string) (bool, error) {
		err := db.QueryRow(ctx, `
			INSERT INTO mailboxes (rep, lease_owner, lease_until) VALUES ($1, $2, now() + $3::interval)
			ON CONFLICT (rep) DO UPDATE SET lease_owner = $2, lease_until = now() + $3::interval
			WHERE mailboxes.lease_owner IS NULL OR mailboxes.lease_owner = $2
				OR mailboxes.lease_until < now() OR mailboxes.lease_owner = $4
			RETURNING true`, rep, owner, ttl, over).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		return ok, err
	}
	if ok, err = take(""); err != nil || ok {
		return ok, owner, wrapLease(rep, err)
	}
	if err := db.QueryRow(ctx, `SELECT coalesce(lease_owner, '') FROM mailboxes WHERE rep = $1`, rep).Scan(&holder); err != nil {
		return false, "", wrapLease(rep, err)
	}
	if holder != "" && stale != nil && stale(holder) {
		ok, err = take(holder)
		if ok {
			holder = owner
		}
	}
	return ok, holder, wrapLease(rep, err)
}

// ReleaseLease gives up owner's lease on rep's mailbox, if it holds it.
func ReleaseLease(ctx context.Context, db DB, rep, owner string) error {
	_, err := db.Exec(ctx, `UPDATE mailboxes SET lease_owner = NULL, lease_until = NULL WHERE rep = $1 AND lease_owner = $2`, rep, owner)
	return wrapLease(rep, err)
}

func wrapLease(rep string, err error) error {
	if err != nil {
		return fmt.Errorf("lease of mailbox %s: %w", rep, err)
	}
	return nil
}
