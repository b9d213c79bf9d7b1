package timeline

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ThreadWindow is how far apart in time two messages may be for the
// subject fallback to put them in one thread.
const ThreadWindow = 60 * 24 * time.Hour

// maxThreadRefs bounds the Message-IDs of one message that take part in
// threading: the newest References are the ones that matter, and a
// pathological header must not cost thousands of rows.
const maxThreadRefs = 100

// threadMessage is what threading needs of a stored message.
type threadMessage struct {
	id        int64
	msgid     *string
	subject   string
	inReplyTo []string
	refs      []string
	at        time.Time // sent_at, else the first event's time, else capture time
	threadID  *int64
	customers []int64
}

// assignThread puts a stored message into a thread, in this order:
//  1. the thread of any Message-ID it has or refers to (RFC 5322 3.6.4
//     In-Reply-To and References), whether that id belongs to a message
//     already stored or was only referred to by one (a reply stored before
//     its parent);
//  2. else, for clients that drop those headers (many Chinese clients), the
//     thread of a message with the same SubjectKey, a customer in common
//     and a time within ThreadWindow, one of the two being a reply;
//  3. else a new thread.
//
// When its ids lead to two threads or more, they are one conversation: the
// younger threads are merged into the oldest. A message that already has a
// thread keeps it (saving a copy again changes nothing), but its events get
// the thread id. It returns the thread and the customers whose events
// changed thread (for the inquiry links).
func assignThread(ctx context.Context, db DB, messageID int64) (thread int64, moved []int64, err error) {
	m, err := loadThreadMessage(ctx, db, messageID)
	if err != nil {
		return 0, nil, err
	}
	if m.threadID != nil {
		_, err := db.Exec(ctx, `UPDATE events SET thread_id = $2 WHERE message_id = $1 AND thread_id IS DISTINCT FROM $2`, m.id, *m.threadID)
		if err != nil {
			return 0, nil, fmt.Errorf("thread events of message %d: %w", m.id, err)
		}
		return *m.threadID, nil, nil
	}
	keys := threadKeys(m)
	var found []int64
	if len(keys) > 0 {
		if found, err = threadsOfKeys(ctx, db, keys, 0); err != nil {
			return 0, nil, err
		}
	}
	subjectKey, isReply := SubjectKey(m.subject)
	switch {
	case len(found) > 0:
		thread = found[0]
	default:
		if thread, err = threadBySubject(ctx, db, m, subjectKey, isReply); err != nil {
			return 0, nil, err
		}
		if thread == 0 {
			if err := db.QueryRow(ctx, `INSERT INTO threads DEFAULT VALUES RETURNING id`).Scan(&thread); err != nil {
				return 0, nil, fmt.Errorf("new thread for message %d: %w", m.id, err)
			}
		}
	}
	if len(keys) > 0 {
		// A concurrent transaction may have registered some of these ids
		// for another thread: DO NOTHING waits for it, and the second look
		// sees its rows, so that the two threads are merged here.
		if _, err := db.Exec(ctx, `
			INSERT INTO thread_refs (msgid, thread_id) SELECT k, $2 FROM unnest($1::text[]) k
			ON CONFLICT DO NOTHING`, keys, thread); err != nil {
			return 0, nil, fmt.Errorf("register ids of message %d: %w", m.id, err)
		}
		if found, err = threadsOfKeys(ctx, db, keys, thread); err != nil {
			return 0, nil, err
		}
		if len(found) > 1 {
			thread = found[0]
			if moved, err = mergeThreads(ctx, db, thread, found[1:]); err != nil {
				return 0, nil, err
			}
		}
	}
	if _, err := db.Exec(ctx, `UPDATE messages SET thread_id = $2, subject_key = $3, is_reply = $4 WHERE id = $1`,
		m.id, thread, subjectKey, isReply); err != nil {
		return 0, nil, fmt.Errorf("thread message %d: %w", m.id, err)
	}
	if _, err := db.Exec(ctx, `UPDATE events SET thread_id = $2 WHERE message_id = $1`, m.id, thread); err != nil {
		return 0, nil, fmt.Errorf("thread events of message %d: %w", m.id, err)
	}
	return thread, moved, nil
}

func loadThreadMessage(ctx context.Context, db DB, id int64) (threadMessage, error) {
	m := threadMessage{id: id}
	err := db.QueryRow(ctx, `
		SELECT m.message_id, m.subject, m.in_reply_to, m.refs,
			coalesce(m.sent_at, (SELECT min(occurred_at) FROM events e WHERE e.message_id = m.id), m.created_at),
			m.thread_id,
			coalesce((SELECT array_agg(DISTINCT customer_id) FROM events e WHERE e.message_id = m.id), '{}')
		FROM messages m WHERE m.id = $1`, id).Scan(
		&m.msgid, &m.subject, &m.inReplyTo, &m.refs, &m.at, &m.threadID, &m.customers)
	if err != nil {
		return m, fmt.Errorf("load message %d for threading: %w", id, notFound(err))
	}
	return m, nil
}

// threadKeys are the Message-IDs that tie m to other messages: its own, its
// In-Reply-To and the newest of its References.
func threadKeys(m threadMessage) []string {
	var keys []string
	if m.msgid != nil && *m.msgid != "" {
		keys = append(keys, *m.msgid)
	}
	keys = append(keys, m.inReplyTo...)
	refs := m.refs
	if len(refs) > maxThreadRefs {
		refs = refs[len(refs)-maxThreadRefs:]
	}
	keys = append(keys, refs...)
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "" })
	slices.Sort(keys)
	return slices.Compact(keys)
}

// threadsOfKeys returns the live threads that keys are registered to, plus
// also (when not 0), oldest first.
func threadsOfKeys(ctx context.Context, db DB, keys []string, also int64) ([]int64, error) {
	rows, err := db.Query(ctx, `
		SELECT DISTINCT coalesce(t.merged_into, t.id) FROM threads t
		WHERE t.id IN (SELECT thread_id FROM thread_refs WHERE msgid = ANY($1)) OR t.id = $2
		ORDER BY 1`, keys, also)
	if err != nil {
		return nil, fmt.Errorf("threads of message ids: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// threadBySubject is the fallback for mail without usable In-Reply-To and
// References: the thread of the nearest message in time with the same
// subject key, an event for one of m's customers, within ThreadWindow,
// where the later of the two is a reply (two fresh messages with the same
// subject are two conversations; a reply stored before the message it
// answers is found from either side). 0 when there is none. Messages on no
// customer's timeline and empty subjects never take part.
func threadBySubject(ctx context.Context, db DB, m threadMessage, key string, isReply bool) (int64, error) {
	if key == "" || len(m.customers) == 0 {
		return 0, nil
	}
	var thread int64
	err := db.QueryRow(ctx, `
		SELECT coalesce(t.merged_into, t.id)
		FROM messages o JOIN threads t ON t.id = o.thread_id
		WHERE o.subject_key = $1 AND o.id <> $2
			AND CASE WHEN o.sent_at <= $4::timestamptz THEN $3 ELSE o.is_reply END
			AND o.sent_at BETWEEN $4::timestamptz - $5::interval AND $4::timestamptz + $5::interval
			AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = o.id AND e.customer_id = ANY($6))
		ORDER BY abs(extract(epoch FROM o.sent_at - $4::timestamptz)), o.id
		LIMIT 1`, key, m.id, isReply, m.at, ThreadWindow, m.customers).Scan(&thread)
	if err = notFound(err); err == ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("thread by subject for message %d: %w", m.id, err)
	}
	return thread, nil
}

// mergeThreads moves everything of losers into winner and leaves each
// loser pointing at it. It returns the customers whose events moved.
func mergeThreads(ctx context.Context, db DB, winner int64, losers []int64) ([]int64, error) {
	for _, q := range []string{
		`UPDATE thread_refs SET thread_id = $1 WHERE thread_id = ANY($2)`,
		`UPDATE messages SET thread_id = $1 WHERE thread_id = ANY($2)`,
		`UPDATE threads SET merged_into = $1 WHERE id = ANY($2) OR merged_into = ANY($2)`,
	} {
		if _, err := db.Exec(ctx, q, winner, losers); err != nil {
			return nil, fmt.Errorf("merge threads %v into %d: %w", losers, winner, err)
		}
	}
	rows, err := db.Query(ctx, `
		WITH u AS (UPDATE events SET thread_id = $1 WHERE thread_id = ANY($2) RETURNING customer_id)
		SELECT DISTINCT customer_id FROM u`, winner, losers)
	if err != nil {
		return nil, fmt.Errorf("merge threads %v into %d: %w", losers, winner, err)
	}
	defer rows.Close()
	var moved []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		moved = append(moved, id)
	}
	return moved, rows.Err()
}

// resolveThread follows a merged thread to the one it lives on.
func resolveThread(ctx context.Context, db DB, id int64) (int64, error) {
	var live int64
	err := db.QueryRow(ctx, `SELECT coalesce(merged_into, id) FROM threads WHERE id = $1`, id).Scan(&live)
	if err != nil {
		return 0, fmt.Errorf("thread %d: %w", id, notFound(err))
	}
	return live, nil
}
