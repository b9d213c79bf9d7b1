package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cursor is the sync state of one folder: two cursors over its UIDs (RFC
// 9051 2.3.1.1), valid for one UIDVALIDITY.
//
// New mail is fetched upwards from LastUID; the backfill of a first sync
// runs downwards from LastUID, newest first, and BackfillUID is the lowest
// UID it has covered. So the UIDs a folder holds are
//
//	BackfillDone:  every UID <= LastUID (received on or after BackfillSince, if set)
//	otherwise:     BackfillUID <= UID <= LastUID
//
// Both cursors are committed in the transaction that stores the messages
// they cover: a crash repeats at most one batch and never skips one.
type Cursor struct {
	Rep         string
	Folder      string
	Role        string // inbox, sent, archive or other
	UIDValidity uint32
	LastUID     uint32
	BackfillUID uint32
	// BackfillDone says the backfill reached the bottom of the folder (or
	// BackfillSince).
	BackfillDone bool
	// BackfillSince is the since date the backfill stopped at; nil when it
	// went to the first message.
	BackfillSince *time.Time
	// What the server said last (STATUS or EXAMINE); zero when unknown.
	ServerMessages int64
	ServerUIDNext  uint32
	// BeforeSince counts the messages older than the since date on the
	// server, left out on purpose.
	BeforeSince int64
}

// Covers reports whether uid is a UID the folder should hold.
func (c Cursor) Covers(uid uint32) bool {
	if uid > c.LastUID {
		return false
	}
	return c.BackfillDone || uid >= c.BackfillUID
}

// Cursors returns the stored cursors of a rep's folders, by folder name.
func Cursors(ctx context.Context, db DB, rep string) (map[string]Cursor, error) {
	rows, err := db.Query(ctx, `
		SELECT folder, role, uidvalidity, last_uid, backfill_uid, backfill_done, backfill_since,
			coalesce(server_messages, 0), coalesce(server_uidnext, 0), before_since
		FROM folders WHERE rep = $1`, rep)
	if err != nil {
		return nil, fmt.Errorf("read cursors of %s: %w", rep, err)
	}
	out := map[string]Cursor{}
	for rows.Next() {
		c := Cursor{Rep: rep}
		var v, last, back, uidnext int64
		if err := rows.Scan(&c.Folder, &c.Role, &v, &last, &back, &c.BackfillDone, &c.BackfillSince,
			&c.ServerMessages, &uidnext, &c.BeforeSince); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read cursors of %s: %w", rep, err)
		}
		c.UIDValidity, c.LastUID, c.BackfillUID, c.ServerUIDNext = uint32(v), uint32(last), uint32(back), uint32(uidnext)
		out[c.Folder] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cursors of %s: %w", rep, err)
	}
	return out, nil
}

// PutCursor stores a folder's cursors and last known server counts; call
// it in the transaction that stored the messages the cursors cover.
func PutCursor(ctx context.Context, db DB, c Cursor) error {
	var uidnext *int64
	if c.ServerUIDNext != 0 {
		n := int64(c.ServerUIDNext)
		uidnext = &n
	}
	_, err := db.Exec(ctx, `
		INSERT INTO folders (rep, folder, role, uidvalidity, last_uid, backfill_uid, backfill_done, backfill_since,
			server_messages, server_uidnext, before_since, status_at, last_sync_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now())
		ON CONFLICT (rep, folder) DO UPDATE SET role = EXCLUDED.role, uidvalidity = EXCLUDED.uidvalidity,
			last_uid = EXCLUDED.last_uid, backfill_uid = EXCLUDED.backfill_uid,
			backfill_done = EXCLUDED.backfill_done, backfill_since = EXCLUDED.backfill_since,
			server_messages = EXCLUDED.server_messages, server_uidnext = EXCLUDED.server_uidnext,
			before_since = EXCLUDED.before_since, status_at = now(), last_sync_at = now()`,
		c.Rep, c.Folder, c.Role, int64(c.UIDValidity), int64(c.LastUID), int64(c.BackfillUID), c.BackfillDone,
		c.BackfillSince, c.ServerMessages, uidnext, c.BeforeSince)
	if err != nil {
		return fmt.Errorf("save cursor %s/%s: %w", c.Rep, c.Folder, err)
	}
	return nil
}

// NoteFolderStatus records what a STATUS said about a folder already
// synced, without touching its cursors. A folder not yet stored is left
// alone: its first batch writes the row.
func NoteFolderStatus(ctx context.Context, db DB, rep, folder string, messages int64, uidnext uint32) error {
	_, err := db.Exec(ctx, `UPDATE folders SET server_messages = $3, server_uidnext = $4, status_at = now(), last_sync_at = now()
		WHERE rep = $1 AND folder = $2`, rep, folder, messages, int64(uidnext))
	if err != nil {
		return fmt.Errorf("save status of %s/%s: %w", rep, folder, err)
	}
	return nil
}

// RenameFolder follows a folder renamed on the server (same UIDVALIDITY
// under a new name): its cursors and the locations of its messages move to
// the new name, so nothing is read again.
func RenameFolder(ctx context.Context, db DB, rep, from, to string, uidvalidity uint32) error {
	if _, err := db.Exec(ctx, `DELETE FROM folders WHERE rep = $1 AND folder = $2`, rep, to); err != nil {
		return fmt.Errorf("rename folder %s/%s: %w", rep, from, err)
	}
	if _, err := db.Exec(ctx, `UPDATE folders SET folder = $3 WHERE rep = $1 AND folder = $2`, rep, from, to); err != nil {
		return fmt.Errorf("rename folder %s/%s: %w", rep, from, err)
	}
	// A location already under the new name (same UIDVALIDITY and UID)
	// would collide: it is the same message, keep one.
	if _, err := db.Exec(ctx, `
		UPDATE message_locations l SET folder = $3
		WHERE l.rep = $1 AND l.folder = $2 AND l.uidvalidity = $4
		  AND NOT EXISTS (SELECT 1 FROM message_locations o
			WHERE o.rep = l.rep AND o.folder = $3 AND o.uidvalidity = l.uidvalidity AND o.uid = l.uid)`,
		rep, from, to, int64(uidvalidity)); err != nil {
		return fmt.Errorf("rename locations %s/%s: %w", rep, from, err)
	}
	return nil
}

// StoredInFolder counts the messages stored from a folder at its current
// UIDVALIDITY.
func StoredInFolder(ctx context.Context, db DB, rep, folder string, uidvalidity uint32) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM message_locations WHERE rep = $1 AND folder = $2 AND uidvalidity = $3`,
		rep, folder, int64(uidvalidity)).Scan(&n)
	if err != nil && err != pgx.ErrNoRows {
		return 0, fmt.Errorf("count stored %s/%s: %w", rep, folder, err)
	}
	return n, nil
}

// StoredUIDs returns the UIDs below `below` stored from a folder at one
// UIDVALIDITY, so that a backfill started again skips them.
func StoredUIDs(ctx context.Context, db DB, rep, folder string, uidvalidity, below uint32) (map[uint32]bool, error) {
	rows, err := db.Query(ctx, `SELECT uid FROM message_locations WHERE rep = $1 AND folder = $2 AND uidvalidity = $3 AND uid < $4`,
		rep, folder, int64(uidvalidity), int64(below))
	if err != nil {
		return nil, fmt.Errorf("stored uids of %s/%s: %w", rep, folder, err)
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("stored uids of %s/%s: %w", rep, folder, err)
		}
		out[uint32(u)] = true
	}
	return out, rows.Err()
}
