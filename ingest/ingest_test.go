package ingest_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/timeline"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// rig is one test's world: a fresh database, two reps with Dovecot
// mailboxes of their own, and a syncer over them.
type rig struct {
	t      *testing.T
	ctx    context.Context
	cfg    *config.Config
	store  *timeline.Store
	syncer *ingest.Syncer
	users  map[string]string   // rep email -> Dovecot user
	logs   *testenv.SyncBuffer // everything the syncer logged
	caFile string
}

const (
	amy   = "amy@ourco.example"
	bob   = "bob@ourco.example"
	buyer = "li.wei@acme-buyer.de"
)

func newRig(t *testing.T) *rig { return newRigWith(t, nil) }

// newRigWith is newRig with a hook to change the config before defaults
// and validation apply.
func newRigWith(t *testing.T, edit func(*config.Config)) *rig {
	t.Helper()
	ctx := context.Background()
	dbURL := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	dc := testenv.Dovecot(t)
	caFile := dc.CertFile
	host, port := splitHostPort(t, dc.TLSAddr)
	r := &rig{t: t, ctx: ctx, store: store, users: map[string]string{}, logs: &testenv.SyncBuffer{}, caFile: caFile}
	r.cfg = &config.Config{
		Database:    config.Database{URL: dbURL},
		Meilisearch: config.Meilisearch{URL: "http://127.0.0.1:1"},
		Company:     config.Company{Name: "Our Co", Domains: []string{"ourco.example"}},
		Suppliers:   []config.Supplier{{Name: "Factory", Domains: []string{"factory.example"}}},
	}
	for _, rep := range []string{amy, bob} {
		u := testenv.User(t) + "-" + strings.Split(rep, "@")[0]
		r.users[rep] = u
		r.cfg.Reps = append(r.cfg.Reps, config.Rep{Email: rep, IMAP: config.IMAP{
			Host: host, Port: port, TLS: "implicit", Username: u, Password: dc.Password, CAFile: caFile,
		}})
	}
	if edit != nil {
		edit(r.cfg)
	}
	if err := r.cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = timeline.UpsertCustomer(ctx, store.Pool, timeline.CustomerInput{Name: "Acme Buyer GmbH", Domains: []string{"acme-buyer.de"}, Grade: "A", Owner: amy})
	if err != nil {
		t.Fatal(err)
	}
	r.syncer = r.newSyncer()
	return r
}

// newSyncer makes a syncer over the rig's config (after a change to it),
// logging into r.logs at debug level.
func (r *rig) newSyncer() *ingest.Syncer {
	var w io.Writer = r.logs
	if testing.Verbose() {
		w = io.MultiWriter(r.logs, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pipe := ingest.NewPipeline(r.cfg, r.store, classify.Default(), log)
	s := ingest.NewSyncer(r.cfg, r.store, pipe, log)
	s.RetryPoll = 50 * time.Millisecond
	return s
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	var p int
	fmt.Sscan(addr[i+1:], &p)
	return addr[:i], p
}

// appendMail puts a raw message into a rep's folder over IMAP.
func (r *rig) appendMail(rep, folder, raw string) {
	r.t.Helper()
	dc := testenv.Dovecot(r.t)
	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(r.users[rep], dc.Password).Wait(); err != nil {
		r.t.Fatal(err)
	}
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	cmd := c.Append(folder, int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		r.t.Fatalf("append to %s/%s: %v", rep, folder, err)
	}
}

func (r *rig) syncOnce() {
	r.t.Helper()
	if err := r.syncer.SyncOnce(r.ctx); err != nil {
		r.t.Fatalf("sync: %v", err)
	}
}

func (r *rig) count(sql string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.store.Pool.QueryRow(r.ctx, sql, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func mail(from, to, subject, msgID, body string, extra ...string) string {
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: Mon, 2 Mar 2026 10:00:00 +0800\nMessage-ID: <%s>\nMIME-Version: 1.0\n", from, to, subject, msgID)
	for _, e := range extra {
		h += e + "\n"
	}
	if !strings.Contains(h, "Content-Type") {
		h += "Content-Type: text/plain; charset=utf-8\n"
	}
	return h + "\n" + body + "\n"
}

func gbkMail(from, to, msgID, text string) string {
	enc, _ := simplifiedchinese.GBK.NewEncoder().String(text)
	subj, _ := simplifiedchinese.GBK.NewEncoder().String("询价：LED面板灯")
	return fmt.Sprintf("From: %s\nTo: %s\nSubject: =?GBK?B?%s?=\nDate: Tue, 3 Mar 2026 09:00:00 +0800\nMessage-ID: <%s>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: base64\n\n%s\n",
		from, to, base64.StdEncoding.EncodeToString([]byte(subj)), msgID, base64.StdEncoding.EncodeToString([]byte(enc)))
}

func TestSyncFromDovecot(t *testing.T) {
	r := newRig(t)
	inquiry := mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel 600x600", "rfq-1@acme-buyer.de",
		"Dear Amy,\nPlease send us your best price for 2,000 pcs LED panel 600x600 40W, FOB Ningbo.\nRegards, Li Wei")
	quote := mail("Amy <"+amy+">", buyer, "Re: RFQ: LED panel 600x600", "quote-1@ourco.example",
		"Dear Li Wei,\nPlease find our quotation below:\nLED panel 600x600 40W: USD 9.17/pc FOB Ningbo, 2,000 pcs = USD 18,340.00\nBest regards, Amy", "In-Reply-To: <rfq-1@acme-buyer.de>")
	// Cc'd to Bob as well: one message, found in two mailboxes.
	shipping := mail("Li Wei <"+buyer+">", amy, "Shipping marks", "ship-1@acme-buyer.de",
		"Hi Amy, please use our shipping marks for the next order.", "Cc: "+bob)
	autoReply := mail(buyer, amy, "Automatic reply: Shipping marks", "auto-1@acme-buyer.de",
		"I am out of the office until Monday.", "Auto-Submitted: auto-replied")
	bounce := "From: MAILER-DAEMON@mx.ourco.example\nTo: " + amy + "\nSubject: Undelivered Mail Returned to Sender\nDate: Mon, 2 Mar 2026 11:00:00 +0800\nMessage-ID: <bounce-1@mx.ourco.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nThis is the mail system. Your message could not be delivered to nobody@acme-buyer.de.\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.ourco.example\n\nFinal-Recipient: rfc822; nobody@acme-buyer.de\nAction: failed\nStatus: 5.1.1\n--b1--\n"
	internal := mail(bob, amy, "Lunch?", "lunch-1@ourco.example", "Noodles at 12?")
	supplier := mail("sales@factory.example", amy, "Quotation for LED drivers", "sup-1@factory.example", "Our quotation: USD 1.20/pc")

	r.appendMail(amy, "INBOX", inquiry)
	r.appendMail(amy, "Sent", quote)
	r.appendMail(amy, "INBOX", shipping)
	r.appendMail(bob, "INBOX", shipping)
	r.appendMail(amy, "INBOX", autoReply)
	r.appendMail(amy, "INBOX", bounce)
	r.appendMail(amy, "INBOX", internal)
	r.appendMail(amy, "INBOX", supplier)
	r.appendMail(bob, "INBOX", gbkMail("Li Wei <"+buyer+">", bob, "gbk-1@acme-buyer.de", "您好，请报价LED面板灯两千件，谢谢。"))
	folders := [][2]string{{amy, "INBOX"}, {amy, "Sent"}, {bob, "INBOX"}}
	// A flag the rep set, which must stay as it is.
	if out, err := testenv.Dovecot(t).Doveadm("flags", "add", "-u", r.users[amy], `\Answered $Forwarded`, "mailbox", "INBOX", "uid", "1"); err != nil {
		t.Fatalf("doveadm: %v: %s", err, out)
	}
	flagsBefore := r.flags(folders)
	if len(flagsBefore) != 9 || flagsBefore[amy+" INBOX 1"] == "" {
		t.Fatalf("flags of %d messages before the sync, want 9: %v", len(flagsBefore), flagsBefore)
	}
	r.syncOnce()

	// Read-only (EXAMINE, BODY.PEEK): the sync changed no flag, \Seen or
	// any other, in any folder it read.
	if got := r.flags(folders); fmt.Sprint(got) != fmt.Sprint(flagsBefore) {
		t.Errorf("flags changed by the sync:\nbefore %v\nafter  %v", flagsBefore, got)
	}
	// The ID command (RFC 2971) went to the server after login: Dovecot
	// logs it under the user's name (imap_id_log; on 2.4 the imap_id_received
	// event), not under imap-login.
	for _, rep := range []string{amy, bob} {
		if !r.sentID(rep) {
			t.Errorf("no ID command from mailtrail in %s's logged-in session; Dovecot logged these IDs:\n%s",
				rep, strings.Join(regexp.MustCompile(`.*ID sent.*`).FindAllString(r.dovecotLog(), -1), "\n"))
		}
	}

	if got := r.count(`SELECT count(*) FROM messages`); got != 8 {
		t.Errorf("messages stored = %d, want 8 (9 copies, one in two mailboxes)", got)
	}
	if got := r.count(`SELECT count(*) FROM message_locations`); got != 9 {
		t.Errorf("locations = %d, want 9", got)
	}
	var acme int64
	r.store.Pool.QueryRow(r.ctx, `SELECT id FROM customers WHERE name = 'Acme Buyer GmbH'`).Scan(&acme)
	events, err := timeline.Timeline(r.ctx, r.store.Pool, acme, timeline.TimelineCursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, e := range events {
		kinds[deref(e.MessageID)] = e.Kind + "/" + e.Direction
	}
	want := map[string]string{
		"rfq-1@acme-buyer.de":   "inquiry/in",
		"quote-1@ourco.example": "quote/out",
		"ship-1@acme-buyer.de":  "email/in",
		"gbk-1@acme-buyer.de":   "inquiry/in",
	}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("timeline = %v\nwant       %v", kinds, want)
	}
	for id, noise := range map[string]string{
		"auto-1@acme-buyer.de": "auto_reply", "bounce-1@mx.ourco.example": "bounce",
		"lunch-1@ourco.example": "internal", "sup-1@factory.example": "supplier",
	} {
		var got string
		r.store.Pool.QueryRow(r.ctx, `SELECT coalesce(noise, '') FROM messages WHERE message_id = $1`, id).Scan(&got)
		if got != noise {
			t.Errorf("message %s: noise = %q, want %q", id, got, noise)
		}
	}
	var subject, body string
	r.store.Pool.QueryRow(r.ctx, `SELECT subject, body FROM messages WHERE message_id = 'gbk-1@acme-buyer.de'`).Scan(&subject, &body)
	if subject != "询价：LED面板灯" || !strings.Contains(body, "请报价LED面板灯") {
		t.Errorf("GBK message decoded as subject %q body %q", subject, body)
	}
	if got := r.count(`SELECT count(*) FROM message_raw`); got != 8 {
		t.Errorf("raw messages = %d, want 8", got)
	}

	// A second pass adds nothing.
	before := r.count(`SELECT count(*) FROM events`)
	outbox := r.count(`SELECT count(*) FROM search_outbox`)
	r.syncOnce()
	if got := r.count(`SELECT count(*) FROM events`); got != before {
		t.Errorf("second sync: events %d -> %d", before, got)
	}
	if got := r.count(`SELECT count(*) FROM search_outbox`); got != outbox {
		t.Errorf("second sync: outbox %d -> %d", outbox, got)
	}

	// Mail appended later is picked up alone.
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Payment slip", "pay-1@acme-buyer.de", "Hi Amy, attached is our payment slip for the deposit."))
	r.syncOnce()
	if got := r.count(`SELECT count(*) FROM events`); got != before+1 {
		t.Errorf("after new mail: events = %d, want %d", got, before+1)
	}
	if got := r.count(`SELECT count(*) FROM message_locations`); got != 10 {
		t.Errorf("after new mail: locations = %d, want 10", got)
	}

	// A forced UIDVALIDITY change re-reads INBOX and duplicates nothing.
	// The lunch message (UID 5) leaves the folder first: it will not be
	// found again.
	inbox := `SELECT message_id FROM message_locations WHERE rep = $1 AND folder = 'INBOX' AND uidvalidity %s $2 ORDER BY 1`
	oldValidity := r.count(`SELECT uidvalidity FROM folders WHERE rep = $1 AND folder = 'INBOX'`, amy)
	lunch := int64(r.count(`SELECT id FROM messages WHERE message_id = 'lunch-1@ourco.example'`))
	var stillThere []int64
	for _, id := range r.ids(fmt.Sprintf(inbox, "="), amy, oldValidity) {
		if id != lunch {
			stillThere = append(stillThere, id)
		}
	}
	if len(stillThere) != 6 {
		t.Fatalf("INBOX located %d messages besides the lunch one, want 6", len(stillThere))
	}
	if out, err := testenv.Dovecot(t).Doveadm("expunge", "-u", r.users[amy], "mailbox", "INBOX", "uid", "5"); err != nil {
		t.Fatalf("doveadm: %v: %s", err, out)
	}
	if out, err := testenv.Dovecot(t).Doveadm("mailbox", "update", "--uid-validity", "12345", "-u", r.users[amy], "INBOX"); err != nil {
		t.Fatalf("doveadm: %v: %s", err, out)
	}
	r.syncOnce()
	// The folder was read again: every message in it is located under the
	// new UIDVALIDITY, and its stale location is gone. The lunch message,
	// not found again, keeps its stale location, its only one: it stays
	// stored, as every message does.
	if got := r.ids(fmt.Sprintf(inbox, "="), amy, 12345); fmt.Sprint(got) != fmt.Sprint(stillThere) {
		t.Errorf("INBOX located under the new UIDVALIDITY: %v, want %v", got, stillThere)
	}
	if got := r.ids(fmt.Sprintf(inbox, "<>"), amy, 12345); fmt.Sprint(got) != fmt.Sprint([]int64{lunch}) {
		t.Errorf("INBOX located under an older UIDVALIDITY: %v, want only the lunch message %d", got, lunch)
	}
	if got := r.count(`SELECT count(*) FROM message_locations`); got != 10 {
		t.Errorf("after UIDVALIDITY change: locations = %d, want 10 (6 + 1 stale in INBOX, 1 in Sent, 2 in Bob's INBOX)", got)
	}
	if got := r.count(`SELECT count(*) FROM messages`); got != 9 {
		t.Errorf("after UIDVALIDITY change: messages = %d, want 9", got)
	}
	if got := r.count(`SELECT count(*) FROM events`); got != before+1 {
		t.Errorf("after UIDVALIDITY change: events = %d, want %d", got, before+1)
	}
	if got := r.count(`SELECT uidvalidity FROM folders WHERE rep = $1 AND folder = 'INBOX'`, amy); got != 12345 {
		t.Errorf("stored uidvalidity = %d, want 12345", got)
	}
	// Nor did the later syncs, the re-read included, change a flag.
	flagsBefore[amy+" INBOX 7"] = ""    // the payment slip, appended later
	delete(flagsBefore, amy+" INBOX 5") // expunged
	if got := r.flags(folders); fmt.Sprint(got) != fmt.Sprint(flagsBefore) {
		t.Errorf("flags changed by the later syncs:\nbefore %v\nafter  %v", flagsBefore, got)
	}
}

func (r *rig) ids(sql string, args ...any) []int64 {
	r.t.Helper()
	rows, err := r.store.Pool.Query(r.ctx, sql, args...)
	if err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
	return ids
}

// flags returns the flags of every message in the given (rep, folder)
// pairs, keyed "rep folder uid", as doveadm reads them from the mailbox
// (no IMAP session of its own that could change them). \Recent, which is
// per session, is left out.
func (r *rig) flags(folders [][2]string) map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, f := range folders {
		b, err := testenv.Dovecot(r.t).Doveadm("fetch", "-u", r.users[f[0]], "uid flags", "mailbox", f[1], "all")
		if err != nil {
			r.t.Fatal(err)
		}
		uid := ""
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "uid: "); ok {
				uid = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "flags:"); ok {
				var kept []string
				for _, fl := range strings.Fields(v) {
					if fl != `\Recent` {
						kept = append(kept, fl)
					}
				}
				out[f[0]+" "+f[1]+" "+uid] = strings.Join(kept, " ")
			}
		}
	}
	return out
}

// sentID reports whether Dovecot logged an ID command from mailtrail in a
// session logged in as rep's user.
func (r *rig) sentID(rep string) bool {
	re := regexp.MustCompile(`imap\(` + regexp.QuoteMeta(r.users[rep]) + `\)[^\n]*ID sent: name=mailtrail`)
	return re.MatchString(r.dovecotLog())
}

func (r *rig) dovecotLog() string {
	b, err := os.ReadFile(filepath.Join(testenv.Dovecot(r.t).Dir, "dovecot.log"))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// A mailbox with a wrong password fails alone: the other is still synced,
// and the error names the failed mailbox and why.
func TestSyncOneMailboxFails(t *testing.T) {
	r := newRig(t)
	r.cfg.Reps[1].IMAP.Password = "wrong"
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Hello", "hello-1@acme-buyer.de", "Hello Amy"))
	err := r.syncer.SyncOnce(r.ctx)
	if err == nil || !strings.Contains(err.Error(), bob) || !strings.Contains(err.Error(), "login refused") {
		t.Fatalf("error = %v, want one naming %s and the refused login", err, bob)
	}
	if strings.Contains(err.Error(), amy) {
		t.Errorf("error names %s, which synced fine: %v", amy, err)
	}
	if !ingest.IsPermanent(err) {
		t.Errorf("a refused login should be permanent: %v", err)
	}
	if got := r.count(`SELECT count(*) FROM events`); got != 1 {
		t.Errorf("events = %d, want 1 from the working mailbox", got)
	}
	var lastErr string
	r.store.Pool.QueryRow(r.ctx, `SELECT coalesce(last_error, '') FROM mailboxes WHERE rep = $1`, bob).Scan(&lastErr)
	if !strings.Contains(lastErr, "login refused") || strings.Contains(lastErr, "wrong") {
		t.Errorf("recorded error %q: want the reason, never the password", lastErr)
	}
}

// An unreachable server is a temporary failure named by mailbox.
func TestSyncUnreachable(t *testing.T) {
	r := newRig(t)
	r.cfg.Reps[0].IMAP.Port = 1
	r.cfg.Sync.Timeout = 5 * time.Second
	err := r.syncer.SyncOnce(r.ctx)
	if err == nil || !strings.Contains(err.Error(), amy) || ingest.IsPermanent(err) && !strings.Contains(err.Error(), bob) {
		t.Fatalf("error = %v", err)
	}
	if !strings.Contains(err.Error(), "connect") {
		t.Errorf("error does not say it could not connect: %v", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
