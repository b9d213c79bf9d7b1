package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// matchingVersion is part of the config fingerprint: bump it when a change
// of the matching rules should re-match stored mail on upgrade.
// 2: local parts folded to NFKC, robots told by whole words of the local
// part (notifyme.john@ is a person).
const matchingVersion = 2

// scanLock is the pg_try_advisory_xact_lock key that lets one duplicate
// scan run at a time whatever the number of daemons ("mtdupes").
const scanLock int64 = 0x6d746475706573

// Maintained says what Maintain did.
type Maintained struct {
	Rematch    RematchStats         `json:"rematch"`
	Relinked   int                  `json:"relinked_customers"`   // links a backfill or import left pending
	Duplicates *timeline.ScanResult `json:"duplicates,omitempty"` // nil when no scan was due
}

// Maintain does the work that changes of the customer records leave
// behind: it recomputes the inquiry links left in pending_links (by a
// backfill that a crash cut short, say), re-matches the messages in
// rematch_queue (after an import, a merge, a reply that releases pending
// mail, a config change) and scans for duplicate customers when this
// pipeline created customers from mail, or a merge marked a scan due,
// since the last scan. The syncer calls it after each pass and on its own
// timer; commands call it after they change customers.
func (p *Pipeline) Maintain(ctx context.Context) (Maintained, error) {
	var m Maintained
	var err error
	if m.Relinked, err = timeline.FlushPendingLinks(ctx, p.store); err != nil {
		return m, err
	}
	if m.Rematch, err = p.DrainRematch(ctx); err != nil {
		return m, err
	}
	due := p.scanDue.Swap(false)
	if !due {
		// An import, merge or another daemon's customers.
		if due, err = timeline.DuplicatesDirty(ctx, p.store.Pool); err != nil || !due {
			return m, err
		}
	}
	res, err := p.ScanDuplicates(ctx)
	if err != nil {
		p.scanDue.Store(true)
		return m, err
	}
	m.Duplicates = &res
	return m, nil
}

// ScanDuplicates runs timeline.ScanDuplicates with the free-mail list in
// use, one scan at a time across daemons (a scan already running elsewhere
// makes this one a no-op).
func (p *Pipeline) ScanDuplicates(ctx context.Context) (timeline.ScanResult, error) {
	var res timeline.ScanResult
	err := p.store.InTxRetry(ctx, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, scanLock).Scan(&locked); err != nil || !locked {
			return err
		}
		var err error
		res, err = timeline.ScanDuplicates(ctx, tx, p.freeMail.Contains)
		return err
	})
	return res, err
}

// ScanSoon makes the next Maintain scan for duplicates (the daemon calls
// it at start: customers another process created from mail since the last
// scan are not known here).
func (p *Pipeline) ScanSoon() { p.scanDue.Store(true) }

// FreeMail reports whether a normalized domain is free-mail under the
// config in use (embedded list plus matching.freemail_add/remove).
func (p *Pipeline) FreeMail(domain string) bool { return p.freeMail.Contains(domain) }

// CheckConfig queues every stored message for re-matching when the
// matching config (company domains, reps and aliases, suppliers, the
// free-mail list with its config changes) differs from the one stored mail
// was matched with, and records the new one. It returns the number queued.
// The auto-creation policy is not part of it: it decides which new buyers
// become customers from now on, and never undoes a customer.
func (p *Pipeline) CheckConfig(ctx context.Context) (int, error) {
	fp := p.fingerprint()
	var n int
	err := p.store.InTxRetry(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = timeline.SwapFingerprint(ctx, tx, fp)
		return err
	})
	return n, err
}

func (p *Pipeline) fingerprint() string {
	norm := func(ss []string) []string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			out = append(out, strings.ToLower(strings.TrimSpace(s)))
		}
		slices.Sort(out)
		return out
	}
	type supplier struct{ Name, Domains, Emails []string }
	var v struct {
		Version   int
		Company   []string
		Reps      []string
		Suppliers []supplier
		FreeMail  []string
	}
	v.Version = matchingVersion
	v.Company = norm(p.cfg.Company.Domains)
	for a := range p.repOf {
		v.Reps = append(v.Reps, a)
	}
	slices.Sort(v.Reps)
	for _, s := range p.cfg.Suppliers {
		v.Suppliers = append(v.Suppliers, supplier{[]string{s.Name}, norm(s.Domains), norm(s.Emails)})
	}
	v.FreeMail = p.freeMail.Domains()
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err)) // plain strings: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
