package timeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MailboxState is the retry and parking state of a rep's mailbox.
type MailboxState struct {
	Rep          string
	Failures     int
	ParkedAt     *time.Time
	ParkedReason string
	ConfigHash   string
	// RetryRequestedAt is when an operator last asked for a retry.
	RetryRequestedAt *time.Time
}

// Parked reports whether the mailbox waits for its config to change or an
// operator to ask for a retry.
func (m MailboxState) Parked() bool { return m.ParkedAt != nil }

// EnsureMailbox creates the mailbox row of a configured rep (so that the
// API lists it before its first sync) and records where it lives.
func EnsureMailbox(ctx context.Context, db DB, rep, host, username string) error {
	_, err := db.Exec(ctx, `INSERT INTO mailboxes (rep, imap_host, imap_username) VALUES ($1, $2, $3)
		ON CONFLICT (rep) DO UPDATE SET imap_host = $2, imap_username = $3
		WHERE mailboxes.imap_host <> $2 OR mailboxes.imap_username <> $3`, rep, host, username)
	if err != nil {
		return fmt.Errorf("record mailbox %s: %w", rep, err)
	}
	return nil
}

// GetMailboxState returns a mailbox's state (zero when it has no row).
func GetMailboxState(ctx context.Context, db DB, rep string) (MailboxState, error) {
	m := MailboxState{Rep: rep}
	var reason *string
	err := db.QueryRow(ctx, `SELECT failures, parked_at, parked_reason, config_hash, retry_requested_at FROM mailboxes WHERE rep = $1`, rep).
		Scan(&m.Failures, &m.ParkedAt, &reason, &m.ConfigHash, &m.RetryRequestedAt)
	if err != nil && err != pgx.ErrNoRows {
		return m, fmt.Errorf("read mailbox %s: %w", rep, err)
	}
	if reason != nil {
		m.ParkedReason = *reason
	}
	return m, nil
}

// RecordSyncOK records a successful pass: failures reset, error cleared.
func RecordSyncOK(ctx context.Context, db DB, rep string) error {
	_, err := db.Exec(ctx, `INSERT INTO mailboxes (rep, last_ok_at, last_attempt_at) VALUES ($1, now(), now())
		ON CONFLICT (rep) DO UPDATE SET last_ok_at = now(), last_attempt_at = now(), last_error = NULL,
			last_error_advice = NULL, failures = 0, next_attempt_at = NULL, parked_at = NULL, parked_reason = NULL`, rep)
	if err != nil {
		return fmt.Errorf("record mailbox %s: %w", rep, err)
	}
	return nil
}

// RecordSyncError records a failed pass. A temporary failure passes the
// number of failures in a row and when the next attempt is due; a
// permanent one parks the mailbox with configHash, the hash of the
// settings that failed. syncErr and advice must hold no secret.
func RecordSyncError(ctx context.Context, db DB, rep, syncErr, advice string, failures int, next time.Time, park bool, configHash string) error {
	var nextAt *time.Time
	if !next.IsZero() {
		nextAt = &next
	}
	_, err := db.Exec(ctx, `INSERT INTO mailboxes (rep, last_error, last_error_at, last_attempt_at, last_error_advice,
			failures, next_attempt_at, parked_at, parked_reason, config_hash)
		VALUES ($1, $2, now(), now(), $3, $4, $5, CASE WHEN $6 THEN now() END, CASE WHEN $6 THEN $2 END, $7)
		ON CONFLICT (rep) DO UPDATE SET last_error = $2, last_error_at = now(), last_attempt_at = now(),
			last_error_advice = $3, failures = $4, next_attempt_at = $5,
			parked_at = CASE WHEN $6 THEN now() END, parked_reason = CASE WHEN $6 THEN $2 END,
			config_hash = CASE WHEN $6 THEN $7 ELSE mailboxes.config_hash END`,
		rep, syncErr, nullable(advice), failures, nextAt, park, configHash)
	if err != nil {
		return fmt.Errorf("record mailbox %s: %w", rep, err)
	}
	return nil
}

// RetryMailbox is an operator's request to retry a mailbox now: it is
// unparked and its backoff reset. ErrNotFound when mailtrail has never
// seen the rep.
func RetryMailbox(ctx context.Context, db DB, rep string) error {
	tag, err := db.Exec(ctx, `UPDATE mailboxes SET parked_at = NULL, parked_reason = NULL, failures = 0,
		next_attempt_at = NULL, retry_requested_at = now() WHERE lower(rep) = lower($1)`, rep)
	if err != nil {
		return fmt.Errorf("retry mailbox %s: %w", rep, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Unpark clears a mailbox's parking (its config changed) without
// touching the rest of its state.
func Unpark(ctx context.Context, db DB, rep string) error {
	_, err := db.Exec(ctx, `UPDATE mailboxes SET parked_at = NULL, parked_reason = NULL, failures = 0, next_attempt_at = NULL
		WHERE rep = $1`, rep)
	if err != nil {
		return fmt.Errorf("unpark mailbox %s: %w", rep, err)
	}
	return nil
}

// MailboxReport is one rep's mailbox as the API shows it.
type MailboxReport struct {
	Rep            string         `json:"rep"`
	Host           string         `json:"imap_host"`
	Username       string         `json:"imap_username"`
	State          string         `json:"state"` // ok, pending, retrying, parked, disconnected
	LastOKAt       *time.Time     `json:"last_ok_at"`
	LastAttemptAt  *time.Time     `json:"last_attempt_at"`
	LastError      *string        `json:"last_error"`
	LastErrorAt    *time.Time     `json:"last_error_at"`
	Advice         *string        `json:"advice"`
	Failures       int            `json:"failures"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at"`
	ParkedAt       *time.Time     `json:"parked_at"`
	ParkedReason   *string        `json:"parked_reason"`
	SyncedBy       *string        `json:"synced_by"` // the daemon holding the lease, if one does
	MessagesStored int64          `json:"messages_stored"`
	Backlog        int64          `json:"backlog"`
	Folders        []FolderReport `json:"folders"`
}

// FolderReport is one folder of a mailbox. Backlog is what the server last
// reported (MESSAGES) minus what is stored and what the since date leaves
// out, never below zero.
type FolderReport struct {
	Folder         string     `json:"folder"`
	Role           string     `json:"role"`
	UIDValidity    int64      `json:"uidvalidity"`
	LastUID        int64      `json:"last_uid"`
	BackfillDone   bool       `json:"backfill_done"`
	BackfillUID    int64      `json:"backfill_uid"`
	ServerMessages *int64     `json:"server_messages"`
	MessagesStored int64      `json:"messages_stored"`
	Backlog        int64      `json:"backlog"`
	LastSyncAt     *time.Time `json:"last_sync_at"`
}

// MailboxReports returns every mailbox mailtrail has synced, with its
// folders, ordered by rep. configured holds the reps of the current
// config: a mailbox whose rep is no longer there is "disconnected" (a rep
// who left: nothing of it is synced any more, everything captured stays).
// A nil configured means the config is not known: no mailbox is called
// disconnected.
func MailboxReports(ctx context.Context, db DB, configured []string) ([]MailboxReport, error) {
	return MailboxReportsAfter(ctx, db, configured, "", 0)
}

// MailboxReportsAfter returns a page of MailboxReports: the mailboxes
// whose rep sorts after `after` ("" for the first page), at most limit of
// them (0: all).
func MailboxReportsAfter(ctx context.Context, db DB, configured []string, after string, limit int) ([]MailboxReport, error) {
	inConfig := map[string]bool{}
	for _, r := range configured {
		inConfig[strings.ToLower(r)] = true
	}
	rows, err := db.Query(ctx, `
		SELECT rep, imap_host, imap_username, last_ok_at, last_attempt_at, last_error, last_error_at,
			last_error_advice, failures, next_attempt_at, parked_at, parked_reason,
			CASE WHEN lease_until > now() THEN lease_owner END
		FROM mailboxes WHERE rep > $1 ORDER BY rep LIMIT nullif($2, 0)`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("mailboxes: %w", err)
	}
	var out []MailboxReport
	var reps []string
	idx := map[string]int{}
	for rows.Next() {
		var m MailboxReport
		if err := rows.Scan(&m.Rep, &m.Host, &m.Username, &m.LastOKAt, &m.LastAttemptAt, &m.LastError, &m.LastErrorAt,
			&m.Advice, &m.Failures, &m.NextAttemptAt, &m.ParkedAt, &m.ParkedReason, &m.SyncedBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("mailboxes: %w", err)
		}
		switch {
		case configured != nil && !inConfig[strings.ToLower(m.Rep)]:
			m.State = "disconnected"
		case m.ParkedAt != nil:
			m.State = "parked"
		case m.LastError != nil:
			m.State = "retrying"
		case m.LastOKAt == nil:
			m.State = "pending"
		default:
			m.State = "ok"
		}
		m.Folders = []FolderReport{}
		reps = append(reps, m.Rep)
		idx[m.Rep] = len(out)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailboxes: %w", err)
	}
	rows, err = db.Query(ctx, `
		SELECT f.rep, f.folder, f.role, f.uidvalidity, f.last_uid, f.backfill_done, f.backfill_uid, f.server_messages,
			(SELECT count(*) FROM message_locations l
			 WHERE l.rep = f.rep AND l.folder = f.folder AND l.uidvalidity = f.uidvalidity),
			f.before_since, f.last_sync_at
		FROM folders f WHERE f.rep = ANY($1) ORDER BY f.rep, f.folder`, reps)
	if err != nil {
		return nil, fmt.Errorf("mailbox folders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rep string
		var f FolderReport
		var beforeSince int64
		if err := rows.Scan(&rep, &f.Folder, &f.Role, &f.UIDValidity, &f.LastUID, &f.BackfillDone, &f.BackfillUID,
			&f.ServerMessages, &f.MessagesStored, &beforeSince, &f.LastSyncAt); err != nil {
			return nil, fmt.Errorf("mailbox folders: %w", err)
		}
		if f.ServerMessages != nil {
			f.Backlog = max(0, *f.ServerMessages-f.MessagesStored-beforeSince)
		}
		i, ok := idx[rep]
		if !ok {
			continue
		}
		out[i].Folders = append(out[i].Folders, f)
		out[i].MessagesStored += f.MessagesStored
		out[i].Backlog += f.Backlog
	}
	return out, rows.Err()
}
