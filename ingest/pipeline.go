package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// Pipeline turns raw messages into stored messages and timeline events.
// Prepare is pure (parse, match, classify) and safe to call concurrently;
// Save writes inside the caller's transaction.
type Pipeline struct {
	cfg      *config.Config
	store    *timeline.Store
	rules    *classify.Rules
	log      *slog.Logger
	matcher  atomic.Pointer[matcher.Matcher]
	repOf    map[string]string // normalized rep address or alias -> rep email
	freeMail matcher.FreeMail
	// created is set when a customer was created from mail, so that a
	// long re-match reloads the matcher between batches; scanDue, so that
	// Maintain scans for duplicates. (A flag in the database would make
	// every mailbox's transaction that creates a customer queue on one
	// row.)
	created, scanDue atomic.Bool
}

// NewPipeline builds a pipeline; call Reload before the first Prepare.
func NewPipeline(cfg *config.Config, store *timeline.Store, rules *classify.Rules, log *slog.Logger) *Pipeline {
	p := &Pipeline{cfg: cfg, store: store, rules: rules, log: log, repOf: map[string]string{}}
	for _, r := range cfg.Reps {
		for _, a := range append([]string{r.Email}, r.Aliases...) {
			if n, ok := matcher.Normalize(a); ok {
				p.repOf[n] = strings.ToLower(r.Email)
			}
		}
	}
	p.freeMail = cfg.Matching.FreeMail()
	p.matcher.Store(matcher.New(matcher.Directory{}))
	return p
}

// Reload rebuilds the matcher from the customers in PostgreSQL and the
// company, reps and suppliers in the config.
func (p *Pipeline) Reload(ctx context.Context) error {
	custs, err := timeline.Directory(ctx, p.store.Pool)
	if err != nil {
		return err
	}
	dir := matcher.Directory{CompanyDomains: p.cfg.Company.Domains, FreeMail: p.freeMail}
	for a := range p.repOf {
		dir.RepAddresses = append(dir.RepAddresses, a)
	}
	for _, s := range p.cfg.Suppliers {
		dir.Suppliers = append(dir.Suppliers, matcher.Supplier{Name: s.Name, Domains: s.Domains, Emails: s.Emails})
	}
	for _, c := range custs {
		mc := matcher.Customer{ID: c.ID, Name: c.Name, Domains: c.Domains, AutoCreated: c.AutoCreated}
		for _, k := range c.Contacts {
			mc.Emails = append(mc.Emails, matcher.Contact{Email: k.Email, Name: k.Name, Learned: k.Learned})
		}
		dir.Customers = append(dir.Customers, mc)
	}
	p.matcher.Store(matcher.New(dir))
	return nil
}

// Prepared is a message parsed, matched and classified, ready to save.
type Prepared struct {
	rec     timeline.Captured
	buyers  []matcher.Party
	verdict classify.Verdict
	rep     string // the rep the events are attributed to
}

// Prepare parses, matches and classifies raw mail found in rep's mailbox.
// It never fails: what cannot be parsed is kept raw and flagged.
func (p *Pipeline) Prepare(raw []byte, rep, role string) *Prepared {
	return p.prepare(message.Parse(raw), raw, rep)
}

// prepare is Prepare on a parsed message (re-matching adds the stored Bcc
// line to it first).
func (p *Pipeline) prepare(m *message.Message, raw []byte, rep string) *Prepared {
	pr := &Prepared{rep: strings.ToLower(rep)}
	pr.rec = timeline.Captured{
		DedupKey: dedupKey(m), ContentHash: contentHash(m), MessageID: m.MessageID, Subject: m.Subject, SentAt: m.Date,
		From: m.From, To: m.To, Cc: m.Cc, Bcc: m.Bcc, InReplyTo: m.InReplyTo, References: m.References,
		Body: m.Text, Attachments: m.Attachments, Size: len(raw), Malformed: m.Malformed,
		Problems: m.Problems, Raw: raw,
	}
	res := p.matcher.Load().Match(envelope(m))
	dir := string(res.Direction)
	if res.FromForward {
		dir = "in" // a colleague passed on the buyer's mail: it came from the buyer
	}
	pr.rec.Direction = dir
	pr.rep = p.attribute(m, res, rep)
	// Automatic mail first: a bounce from our own mailer-daemon is a
	// bounce, not internal mail. Noise and Kind share the folded text.
	cm := p.rules.Prepare(m)
	switch reason, rule := cm.Noise(); {
	case reason != "":
		pr.rec.Noise, pr.rec.NoiseRule = reason, rule
	case res.InternalOnly:
		pr.rec.Noise = "internal"
	case res.Supplier:
		pr.rec.Noise = "supplier"
	default:
		pr.buyers = p.allowed(res.Buyers())
		if len(pr.buyers) == 0 {
			pr.rec.Noise = unmatchedReason(res)
			break
		}
		pr.verdict = cm.Kind(dir, res.FromForward)
		pr.rec.Quote = quoteDetails(m, pr.verdict.Kind)
	}
	// The documents' files were for the quote details: a prepared message
	// waits for its batch's commit, and its raw bytes are enough to hold.
	pr.rec.Attachments = make([]message.Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		pr.rec.Attachments[i] = a.WithoutContent()
	}
	return pr
}

// allowed drops new buyers that the auto-creation policy keeps out.
func (p *Pipeline) allowed(buyers []matcher.Party) []matcher.Party {
	out := buyers[:0:0]
	for _, b := range buyers {
		switch {
		case b.Resolution.Class == matcher.ClassNewEmail && p.cfg.Matching.AutoCreate != "all":
		case b.Resolution.Class == matcher.ClassNewDomain && p.cfg.Matching.AutoCreate == "off":
		default:
			out = append(out, b)
		}
	}
	return out
}

func unmatchedReason(res matcher.Result) string {
	for _, p := range res.Parties {
		if p.Resolution.Class == matcher.ClassSuspicious {
			return "suspicious"
		}
	}
	for _, p := range res.Parties {
		if p.Resolution.Class == matcher.ClassRobot {
			return "bulk"
		}
	}
	return "unmatched"
}

// attribute picks the rep an event belongs to: the rep who sent it, else
// the first rep it was addressed to, else the mailbox it was found in.
func (p *Pipeline) attribute(m *message.Message, res matcher.Result, mailbox string) string {
	lists := [][]message.Address{m.To, m.Cc, m.Bcc}
	if res.Direction == matcher.Out {
		lists = [][]message.Address{m.From}
	}
	for _, l := range lists {
		for _, a := range l {
			if n, ok := matcher.Normalize(a.Email); ok {
				if r, ok := p.repOf[n]; ok {
					return r
				}
			}
		}
	}
	return strings.ToLower(mailbox)
}

// Save stores a prepared message with its events, creating the customers
// that new buyers need, inside tx. With matching.require_reply, mail from a
// new buyer no rep has written to yet gets no event: it is stored as
// pending_reply (when it has no other customer) and waits in
// pending_replies until a rep writes to that buyer.
// The links of inquiries are noted in b, for the caller to flush.
func (p *Pipeline) Save(ctx context.Context, tx timeline.BatchDB, pr *Prepared, loc *timeline.Location, b *Batch) (timeline.SaveResult, error) {
	rs, err := p.saveMany(ctx, tx, []*Prepared{pr}, []*timeline.Location{loc}, b)
	if err != nil {
		return timeline.SaveResult{}, err
	}
	return rs[0], nil
}

// saveMany saves prs in order (timeline.SaveMany). A message waiting for a
// rep's reply is saved, and its wait recorded, before the next one is
// resolved: that one may be the reply, whose new customer releases it.
func (p *Pipeline) saveMany(ctx context.Context, tx timeline.BatchDB, prs []*Prepared, locs []*timeline.Location, b *Batch) ([]timeline.SaveResult, error) {
	rs := make([]timeline.SaveResult, 0, len(prs))
	var recs []*timeline.Captured
	from := 0
	for i, pr := range prs {
		rec := pr.rec
		events, pending, err := p.events(ctx, tx, pr, b)
		if err != nil {
			return rs, err
		}
		rec.Events = events
		if len(events) == 0 && len(pending) > 0 && rec.Noise == "" {
			rec.Noise = NoisePendingReply
		}
		recs = append(recs, &rec)
		if len(pending) == 0 && i < len(prs)-1 {
			continue
		}
		saved, err := timeline.SaveMany(ctx, tx, recs, locs[from:i+1], &b.Links, b.Raw)
		rs = append(rs, saved...)
		if err != nil {
			return rs, err
		}
		for _, k := range pending {
			if err := timeline.AddPending(ctx, tx, saved[len(saved)-1].MessageID, k); err != nil {
				return rs, err
			}
		}
		recs, from = nil, i+1
	}
	return rs, nil
}

// NoisePendingReply is the noise of mail from a new buyer that waits for a
// rep's reply (matching.require_reply).
const NoisePendingReply = "pending_reply"

// events resolves a prepared message's buyers to customers: the events to
// record, and the new-buyer keys that wait for a reply.
func (p *Pipeline) events(ctx context.Context, tx timeline.DB, pr *Prepared, bt *Batch) (events []timeline.NewEvent, pending []string, err error) {
	at := pr.rec.SentAt
	if at.IsZero() {
		at = time.Now().UTC()
	}
	for _, b := range pr.buyers {
		id, ok, err := p.customerFor(ctx, tx, b, pr, bt)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			pending = append(pending, autoKey(b.Resolution))
			continue
		}
		if r := b.Resolution.Class; r == matcher.ClassNewDomain || r == matcher.ClassNewEmail || p.matcher.Load().AutoCreated(id) {
			bt.autoSeen(id)
		}
		events = append(events, timeline.NewEvent{
			CustomerID: id, Kind: pr.verdict.Kind, Direction: pr.rec.Direction, Rep: pr.rep,
			OccurredAt: at, Rule: pr.verdict.Rule, Confidence: pr.verdict.Confidence,
		})
	}
	return events, pending, nil
}

// autoKey is the key of the customer created for a new buyer.
func autoKey(r matcher.Resolution) string {
	if r.Class == matcher.ClassNewEmail {
		return "email:" + r.NewKey
	}
	return "domain:" + r.NewKey
}

// customerFor returns the customer of a buyer party; ok is false when the
// buyer is new, matching.require_reply holds, the mail came from them, and
// no rep has written to them yet.
func (p *Pipeline) customerFor(ctx context.Context, tx timeline.DB, b matcher.Party, pr *Prepared, bt *Batch) (id int64, ok bool, err error) {
	r := b.Resolution
	switch r.Class {
	case matcher.ClassCustomer:
		if r.Via == matcher.ViaEmail && b.Addr.Name != "" && p.matcher.Load().CustomerName(r.CustomerID) == r.Email {
			// A free-mail buyer first met without a display name (our reply
			// to them) is named once their name shows up.
			if name := matcher.NewBuyerName(matcher.Resolution{Class: matcher.ClassNewEmail, NewKey: r.Email}, b.Addr.Name); name != r.Email {
				if err := timeline.NameAutoCustomer(ctx, tx, r.CustomerID, r.Email, name); err != nil {
					return 0, false, err
				}
			}
		}
		if r.Via == matcher.ViaDomain {
			// A new address at a known customer's domain becomes its contact.
			if _, err := timeline.LearnContact(ctx, tx, r.CustomerID, timeline.Contact{Email: r.Email, Name: b.Addr.Name}); err != nil {
				return 0, false, err
			}
		}
		return r.CustomerID, true, nil
	case matcher.ClassNewDomain, matcher.ClassNewEmail:
		key := autoKey(r)
		if id, ok := bt.autos[key]; ok {
			return id, true, nil
		}
		if p.cfg.Matching.RequireReply && pr.rec.Direction != string(matcher.Out) {
			// A rep has written to this buyer exactly when their customer
			// exists: an outbound message creates it.
			id, ok, err := timeline.AutoCustomer(ctx, tx, key)
			if ok {
				bt.auto(key, id)
			}
			return id, ok, err
		}
		id, created, err := timeline.EnsureAuto(ctx, tx, key, matcher.NewBuyerName(r, b.Addr.Name), pr.rep)
		if err != nil {
			return 0, false, err
		}
		bt.auto(key, id)
		if created {
			p.created.Store(true)
			p.scanDue.Store(true)
			if _, err := timeline.ReleasePending(ctx, tx, key); err != nil {
				return 0, false, err
			}
		}
		return id, true, nil
	}
	return 0, false, fmt.Errorf("party %s is not a buyer", r.Email)
}

func envelope(m *message.Message) matcher.Envelope {
	conv := func(as []message.Address) []matcher.Addr {
		out := make([]matcher.Addr, len(as))
		for i, a := range as {
			out[i] = matcher.Addr{Name: a.Name, Email: a.Email}
		}
		return out
	}
	e := matcher.Envelope{From: conv(m.From), To: conv(m.To), Cc: conv(m.Cc), Bcc: conv(m.Bcc)}
	for _, f := range m.Forwarded {
		e.Forwarded = append(e.Forwarded, conv(f.From))
	}
	return e
}

// dedupKey identifies a message across folders and mailboxes: its
// Message-ID, else a hash of what copies share (trace headers differ).
func dedupKey(m *message.Message) string {
	if m.MessageID != "" {
		return "mid:" + m.MessageID
	}
	return "sha256:" + contentHash(m)
}

// contentHash covers what every copy of one message has in common: date,
// sender, subject and text; not trace headers, nor a Sent copy's Bcc line.
func contentHash(m *message.Message) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00", m.Date.Unix(), m.Subject)
	for _, a := range m.From {
		fmt.Fprintf(h, "%s\x00", strings.ToLower(a.Email))
	}
	h.Write([]byte(m.Text))
	return hex.EncodeToString(h.Sum(nil))
}
