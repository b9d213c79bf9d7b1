package timeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reasons two customers may be one company, with the weight each carries.
// A pair's score is 1 - Π(1 - weight) over its reasons: one shared domain
// gives 0.9, a shared domain and an equal name 0.96, an equal name alone
// 0.6.
const (
	ReasonSameDomain    = "same_domain"    // both list the domain (free-mail domains excepted)
	ReasonSharedContact = "shared_contact" // both have the address as a contact
	ReasonSameName      = "same_name"      // names equal after NameKey
	ReasonSamePhone     = "same_phone"     // one phone number (SamePhone)
)

var reasonWeight = map[string]float64{
	ReasonSameDomain:    0.9,
	ReasonSharedContact: 0.9,
	ReasonSameName:      0.6,
	ReasonSamePhone:     0.5,
}

// maxGroup bounds how many customers one name or phone may pair up: a
// value shared by more ("LED Trading", a switchboard number) is too common
// to say anything, and pairing them all would be quadratic.
const maxGroup = 20

// Reason is one piece of evidence for a duplicate pair.
type Reason struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"` // the shared domain, address, name key or phone digits
}

// DuplicatePair is a stored candidate pair, A < B.
type DuplicatePair struct {
	A       CustomerRef `json:"a"`
	B       CustomerRef `json:"b"`
	Score   float64     `json:"score"`
	Reasons []Reason    `json:"reasons"`
	FoundAt time.Time   `json:"found_at"`
}

// CustomerRef is the short form of a customer in a list of pairs.
type CustomerRef struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	AutoCreated bool     `json:"auto_created"`
	Domains     []string `json:"domains"`
	Emails      []string `json:"emails"`
}

// ScanResult counts what a duplicate scan changed.
type ScanResult struct {
	Pairs   int `json:"pairs"`   // candidate pairs now stored
	Added   int `json:"added"`   // new pairs
	Changed int `json:"changed"` // pairs whose score or reasons changed
	Removed int `json:"removed"` // pairs no longer found
}

// ScanDuplicates finds every candidate pair among the customers and
// stores them in duplicate_candidates, replacing what an earlier scan
// found: pairs still found keep their found_at, pairs no longer found go.
// A scan over unchanged customers changes nothing. ignoreDomain (may be
// nil) names domains that say nothing when shared: free-mail domains that
// a customer list put in a domains column by mistake.
func ScanDuplicates(ctx context.Context, db DB, ignoreDomain func(string) bool) (ScanResult, error) {
	type pair struct{ a, b int64 }
	found := map[pair][]Reason{}
	add := func(a, b int64, r Reason) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		p := pair{a, b}
		if !slices.Contains(found[p], r) {
			found[p] = append(found[p], r)
		}
	}
	for _, q := range []struct{ reason, sql string }{
		{ReasonSameDomain, `SELECT x.customer_id, y.customer_id, x.domain FROM customer_domains x
			JOIN customer_domains y ON y.domain = x.domain AND y.customer_id > x.customer_id`},
		{ReasonSharedContact, `SELECT x.customer_id, y.customer_id, x.email FROM contacts x
			JOIN contacts y ON y.email = x.email AND y.customer_id > x.customer_id`},
	} {
		rows, err := db.Query(ctx, q.sql)
		if err != nil {
			return ScanResult{}, fmt.Errorf("scan duplicates (%s): %w", q.reason, err)
		}
		var a, b int64
		var v string
		_, err = pgx.ForEachRow(rows, []any{&a, &b, &v}, func() error {
			if q.reason != ReasonSameDomain || ignoreDomain == nil || !ignoreDomain(v) {
				add(a, b, Reason{q.reason, v})
			}
			return nil
		})
		if err != nil {
			return ScanResult{}, fmt.Errorf("scan duplicates (%s): %w", q.reason, err)
		}
	}
	// Names pair on equal keys; phones are grouped by their last digits
	// and compared pairwise within a group, since "one number" is not an
	// equivalence (SamePhone: a national number matches the same digits
	// after any country code, two country codes must agree).
	type customerPhone struct {
		id    int64
		phone Phone
	}
	names, phones := map[string][]int64{}, map[string][]customerPhone{}
	rows, err := db.Query(ctx, `SELECT id, name, phone FROM customers ORDER BY id`)
	if err != nil {
		return ScanResult{}, fmt.Errorf("scan duplicates (names): %w", err)
	}
	var id int64
	var name, phone string
	_, err = pgx.ForEachRow(rows, []any{&id, &name, &phone}, func() error {
		if k := NameKey(name); k != "" {
			names[k] = append(names[k], id)
		}
		for _, p := range Phones(phone) {
			k := phoneGroupKey(p)
			phones[k] = append(phones[k], customerPhone{id, p})
		}
		return nil
	})
	if err != nil {
		return ScanResult{}, fmt.Errorf("scan duplicates (names): %w", err)
	}
	for k, ids := range names {
		if len(ids) < 2 || len(ids) > maxGroup {
			continue
		}
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				add(ids[i], ids[j], Reason{ReasonSameName, k})
			}
		}
	}
	for _, g := range phones {
		if len(g) < 2 || len(g) > maxGroup {
			continue
		}
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				if g[i].id == g[j].id {
					continue
				}
				if detail, ok := SamePhone(g[i].phone, g[j].phone); ok {
					add(g[i].id, g[j].id, Reason{ReasonSamePhone, detail})
				}
			}
		}
	}

	// Write the difference, so that a repeated scan writes nothing.
	type stored struct {
		score   float64
		reasons []Reason
	}
	old := map[pair]stored{}
	rows, err = db.Query(ctx, `SELECT customer_a, customer_b, score, reasons FROM duplicate_candidates`)
	if err != nil {
		return ScanResult{}, fmt.Errorf("read duplicate candidates: %w", err)
	}
	var p pair
	var s stored
	var score float32
	_, err = pgx.ForEachRow(rows, []any{&p.a, &p.b, &score, &s.reasons}, func() error {
		s.score = float64(score)
		old[p] = s
		s = stored{}
		return nil
	})
	if err != nil {
		return ScanResult{}, fmt.Errorf("read duplicate candidates: %w", err)
	}
	var res ScanResult
	var as, bs []int64
	var scores []float32
	var reasons [][]byte
	for p, rs := range found {
		slices.SortFunc(rs, func(x, y Reason) int {
			return cmp.Or(cmp.Compare(x.Reason, y.Reason), cmp.Compare(x.Detail, y.Detail))
		})
		sc := Score(rs)
		o, had := old[p]
		delete(old, p)
		switch {
		case !had:
			res.Added++
		case float32(o.score) != float32(sc) || !slices.Equal(o.reasons, rs):
			res.Changed++
		default:
			continue
		}
		js, _ := json.Marshal(rs)
		as, bs, scores, reasons = append(as, p.a), append(bs, p.b), append(scores, float32(sc)), append(reasons, js)
	}
	res.Pairs = len(found)
	if len(as) > 0 {
		if _, err := db.Exec(ctx, `
			INSERT INTO duplicate_candidates (customer_a, customer_b, score, reasons)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::real[], $4::jsonb[])
			ON CONFLICT (customer_a, customer_b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons`,
			as, bs, scores, reasons); err != nil {
			return ScanResult{}, fmt.Errorf("store duplicate candidates: %w", err)
		}
	}
	if len(old) > 0 {
		as, bs = as[:0], bs[:0]
		for p := range old {
			as, bs = append(as, p.a), append(bs, p.b)
		}
		if _, err := db.Exec(ctx, `
			DELETE FROM duplicate_candidates d USING unnest($1::bigint[], $2::bigint[]) AS g(a, b)
			WHERE d.customer_a = g.a AND d.customer_b = g.b`, as, bs); err != nil {
			return ScanResult{}, fmt.Errorf("remove stale duplicate candidates: %w", err)
		}
		res.Removed = len(old)
	}
	if _, err := db.Exec(ctx, `UPDATE matching_state SET duplicates_dirty = false WHERE duplicates_dirty`); err != nil {
		return ScanResult{}, fmt.Errorf("record duplicate scan: %w", err)
	}
	return res, nil
}

// Score combines reasons into a score in [0, 1): 1 - Π(1 - weight).
func Score(rs []Reason) float64 {
	miss := 1.0
	for _, r := range rs {
		miss *= 1 - reasonWeight[r.Reason]
	}
	return math.Round((1-miss)*1000) / 1000
}

// DuplicatesCursor positions a page of Duplicates: pairs after (Score, A,
// B) in the list's order. The zero value starts at the top.
type DuplicatesCursor struct {
	Score float64
	A, B  int64
}

// Duplicates lists stored candidate pairs, highest score first, then by
// ids, at most limit of them after cur.
func Duplicates(ctx context.Context, db DB, cur DuplicatesCursor, limit int) ([]DuplicatePair, error) {
	start := cur == DuplicatesCursor{}
	return queryDuplicates(ctx, db, `
		WHERE $1 OR (d.score < $2::real OR d.score = $2::real AND (d.customer_a, d.customer_b) > ($3, $4))
		ORDER BY d.score DESC, d.customer_a, d.customer_b LIMIT $5`,
		start, float32(cur.Score), cur.A, cur.B, limit)
}

// DuplicatesOf lists the stored pairs that involve any of ids.
func DuplicatesOf(ctx context.Context, db DB, ids []int64) ([]DuplicatePair, error) {
	return queryDuplicates(ctx, db, `
		WHERE d.customer_a = ANY($1) OR d.customer_b = ANY($1)
		ORDER BY d.score DESC, d.customer_a, d.customer_b`, ids)
}

func queryDuplicates(ctx context.Context, db DB, where string, args ...any) ([]DuplicatePair, error) {
	rows, err := db.Query(ctx, `
		SELECT d.score, d.reasons, d.found_at,
			a.id, a.name, a.auto_created,
			coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains WHERE customer_id = a.id), '{}'),
			coalesce((SELECT array_agg(email ORDER BY email) FROM contacts WHERE customer_id = a.id), '{}'),
			b.id, b.name, b.auto_created,
			coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains WHERE customer_id = b.id), '{}'),
			coalesce((SELECT array_agg(email ORDER BY email) FROM contacts WHERE customer_id = b.id), '{}')
		FROM duplicate_candidates d
		JOIN customers a ON a.id = d.customer_a JOIN customers b ON b.id = d.customer_b`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list duplicate candidates: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DuplicatePair, error) {
		var d DuplicatePair
		var score float32
		err := row.Scan(&score, &d.Reasons, &d.FoundAt,
			&d.A.ID, &d.A.Name, &d.A.AutoCreated, &d.A.Domains, &d.A.Emails,
			&d.B.ID, &d.B.Name, &d.B.AutoCreated, &d.B.Domains, &d.B.Emails)
		d.Score = float64(score)
		return d, err
	})
}

// MarkDuplicatesDirty records that customers changed in a way that can
// make or break duplicate pairs; the daemon scans again soon after.
func MarkDuplicatesDirty(ctx context.Context, db DB) error {
	if _, err := db.Exec(ctx, `UPDATE matching_state SET duplicates_dirty = true WHERE NOT duplicates_dirty`); err != nil {
		return fmt.Errorf("mark duplicate scan due: %w", err)
	}
	return nil
}

// DuplicatesDirty reports whether a duplicate scan is due.
func DuplicatesDirty(ctx context.Context, db DB) (bool, error) {
	var dirty bool
	err := db.QueryRow(ctx, `SELECT duplicates_dirty FROM matching_state`).Scan(&dirty)
	if err != nil {
		return false, fmt.Errorf("read matching state: %w", err)
	}
	return dirty, nil
}
