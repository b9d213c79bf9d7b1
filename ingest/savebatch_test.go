package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/timeline"
)

// SaveBatch must leave the store exactly as saving the same messages one
// by one with Save does, on the cases where order matters: a second copy
// in the same batch, a Sent copy that adds the Bcc line, a message that
// reuses another's Message-ID, noise that a later copy turns into an
// event, new customers met several times, a new contact at a known domain.
func TestSaveBatchEqualsSave(t *testing.T) {
	rfq := mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel", "sb-rfq@acme-buyer.de", "Dear Amy, please quote 500 pcs.")
	sentNoBcc := mail(amy, "Max <max@newco-one.example>", "Quotation", "sb-q@ourco.example", "Dear Max, our price is USD 3/pc.")
	sentBcc := strings.Replace(sentNoBcc, "MIME-Version", "Bcc: boss@newco-two.example\nMIME-Version", 1)
	reuse := mail("Li Wei <"+buyer+">", amy, "Another subject", "sb-rfq@acme-buyer.de", "A different message, same Message-ID.")
	contact := mail("Hans <hans@acme-buyer.de>", amy, "Hello", "sb-hans@acme-buyer.de", "Hello Amy, I am the new buyer.")
	newco := mail("Max <max@newco-one.example>", amy, "RFQ", "sb-newco@newco-one.example", "Please quote 100 pcs downlights.")
	gmail := mail("Ana <ana.compras@gmail.com>", amy, "Compra", "sb-gmail@mail.gmail.com", "Hola Amy, necesito precio de 200 paneles.")
	raws := []struct{ raw, role string }{
		{rfq, "inbox"}, {rfq, "inbox"}, {sentNoBcc, "sent"}, {newco, "inbox"}, {sentBcc, "sent"},
		{reuse, "inbox"}, {contact, "inbox"}, {gmail, "inbox"}, {newco, "inbox"}, {reuse, "inbox"},
	}
	dump := func(sequential bool) []string {
		r := newRig(t)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := ingest.NewPipeline(r.cfg, r.store, classify.Default(), log)
		if err := p.Reload(r.ctx); err != nil {
			t.Fatal(err)
		}
		var prs []*ingest.Prepared
		var locs []*timeline.Location
		for i, m := range raws {
			prs = append(prs, p.Prepare([]byte(strings.ReplaceAll(m.raw, "\n", "\r\n")), amy, m.role))
			locs = append(locs, &timeline.Location{Rep: amy, Folder: m.role, UIDValidity: 1, UID: uint32(i + 1)})
		}
		var results []timeline.SaveResult
		err := r.store.InTx(r.ctx, func(tx pgx.Tx) error {
			if !sequential {
				var err error
				results, err = p.SaveBatch(r.ctx, tx, prs, locs, nil)
				return err
			}
			for i := range prs {
				var b ingest.Batch
				res, err := p.Save(r.ctx, tx, prs[i], locs[i], &b)
				if err != nil {
					return err
				}
				if err := b.Links.Flush(r.ctx, tx); err != nil {
					return err
				}
				results = append(results, res)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Serial ids differ with the order of attempts; compare by keys.
		var out []string
		for i, res := range results {
			var key string
			r.store.Pool.QueryRow(r.ctx, `SELECT dedup_key FROM messages WHERE id = $1`, res.MessageID).Scan(&key)
			out = append(out, fmt.Sprint("result ", i, " ", key, " ", res.Inserted, " ", res.NewEvents))
		}
		for _, q := range []string{
			`SELECT dedup_key || ' ' || bcc_addrs::text || ' ' || coalesce(noise, '-') FROM messages`,
			`SELECT m.dedup_key || ' ' || length(x.raw) FROM message_raw x JOIN messages m ON m.id = x.message_id`,
			`SELECT l.folder || ' ' || l.uid || ' ' || m.dedup_key FROM message_locations l JOIN messages m ON m.id = l.message_id`,
			`SELECT m.dedup_key || ' ' || coalesce(c.auto_key, c.name) || ' ' || e.kind || ' ' || e.direction || ' ' || e.rep
				FROM events e JOIN messages m ON m.id = e.message_id JOIN customers c ON c.id = e.customer_id`,
			`SELECT count(*)::text FROM search_outbox`,
			`SELECT m.dedup_key || ' quoted by ' || coalesce(qm.dedup_key, '-') || ' replied by ' || coalesce(rm.dedup_key, '-')
				FROM events e JOIN messages m ON m.id = e.message_id
				LEFT JOIN events q ON q.id = e.quote_event_id LEFT JOIN messages qm ON qm.id = q.message_id
				LEFT JOIN events r ON r.id = e.reply_event_id LEFT JOIN messages rm ON rm.id = r.message_id
				WHERE e.kind = 'inquiry'`,
			`SELECT name || ' ' || coalesce(owner, '') || ' ' || coalesce(auto_key, '') FROM customers`,
			`SELECT coalesce(c.auto_key, c.name) || ' ' || d.domain FROM customer_domains d JOIN customers c ON c.id = d.customer_id`,
			`SELECT coalesce(c.auto_key, c.name) || ' ' || k.email || ' ' || k.name FROM contacts k JOIN customers c ON c.id = k.customer_id`,
		} {
			rows, err := r.store.Pool.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			out = append(out, got...)
		}
		return out
	}
	seq, batch := dump(true), dump(false)
	if !slices.Equal(seq, batch) {
		t.Errorf("SaveBatch differs from Save one by one:\nSave:\n  %s\nSaveBatch:\n  %s", strings.Join(seq, "\n  "), strings.Join(batch, "\n  "))
	}
	for _, want := range []string{"mid:sb-rfq@acme-buyer.de#", "boss@newco-two.example", "domain:newco-one.example", "email:ana.compras@gmail.com", "hans@acme-buyer.de"} {
		if !slices.ContainsFunc(seq, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("the case %q did not happen: the test lost its point\n%s", want, strings.Join(seq, "\n"))
		}
	}
}

// A NUL that an encoded-word decodes to (in a display name, the subject,
// a file name) cannot go into PostgreSQL's text: such a message once made
// its whole batch fail, at every try of the sync. It is saved, with the
// NUL dropped, its sender a contact of the buyer.
func TestSaveNULInHeaders(t *testing.T) {
	m := mail("=?utf-8?Q?Li=00_Wei?= <"+buyer+">", amy, "=?utf-8?Q?RFQ=00_LED?=", "nul@acme-buyer.de", "",
		"Content-Type: multipart/mixed; boundary=zz")
	m += "--zz\nContent-Type: text/plain\n\nDear Amy, please quote 500 pcs.\n" +
		"--zz\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"=?utf-8?Q?spec=00.pdf?=\"\n\nxx\n--zz--\n"
	p := newAcmePipe(t)
	p.save(amy, "inbox", m)
	var subject, attachments, contact string
	var events int
	err := p.store.Pool.QueryRow(p.ctx, `SELECT subject, attachments::text, (SELECT count(*) FROM events),
		(SELECT coalesce(string_agg(name, ','), '') FROM contacts WHERE email = $1) FROM messages`, buyer).Scan(&subject, &attachments, &events, &contact)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "RFQ LED" || !strings.Contains(attachments, `"spec.pdf"`) || events != 1 || contact != "Li Wei" {
		t.Errorf("stored subject %q, attachments %s, %d events, contact %q; want \"RFQ LED\", spec.pdf, 1, \"Li Wei\"", subject, attachments, events, contact)
	}
}

// Values too long for PostgreSQL's indexes (a Message-ID, a subject, a
// display name, an address, each of thousands of characters that do not
// compress) once failed the save of their batch at every try. The message
// is saved, and a reply that names the long id joins its thread.
func TestSaveOverlongHeaders(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := func(n int, alphabet string) string { // random: PostgreSQL cannot compress it
		rs := []rune(alphabet)
		var b strings.Builder
		for range n {
			b.WriteRune(rs[rnd.IntN(len(rs))])
		}
		return b.String()
	}
	longID := noise(12000, "abcdefghijklmnopqrstuvwxyz0123456789") + "@acme-buyer.de"
	subject := "RFQ " + noise(3000, "灯板价格询问报表面板规格数量交期样品颜色尺寸")
	name := noise(3000, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	longAddr := noise(3000, "abcdefghijklmnopqrstuvwxyz") + "@acme-buyer.de"
	first := mail(name+" <"+buyer+">", amy, subject, longID, "Dear Amy, please quote 500 pcs.", "Cc: <"+longAddr+">")
	reply := mail(amy, buyer, "Re: "+subject, "reply-long@ourco.example", "Dear Li, our price is USD 3/pc.",
		"In-Reply-To: <"+longID+">", "References: <"+longID+">")
	p := newAcmePipe(t)
	p.save(amy, "inbox", first)
	p.save(amy, "sent", reply)
	var messages, threads, longest int
	var stored string
	var malformed bool
	err := p.store.Pool.QueryRow(p.ctx, `SELECT count(*), count(DISTINCT thread_id), max(subject) FILTER (WHERE direction = 'in'),
		bool_or(malformed), (SELECT max(length(email)) FROM contacts) FROM messages`).Scan(&messages, &threads, &stored, &malformed, &longest)
	if err != nil {
		t.Fatal(err)
	}
	if messages != 2 || threads != 1 || stored != subject {
		t.Errorf("%d messages in %d threads, subject kept whole: %v; want 2 in 1, true", messages, threads, stored == subject)
	}
	if !malformed || longest > 254 {
		t.Errorf("malformed %v, longest contact address %d bytes: the 3,000-byte Cc should be dropped, and noted", malformed, longest)
	}
}

// newAcmePipe is newPipe with the buyer's company, Acme Buyer GmbH at
// acme-buyer.de, as a listed customer.
func newAcmePipe(t *testing.T) *pipe {
	p := newPipe(t, nil)
	if _, _, _, err := timeline.UpsertCustomer(p.ctx, p.store.Pool, timeline.CustomerInput{Name: "Acme Buyer GmbH", Domains: []string{"acme-buyer.de"}, Grade: "A", Owner: amy}); err != nil {
		t.Fatal(err)
	}
	return p
}
