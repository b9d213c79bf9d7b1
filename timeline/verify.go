package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyResult is the outcome of the completeness check of one folder.
type VerifyResult struct {
	Rep            string    `json:"rep"`
	Folder         string    `json:"folder"`
	CheckedAt      time.Time `json:"checked_at"`
	UIDValidity    uint32    `json:"uidvalidity"`
	ServerMessages int64     `json:"server_messages"`
	Stored         int64     `json:"stored"`
	Gaps           int64     `json:"gaps"`
	Pending        int64     `json:"pending"`
	Gone           int64     `json:"gone"`
	GapUIDs        []int64   `json:"gap_uids"`
	Error          string    `json:"error,omitempty"`
}

// VerifyStatus is the last check of a folder as `status` shows it.
type VerifyStatus struct {
	Rep       string    `json:"rep"`
	Folder    string    `json:"folder"`
	CheckedAt time.Time `json:"checked_at"`
	Gaps      int64     `json:"gaps"`
	Pending   int64     `json:"pending"`
	Gone      int64     `json:"gone"`
	Error     *string   `json:"error"`
}

// maxGapUIDs bounds the UIDs kept per folder: enough to act on.
const maxGapUIDs = 100

// PutVerifyResults replaces the stored results of rep's folders with rs,
// so that a folder no longer checked does not keep an old gap count.
func PutVerifyResults(ctx context.Context, db DB, rep string, rs []VerifyResult) error {
	if _, err := db.Exec(ctx, `DELETE FROM verify_results WHERE rep = $1`, rep); err != nil {
		return fmt.Errorf("save verify results of %s: %w", rep, err)
	}
	for _, r := range rs {
		uids := r.GapUIDs
		if len(uids) > maxGapUIDs {
			uids = uids[:maxGapUIDs]
		}
		if uids == nil {
			uids = []int64{}
		}
		_, err := db.Exec(ctx, `
			INSERT INTO verify_results (rep, folder, checked_at, uidvalidity, server_messages, stored,
				gaps, pending, gone, gap_uids, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (rep, folder) DO UPDATE SET checked_at = EXCLUDED.checked_at,
				uidvalidity = EXCLUDED.uidvalidity, server_messages = EXCLUDED.server_messages,
				stored = EXCLUDED.stored, gaps = EXCLUDED.gaps, pending = EXCLUDED.pending,
				gone = EXCLUDED.gone, gap_uids = EXCLUDED.gap_uids, error = EXCLUDED.error`,
			rep, r.Folder, r.CheckedAt, int64(r.UIDValidity), r.ServerMessages, r.Stored,
			r.Gaps, r.Pending, r.Gone, uids, nullable(r.Error))
		if err != nil {
			return fmt.Errorf("save verify result of %s/%s: %w", rep, r.Folder, err)
		}
	}
	return nil
}

// LastVerify returns when the last completeness check ran, or the zero
// time if none ever did.
func LastVerify(ctx context.Context, db DB) (time.Time, error) {
	var t *time.Time
	if err := db.QueryRow(ctx, `SELECT max(checked_at) FROM verify_results`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("last verify: %w", err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}

// verifyStatus lists the last check of every folder, for GetStatus.
func verifyStatus(ctx context.Context, db DB) ([]VerifyStatus, error) {
	rows, err := db.Query(ctx, `
		SELECT rep, folder, checked_at, gaps, pending, gone, error
		FROM verify_results ORDER BY rep, folder`)
	if err != nil {
		return nil, fmt.Errorf("status: verify results: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[VerifyStatus])
}

// StoredFolder is what mailtrail holds of one folder: its cursor and the
// Message-ID stored for each UID of the current UIDVALIDITY.
type StoredFolder struct {
	State FolderState
	Known bool              // the folder has a cursor
	UIDs  map[uint32]string // uid -> Message-ID ("" when the message has none)
}

// LoadStoredFolder reads a folder's cursor and the UIDs stored under
// uidvalidity, from one snapshot so that they agree with each other.
func LoadStoredFolder(ctx context.Context, s *Store, rep, folder string, uidvalidity uint32) (StoredFolder, error) {
	sf := StoredFolder{UIDs: map[uint32]string{}}
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if sf.State, sf.Known, err = GetFolder(ctx, tx, rep, folder); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT l.uid, coalesce(m.message_id, '') FROM message_locations l
			JOIN messages m ON m.id = l.message_id
			WHERE l.rep = $1 AND l.folder = $2 AND l.uidvalidity = $3`, rep, folder, int64(uidvalidity))
		if err != nil {
			return err
		}
		var uid int64
		var mid string
		_, err = pgx.ForEachRow(rows, []any{&uid, &mid}, func() error {
			sf.UIDs[uint32(uid)] = mid
			return nil
		})
		return err
	})
	if err != nil {
		return sf, fmt.Errorf("read stored UIDs of %s/%s: %w", rep, folder, err)
	}
	return sf, nil
}

// SyncedFolders lists the folders of rep that have a cursor.
func SyncedFolders(ctx context.Context, db DB, rep string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT folder FROM folders WHERE rep = $1 ORDER BY folder`, rep)
	if err != nil {
		return nil, fmt.Errorf("folders of %s: %w", rep, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
