package ingest

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	// batchBytes bounds the bytes asked for in one UID FETCH of bodies. At
	// most three batches are in memory per mailbox (one being read, one
	// waiting, one being stored), so memory stays bounded whatever the
	// mailbox; a message bigger than this (under the size limit) comes alone.
	batchBytes = 16 << 20
	// sizeChunk is how many UIDs one UID FETCH (RFC822.SIZE) asks about.
	sizeChunk = 1000
	// unknownSize is what a message of unknown size counts for in a batch.
	unknownSize = 256 << 10
	// headerBytes bounds the header kept of a message over the size limit.
	headerBytes = 256 << 10
)

// fetchedMsg is one message as read from the server.
type fetchedMsg struct {
	uid         imap.UID
	raw         []byte // the whole message, or only its header when headersOnly
	size        int64  // RFC822.SIZE, or the literal's size
	headersOnly bool
}

// fetchedBatch is the outcome of fetching one batch of UIDs.
type fetchedBatch struct {
	order []imap.UID // the UIDs asked for, in processing order
	msgs  map[imap.UID]*fetchedMsg
	gone  map[imap.UID]bool // no longer on the server: expunged meanwhile
	// stuck is the first UID (in order) that the server still lists but
	// would not return, twice: the cursor must not pass it.
	stuck imap.UID
	bytes int64
	took  time.Duration // to fetch
}

// fetchPlan is a list of UIDs to fetch, in the order they are to be
// stored: ascending for new mail, descending for the backfill.
type fetchPlan struct {
	f          Folder
	uids       []imap.UID
	sizes      map[imap.UID]int64 // RFC822.SIZE when already known
	maxBatches int                // 0: all
}

// fetchResult is what the producer hands on: a batch of folder, or an
// error, or a mark between batches.
type fetchResult struct {
	batch     *fetchedBatch
	err       error
	f         Folder
	remaining int       // UIDs of the folder's plan after this batch
	mark      *stepMark // instead of a batch
}

// A stepMark tells the saver, in order with the batches, that a folder's
// backfill turn ended (its links are due) or that its backfill finished.
type stepMark struct {
	done        bool
	beforeSince int64 // with done: messages left out by the since date
}

// produce runs feed, which fetches and hands each result to send, then
// closes out. send reports false once the consumer has stopped. feed owns
// the session while it runs: no other command may be sent meanwhile.
func (s *Syncer) produce(what string, out chan<- fetchResult, stop <-chan struct{}, feed func(send func(fetchResult) bool)) {
	defer close(out)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic while fetching", "panic", r, "stack", string(debug.Stack()))
			out <- fetchResult{err: fmt.Errorf("panic while fetching %s: %v", what, r)}
		}
	}()
	feed(func(r fetchResult) bool {
		select {
		case out <- r:
			return true
		case <-stop:
			return false
		}
	})
}

// fetchPlan fetches plan batch by batch, up to plan.maxBatches batches,
// handing each to send. It returns how many of plan.uids it took, and
// whether to go on: false after an error (sent), a batch with a stuck
// UID, or when send refused.
func (s *Syncer) fetchPlan(sess *session, plan *fetchPlan, send func(fetchResult) bool) (int, bool) {
	limit := s.cfg.Sync.MaxMessageBytes()
	if plan.sizes == nil {
		plan.sizes = map[imap.UID]int64{}
	}
	pos, n := 0, 0
	for pos < len(plan.uids) && (plan.maxBatches == 0 || n < plan.maxBatches) {
		// RFC822.SIZE first, so that a message over the limit is never
		// fetched whole and batches can be cut by bytes.
		if _, ok := plan.sizes[plan.uids[pos]]; !ok {
			chunk := plan.uids[pos:min(pos+sizeChunk, len(plan.uids))]
			sizes, err := fetchSizes(sess.c, imap.UIDSetNum(chunk...))
			if err != nil {
				send(fetchResult{err: fmt.Errorf("fetch sizes in %s: %w", plan.f.Name, err)})
				return pos, false
			}
			for _, u := range chunk {
				sz, ok := sizes[u]
				if !ok {
					sz = -1 // unknown: gone, or a server that did not say
				}
				plan.sizes[u] = sz
			}
		}
		var batch []imap.UID
		var est int64
		for pos < len(plan.uids) && len(batch) < s.cfg.Sync.BatchSize {
			u := plan.uids[pos]
			sz, ok := plan.sizes[u]
			if !ok {
				break // its size comes with the next chunk
			}
			switch {
			case sz < 0:
				sz = unknownSize
			case sz > limit:
				sz = headerBytes / 4
			}
			if len(batch) > 0 && est+sz > batchBytes {
				break
			}
			batch = append(batch, u)
			est += sz
			pos++
		}
		fb, err := s.fetchBatch(sess, plan.f.Name, batch, plan.sizes, limit)
		if err != nil {
			send(fetchResult{err: err})
			return pos, false
		}
		n++
		if !send(fetchResult{batch: fb, f: plan.f, remaining: len(plan.uids) - pos}) || fb.stuck != 0 {
			return pos, false
		}
	}
	return pos, true
}

// fetchSizes asks for the RFC822.SIZE of the messages in set.
func fetchSizes(c *imapclient.Client, set imap.NumSet) (map[imap.UID]int64, error) {
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, err
	}
	out := make(map[imap.UID]int64, len(msgs))
	for _, m := range msgs {
		if m.UID != 0 {
			out[m.UID] = m.RFC822Size
		}
	}
	return out, nil
}

// fetchBatch fetches one batch: whole messages under the size limit,
// headers only above it. A UID that does not come back is looked up again
// (UID SEARCH): absent, it was expunged meanwhile and is skipped; present,
// it is asked for once more, and if it still does not come the batch is
// stuck there.
func (s *Syncer) fetchBatch(sess *session, folder string, uids []imap.UID, sizes map[imap.UID]int64, limit int64) (*fetchedBatch, error) {
	fb := &fetchedBatch{order: uids, msgs: make(map[imap.UID]*fetchedMsg, len(uids)), gone: map[imap.UID]bool{}}
	began := time.Now()
	defer func() { fb.took = time.Since(began) }()
	get := func(want []imap.UID) error {
		var whole, heads []imap.UID
		for _, u := range want {
			if sizes[u] > limit {
				heads = append(heads, u)
			} else {
				whole = append(whole, u)
			}
		}
		if len(whole) > 0 {
			if err := readMessages(sess.c, whole, false, limit, fb); err != nil {
				return fmt.Errorf("fetch %s: %w", folder, err)
			}
		}
		if len(heads) > 0 {
			if err := readMessages(sess.c, heads, true, limit, fb); err != nil {
				return fmt.Errorf("fetch headers in %s: %w", folder, err)
			}
			for _, u := range heads {
				if m := fb.msgs[u]; m != nil {
					m.size = sizes[u]
				}
			}
		}
		return nil
	}
	if err := get(uids); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		var missing []imap.UID
		for _, u := range uids {
			if fb.msgs[u] == nil && !fb.gone[u] {
				missing = append(missing, u)
			}
		}
		if len(missing) == 0 {
			return fb, nil
		}
		found, err := sess.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(missing...)}}, nil).Wait()
		if err != nil {
			return nil, fmt.Errorf("search %s for missing messages: %w", folder, err)
		}
		still := found.AllUIDs()
		var again []imap.UID
		for _, u := range missing {
			if slices.Contains(still, u) {
				again = append(again, u)
			} else {
				fb.gone[u] = true
			}
		}
		if len(again) == 0 {
			return fb, nil
		}
		if attempt == 1 {
			fb.stuck = again[0]
			for _, u := range uids { // the first in processing order
				if slices.Contains(again, u) {
					fb.stuck = u
					break
				}
			}
			return fb, nil
		}
		if err := get(again); err != nil {
			return nil, err
		}
	}
}

// readMessages runs one UID FETCH of BODY.PEEK[] (or BODY.PEEK[HEADER])
// and reads each literal into a buffer of its announced size: one copy,
// never more than limit bytes. A literal over the limit (the server's
// RFC822.SIZE was wrong or missing) is read up to the limit, the rest
// discarded, and only its header kept. Each body is read to its end before
// the next message: go-imap discards it on Next().
func readMessages(c *imapclient.Client, uids []imap.UID, headersOnly bool, limit int64, fb *fetchedBatch) error {
	section := &imap.FetchItemBodySection{Peek: true}
	if headersOnly {
		section.Specifier = imap.PartSpecifierHeader
	}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		m := &fetchedMsg{headersOnly: headersOnly}
		gotBody := false
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				m.uid = it.UID
			case imapclient.FetchItemDataBodySection:
				gotBody = true
				if it.Literal == nil {
					m.raw = []byte{}
					continue
				}
				size := it.Literal.Size()
				m.size = size
				n := min(size, limit)
				buf := make([]byte, n)
				if _, err := io.ReadFull(it.Literal, buf); err != nil {
					return brokenFetch(c, err)
				}
				if size > limit {
					if _, err := io.Copy(io.Discard, it.Literal); err != nil {
						return brokenFetch(c, err)
					}
					buf = headerOf(buf)
					m.headersOnly = true
				}
				m.raw = buf
			}
		}
		if m.uid != 0 && gotBody && slices.Contains(uids, m.uid) {
			fb.msgs[m.uid] = m
			fb.bytes += int64(len(m.raw))
		}
	}
	return cmd.Close()
}

// brokenFetch ends a FETCH whose literal could not be read (the
// connection timed out or was cut mid-message): the connection is closed,
// not the command. FetchCommand.Close would read the rest of the literal
// from the broken connection while go-imap's reader goroutine reads it
// too (a data race inside go-imap v2.0.0-beta.8, seen with -race in
// TestBrokenConnections/cut). The session is dropped anyway: the next pass
// logs in again.
func brokenFetch(c *imapclient.Client, err error) error {
	c.Close()
	return fmt.Errorf("read message: %w", err)
}

// headerOf returns the header of a raw message (up to and including the
// blank line), at most headerBytes of it.
func headerOf(raw []byte) []byte {
	end := len(raw)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	end = min(end, headerBytes)
	return bytes.Clone(raw[:end])
}
