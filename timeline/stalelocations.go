package timeline

import (
	"context"
	"fmt"
)

// A changed UIDVALIDITY makes every location of a folder stale (RFC 9051
// 2.3.1.1: the old UIDs name nothing now), and the sync reads the folder
// again under the new one. Each message found again gets its location
// under the new UIDVALIDITY, and its stale one in that folder goes in the
// same transaction: otherwise the table grew by the folder's size at each
// change. A stale location is kept for a message not found again (expunged
// since, or older than the backfill's since date): it may be the only
// trace of which rep's mailbox held the message, which re-matching and
// handover use. Messages themselves are never deleted.

// HasStaleLocations reports whether a folder holds locations under a
// UIDVALIDITY other than uidvalidity. Two ranges of the primary key: no
// scan of the folder's current locations.
func HasStaleLocations(ctx context.Context, db DB, rep, folder string, uidvalidity uint32) (bool, error) {
	var stale bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message_locations
		WHERE rep = $1 AND folder = $2 AND (uidvalidity < $3 OR uidvalidity > $3))`,
		rep, folder, int64(uidvalidity)).Scan(&stale)
	if err != nil {
		return false, fmt.Errorf("stale locations of %s/%s: %w", rep, folder, err)
	}
	return stale, nil
}

// DropStaleLocations deletes the stale locations, in the same folder, of
// the messages now located at uids under uidvalidity; call it in the
// transaction that saved them. It returns how many it deleted.
func DropStaleLocations(ctx context.Context, db DB, rep, folder string, uidvalidity uint32, uids []int64) (int64, error) {
	tag, err := db.Exec(ctx, `
		DELETE FROM message_locations o
		USING message_locations n
		WHERE n.rep = $1 AND n.folder = $2 AND n.uidvalidity = $3 AND n.uid = ANY ($4::bigint[])
		  AND o.message_id = n.message_id AND o.rep = n.rep AND o.folder = n.folder
		  AND o.uidvalidity <> n.uidvalidity`,
		rep, folder, int64(uidvalidity), uids)
	if err != nil {
		return 0, fmt.Errorf("drop stale locations of %s/%s: %w", rep, folder, err)
	}
	return tag.RowsAffected(), nil
}
