package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is the output of `mailtrail status`.
type Status struct {
	Folders   []FolderStatus  `json:"folders"`
	Mailboxes []MailboxStatus `json:"mailboxes"`
	Totals    Totals          `json:"totals"`
	Verify    []VerifyStatus  `json:"verify"` // last completeness check per folder
}

// FolderStatus is one rep's folder.
type FolderStatus struct {
	Rep            string     `json:"rep"`
	Folder         string     `json:"folder"`
	UIDValidity    int64      `json:"uidvalidity"`
	LastUID        int64      `json:"last_uid"`
	MessagesStored int64      `json:"messages_stored"`
	LastSyncAt     *time.Time `json:"last_sync_at"`
}

// MailboxStatus is the last outcome of a rep's mailbox.
type MailboxStatus struct {
	Rep         string     `json:"rep"`
	LastOKAt    *time.Time `json:"last_ok_at"`
	LastError   *string    `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// Totals are the counters of the whole store.
type Totals struct {
	Messages      int64 `json:"messages"`
	Unparseable   int64 `json:"messages_unparseable"`
	OnNoTimeline  int64 `json:"messages_on_no_timeline"`
	Events        int64 `json:"events"`
	Customers     int64 `json:"customers"`
	SearchBacklog int64 `json:"search_outbox_backlog"`
	VerifyGaps    int64 `json:"verify_gaps"` // missing messages found by the last check
}

// GetStatus gathers the sync state and totals.
func GetStatus(ctx context.Context, db DB) (Status, error) {
	var st Status
	rows, err := db.Query(ctx, `
		SELECT f.rep, f.folder, f.uidvalidity, f.last_uid,
			(SELECT count(DISTINCT l.message_id) FROM message_locations l
			 WHERE l.rep = f.rep AND l.folder = f.folder AND l.uidvalidity = f.uidvalidity),
			f.last_sync_at
		FROM folders f ORDER BY f.rep, f.folder`)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	st.Folders, err = pgx.CollectRows(rows, pgx.RowToStructByPos[FolderStatus])
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT rep, last_ok_at, last_error, last_error_at FROM mailboxes ORDER BY rep`)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	st.Mailboxes, err = pgx.CollectRows(rows, pgx.RowToStructByPos[MailboxStatus])
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	t := &st.Totals
	err = db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM messages),
			(SELECT count(*) FROM messages WHERE malformed),
			(SELECT count(*) FROM messages WHERE noise IS NOT NULL),
			(SELECT count(*) FROM events),
			(SELECT count(*) FROM customers),
			(SELECT count(*) FROM search_outbox)`).Scan(
		&t.Messages, &t.Unparseable, &t.OnNoTimeline, &t.Events, &t.Customers, &t.SearchBacklog)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	if st.Verify, err = verifyStatus(ctx, db); err != nil {
		return st, err
	}
	for _, v := range st.Verify {
		t.VerifyGaps += v.Gaps
	}
	return st, nil
}
