package handover

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// TransferRequest moves a departing rep's customers to colleagues.
type TransferRequest struct {
	From string // the departing rep
	// To receives every customer From owns that Mapping does not name,
	// and every unowned customer From alone ever corresponded with (the
	// report's sole contacts). May be empty when Mapping names every
	// customer to move.
	To string
	// Mapping gives single customers another new owner: customers From
	// owns, or unowned customers From corresponded with. A customer the
	// mapping's owner already has is skipped, so that a repeated request
	// moves nothing and fails on nothing.
	Mapping map[int64]string
	DryRun  bool   // plan and report, change nothing
	Via     string // "api" or "cli", for the audit trail
	Actor   string // who asked: a token's name or the OS user
}

// Move is one customer changing owner.
type Move struct {
	CustomerID int64  `json:"customer_id"`
	Customer   string `json:"customer"`
	Grade      string `json:"grade"`
	From       string `json:"from"` // the owner before ("" when none)
	To         string `json:"to"`
}

// TransferResult says what moved, or would move in a dry run.
type TransferResult struct {
	Rep    string `json:"rep"`
	DryRun bool   `json:"dry_run"`
	Moves  []Move `json:"moves"`
	// Kept lists customers From owns that nothing moves (no To, not in
	// Mapping): they keep From as owner.
	Kept []CustomerRef `json:"kept"`
	// LeftUnowned lists the unowned customers From corresponded with that
	// nothing moves: those colleagues wrote to as well (OtherReps), and,
	// without To, the sole contacts Mapping does not name. They stay
	// unowned; the manager decides.
	LeftUnowned []Unowned `json:"left_unowned"`
	Warnings    []string  `json:"warnings"`
}

// Unowned is a customer with no owner that the departing rep
// corresponded with.
type Unowned struct {
	CustomerRef
	// OtherReps are the colleagues who corresponded with the customer too;
	// empty when only the departing rep ever did.
	OtherReps []string `json:"other_reps"`
}

var errDryRun = errors.New("dry run")

// Transfer moves ownership as req says, in one transaction: every
// customer's owner changes together with an owner_changes row, or none
// does. A dry run computes the same moves and rolls back. Running the same
// transfer twice moves nothing the second time. Captured mail is never
// touched: it stays on the timelines and in search under the rep who
// handled it.
func Transfer(ctx context.Context, store *timeline.Store, req TransferRequest) (*TransferResult, error) {
	if err := req.normalize(); err != nil {
		return nil, err
	}
	res := &TransferResult{Rep: req.From, DryRun: req.DryRun, Moves: []Move{}, Kept: []CustomerRef{},
		LeftUnowned: []Unowned{}, Warnings: []string{}}
	err := store.InTx(ctx, func(tx pgx.Tx) error {
		if err := plan(ctx, tx, &req, res); err != nil {
			return err
		}
		if req.DryRun {
			return errDryRun
		}
		for i, m := range res.Moves {
			ok, err := timeline.SetOwner(ctx, tx, m.CustomerID, m.From, m.To, req.Via, req.Actor)
			if err != nil {
				return err
			}
			if !ok { // cannot happen under the row locks plan took; say so if it does
				return fmt.Errorf("customer %d changed owner during the transfer", res.Moves[i].CustomerID)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	return res, nil
}

func (req *TransferRequest) normalize() error {
	norm := func(field, addr string) (string, error) {
		n, ok := matcher.Normalize(addr)
		if !ok {
			return "", &InputError{field, fmt.Sprintf("%q is not an e-mail address", addr)}
		}
		return n, nil
	}
	var err error
	if req.From, err = norm("rep", req.From); err != nil {
		return err
	}
	if req.To == "" && len(req.Mapping) == 0 {
		return &InputError{"to", `give "to" (the new owner of every customer) or "mapping" (customer id to new owner), or both`}
	}
	if req.To != "" {
		if req.To, err = norm("to", req.To); err != nil {
			return err
		}
		if req.To == req.From {
			return &InputError{"to", "is the departing rep"}
		}
	}
	for id, to := range req.Mapping {
		field := fmt.Sprintf("mapping.%d", id)
		if id < 1 {
			return &InputError{field, "customer ids are positive whole numbers"}
		}
		if req.Mapping[id], err = norm(field, to); err != nil {
			return err
		}
		if req.Mapping[id] == req.From {
			return &InputError{field, "is the departing rep"}
		}
	}
	return nil
}

// plan locks the customers concerned and fills res.Moves, res.Kept and
// res.LeftUnowned. The customers concerned: those From owns, those
// Mapping names, and the unowned ones From corresponded with.
func plan(ctx context.Context, tx pgx.Tx, req *TransferRequest, res *TransferResult) error {
	mapped := make([]int64, 0, len(req.Mapping))
	for id := range req.Mapping {
		mapped = append(mapped, id)
	}
	slices.Sort(mapped)
	// others: the colleagues who wrote with the customer or hold its mail
	// in their mailbox; none means a sole contact (see SoleContacts).
	rows, err := tx.Query(ctx, `
		SELECT c.id, c.name, coalesce(c.grade, ''), coalesce(c.owner, ''),
			EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.rep = $1),
			ARRAY(SELECT DISTINCT r FROM (`+otherRepsSQL+`) o(r) ORDER BY 1)
		FROM customers c
		WHERE c.owner = $1 OR c.id = ANY($2)
			OR (coalesce(c.owner, '') = '' AND c.id IN (SELECT customer_id FROM events WHERE rep = $1))
		ORDER BY c.id
		FOR UPDATE OF c`, req.From, mapped)
	if err != nil {
		return fmt.Errorf("plan transfer of %s: %w", req.From, err)
	}
	type row struct {
		id                  int64
		name, grade, owner  string
		correspondedWithRep bool
		others              []string
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.name, &x.grade, &x.owner, &x.correspondedWithRep, &x.others)
		if x.others == nil {
			x.others = []string{}
		}
		return x, err
	})
	if err != nil {
		return fmt.Errorf("plan transfer of %s: %w", req.From, err)
	}
	seen := map[int64]bool{}
	for _, c := range found {
		seen[c.id] = true
		to, inMapping := req.Mapping[c.id]
		unowned := c.owner == ""
		switch {
		case inMapping && to == c.owner:
			continue // moved there already: repeating a transfer moves nothing
		case inMapping && !unowned && c.owner != req.From:
			return &InputError{fmt.Sprintf("mapping.%d", c.id), fmt.Sprintf("customer %d (%s) is owned by %s, not %s", c.id, c.name, c.owner, req.From)}
		case inMapping && unowned && !c.correspondedWithRep:
			return &InputError{fmt.Sprintf("mapping.%d", c.id), fmt.Sprintf("customer %d (%s) is neither owned by nor a correspondent of %s", c.id, c.name, req.From)}
		case inMapping:
		case unowned && req.To != "" && len(c.others) == 0:
			// Nobody else knows this buyer: left unowned, it would leave
			// with the rep.
			to = req.To
		case unowned:
			res.LeftUnowned = append(res.LeftUnowned, Unowned{CustomerRef{c.id, c.name, c.grade}, c.others})
			continue
		case req.To != "":
			to = req.To
		default:
			res.Kept = append(res.Kept, CustomerRef{c.id, c.name, c.grade})
			continue
		}
		res.Moves = append(res.Moves, Move{CustomerID: c.id, Customer: c.name, Grade: c.grade, From: c.owner, To: to})
	}
	for _, id := range mapped {
		if !seen[id] {
			return &InputError{fmt.Sprintf("mapping.%d", id), fmt.Sprintf("no customer %d", id)}
		}
	}
	// A new owner nobody has heard of is most likely a typo.
	targets := map[string]bool{}
	for _, m := range res.Moves {
		targets[m.To] = true
	}
	for _, to := range slices.Sorted(maps.Keys(targets)) {
		var known bool
		err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM events WHERE rep = $1)
				OR EXISTS (SELECT 1 FROM customers WHERE owner = $1)
				OR EXISTS (SELECT 1 FROM api_tokens WHERE rep = $1)
				OR EXISTS (SELECT 1 FROM mailboxes WHERE lower(rep) = $1)`, to).Scan(&known)
		if err != nil {
			return fmt.Errorf("check new owner %s: %w", to, err)
		}
		if !known {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s has no captured mail, customers, token or mailbox: check the address", to))
		}
	}
	return nil
}

// ParseMapping reads "ID=EMAIL" pairs (the command line's --map).
func ParseMapping(pairs []string) (map[int64]string, error) {
	m := map[int64]string{}
	for _, p := range pairs {
		idStr, to, ok := strings.Cut(p, "=")
		id, err := strconv.ParseInt(strings.TrimSpace(idStr), 10, 64)
		if !ok || err != nil || id < 1 {
			return nil, &InputError{"map", fmt.Sprintf("%q is not CUSTOMER_ID=EMAIL", p)}
		}
		m[id] = strings.TrimSpace(to)
	}
	return m, nil
}
