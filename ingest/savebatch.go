package ingest

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// PrepareAll prepares a fetched batch on every CPU (Prepare is pure).
func (p *Pipeline) PrepareAll(raws map[imap.UID][]byte, rep, role string) map[imap.UID]*Prepared {
	uids := make([]imap.UID, 0, len(raws))
	for u := range raws {
		uids = append(uids, u)
	}
	out := make([]*Prepared, len(uids))
	parallel(len(uids), func(i int) { out[i] = p.Prepare(raws[uids[i]], rep, role) })
	m := make(map[imap.UID]*Prepared, len(uids))
	for i, u := range uids {
		m[u] = out[i]
	}
	return m
}

// SaveBatch stores prepared messages inside tx, locs[i] being where
// prs[i] was found (nil for none). The outcome is that of calling Save on
// each in order, in a handful of round trips to PostgreSQL instead of
// five or more per message, which set the pace of a sync.
func (p *Pipeline) SaveBatch(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location) ([]timeline.SaveResult, error) {
	// The batched path (EnsureCustomers + SaveMessages, below) predates
	// re-matching, pending replies and customer redirects, which live in
	// Save; until it carries them, correctness wins: one Save per message.
	rs := make([]timeline.SaveResult, 0, len(prs))
	var links timeline.Relinks
	for i, pr := range prs {
		r, err := p.Save(ctx, tx, pr, locs[i], &links)
		if err != nil {
			return rs, err
		}
		rs = append(rs, r)
	}
	if err := links.Flush(ctx, tx); err != nil {
		return rs, fmt.Errorf("link inquiries: %w", err)
	}
	return rs, nil
}

// need is customerFor as a CustomerNeed.
func need(b matcher.Party, rep string) (timeline.CustomerNeed, error) {
	r := b.Resolution
	switch r.Class {
	case matcher.ClassCustomer:
		n := timeline.CustomerNeed{CustomerID: r.CustomerID}
		if r.Via == matcher.ViaDomain {
			// A new address at a known customer's domain becomes its contact.
			n.NewContact = &timeline.Contact{Email: r.Email, Name: b.Addr.Name}
		}
		return n, nil
	case matcher.ClassNewDomain:
		return timeline.CustomerNeed{AutoKey: "domain:" + r.NewKey, Name: r.NewKey, Owner: rep}, nil
	case matcher.ClassNewEmail:
		name := strings.TrimSpace(b.Addr.Name)
		if name == "" {
			name = r.NewKey
		}
		return timeline.CustomerNeed{AutoKey: "email:" + r.NewKey, Name: name, Owner: rep}, nil
	}
	return timeline.CustomerNeed{}, fmt.Errorf("party %s is not a buyer", r.Email)
}
