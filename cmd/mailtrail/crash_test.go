package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailtrail/mailtrail/internal/services"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// syncConfig writes a config for reps (email -> Dovecot user) over TLS,
// with Meilisearch unreachable (search is derived; its outbox keeps the
// events) and returns its path.
func syncConfig(t testing.TB, dbURL string, reps [][2]string, extra string) string {
	t.Helper()
	dc := testenv.Dovecot(t)
	dir := t.TempDir()
	ca := dc.CertFile
	host, port, _ := net.SplitHostPort(dc.TLSAddr)
	var b strings.Builder
	fmt.Fprintf(&b, "database: {url: %q}\nmeilisearch: {url: \"http://127.0.0.1:1\"}\ncompany: {name: Our Co, domains: [ourco.example]}\nreps:\n", dbURL)
	for _, r := range reps {
		fmt.Fprintf(&b, "  - email: %s\n    imap: {host: %s, port: %s, username: %s, password: %q, ca_file: %s}\n", r[0], host, port, r[1], dc.Password, ca)
	}
	b.WriteString(extra)
	path := filepath.Join(dir, "mailtrail.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serverTruth reads every folder of user from Dovecot: UID -> Message-ID,
// with the same parser the pipeline uses.
func serverTruth(t testing.TB, dc *services.Dovecot, user string, folders ...string) map[string]map[uint32]string {
	t.Helper()
	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, dc.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[uint32]string{}
	for _, f := range folders {
		if _, err := c.Select(f, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatal(err)
		}
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
		var all imap.UIDSet
		all.AddRange(1, 0)
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		out[f] = map[uint32]string{}
		for _, m := range msgs {
			out[f][uint32(m.UID)] = message.Parse(m.FindBodySection(section)).MessageID
		}
	}
	return out
}

// TestCrashResume kills `mailtrail sync --once` with SIGKILL at random
// points of a sync of 3,000 messages (during fetch and parse, and inside
// the batch transaction), many times, lets a last sync finish, and then
// compares every message on the server with what mailtrail holds, and
// what it holds with an uninterrupted sync of the same mail: nothing
// missing, nothing twice.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test takes about a minute")
	}
	ctx := context.Background()
	bin := buildBinary(t)
	dc := testenv.Dovecot(t)
	amyUser, bobUser := testenv.User(t)+"-amy", testenv.User(t)+"-bob"
	const amy, bob = "amy@ourco.example", "bob@ourco.example"

	// 3,000 messages: Amy's INBOX and Sent, Bob's INBOX, 200 of them Cc'd
	// to both (one message, two mailboxes).
	gen := newMailGen(6)
	var amyIn, amySent, bobIn [][]byte
	for i := range 2000 {
		att := 0
		if i%10 == 0 {
			att = 2000 + i%7*3000
		}
		m := gen.next(amy, false, att)
		amyIn = append(amyIn, m.Raw)
		if i%10 == 5 {
			bobIn = append(bobIn, m.Raw)
		}
	}
	for range 500 {
		amySent = append(amySent, gen.next(amy, true, 0).Raw)
	}
	for range 300 {
		bobIn = append(bobIn, gen.next(bob, false, 0).Raw)
	}
	loadMaildir(t, dc, amyUser, "", amyIn)
	loadMaildir(t, dc, amyUser, "Sent", amySent)
	loadMaildir(t, dc, bobUser, "", bobIn)
	truth := map[string]map[string]map[uint32]string{
		amy: serverTruth(t, dc, amyUser, "INBOX", "Sent"),
		bob: serverTruth(t, dc, bobUser, "INBOX", "Sent"),
	}
	reps := [][2]string{{amy, amyUser}, {bob, bobUser}}

	// The reference: one uninterrupted sync into its own database.
	refURL := testenv.Postgres(t)
	refCfg := syncConfig(t, refURL, reps, "")
	begin := time.Now()
	runSync(t, bin, refCfg)
	full := time.Since(begin)

	crashURL := testenv.MigratedPostgres(t)
	crashCfg := syncConfig(t, crashURL, reps, "")
	db, err := pgxpool.New(ctx, crashURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MAILTRAIL_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("uninterrupted sync took %v; seed %d (set MAILTRAIL_CRASH_SEED to repeat)", full.Round(time.Millisecond), seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	// Each run is killed after a random delay of up to a ninth of the
	// whole sync, so that it takes a couple of dozen kills to get through.
	budget := full / 9
	var kills, inTx, finished int
	deadline := time.Now().Add(60 * time.Second)
	for kills < 30 && time.Now().Before(deadline) {
		cmd := exec.Command(bin, "--config", crashCfg, "sync", "--once")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		delay := time.Duration(rnd.Int64N(int64(budget)))
		var killed bool
		if kills%2 == 0 {
			// Anywhere: connecting, fetching, parsing, committing.
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("sync failed on its own: %v", err)
				}
			case <-time.After(delay):
				killed = true
			}
		} else {
			// Inside the batch transaction: once it has written a row.
			killed = waitForWritingTx(ctx, t, db, exited, delay)
			if killed {
				inTx++
			}
		}
		if !killed {
			finished++
			break
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		kills++
		checkCursorInvariant(ctx, t, db, truth)
	}
	t.Logf("killed %d times (%d inside a writing transaction); %d run(s) finished on their own", kills, inTx, finished)
	if kills < 15 {
		t.Errorf("only %d kills before the sync finished: the test proves little", kills)
	}
	runSync(t, bin, crashCfg)

	// Every message on the server is stored, at its UID, once.
	for rep, folders := range truth {
		for folder, want := range folders {
			got := storedUIDs(ctx, t, db, rep, folder)
			if len(got) != len(want) {
				t.Errorf("%s/%s: %d UIDs stored, %d on the server", rep, folder, len(got), len(want))
			}
			for uid, mid := range want {
				if g, ok := got[uid]; !ok || g != mid {
					t.Errorf("%s/%s UID %d: stored %q (present %v), server has %q", rep, folder, uid, g, ok, mid)
				}
			}
		}
	}
	ref, err := pgxpool.New(ctx, refURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, q := range []string{
		`SELECT count(*) FROM messages`,
		// Raw rows of a batch killed between its two commits are garbage
		// (timeline.RawWriter), removed by verify: not counted.
		`SELECT count(*) FROM message_raw r JOIN messages m ON m.id = r.message_id`,
		`SELECT count(*) FROM message_locations`,
		`SELECT count(*) FROM events`,
		`SELECT count(*) FROM search_outbox`,
		`SELECT count(*) FROM customers`,
		// Not contacts: an address at a domain whose customer was created
		// from mail becomes a contact only once the matcher reloads, which
		// every restart does; an uninterrupted pass adds none.
		`SELECT count(*) FROM (SELECT email FROM contacts GROUP BY customer_id, email HAVING count(*) > 1) d`,
		`SELECT count(*) FROM messages WHERE dedup_key LIKE '%#%'`,
		`SELECT count(*) FROM (SELECT message_id FROM messages WHERE message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`,
		`SELECT count(*) FROM (SELECT event_id FROM search_outbox GROUP BY 1 HAVING count(*) > 1) d`,
		`SELECT count(*) FROM (SELECT coalesce(auto_key, name) FROM customers GROUP BY 1 HAVING count(*) > 1) d`,
		`SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM message_locations l WHERE l.message_id = m.id)`,
	} {
		a, b := count(ctx, t, db, q), count(ctx, t, ref, q)
		if a != b {
			t.Errorf("%s: %d after the kills, %d in an uninterrupted sync", q, a, b)
		}
	}
	const eventsQ = `SELECT m.dedup_key || ' ' || coalesce(c.auto_key, c.name) || ' ' || e.kind || ' ' || e.direction || ' ' || e.rep
		FROM events e JOIN messages m ON m.id = e.message_id JOIN customers c ON c.id = e.customer_id ORDER BY 1`
	if a, b := strings1(ctx, t, db, eventsQ), strings1(ctx, t, ref, eventsQ); !slices.Equal(a, b) {
		t.Errorf("events differ from an uninterrupted sync: %d vs %d", len(a), len(b))
	}
	if n := count(ctx, t, db, `SELECT count(*) FROM messages`); n != 2800 {
		t.Errorf("messages = %d, want 2,800 (3,000 copies, 200 in two mailboxes)", n)
	}
	if out, err := exec.Command(bin, "--config", crashCfg, "verify").CombinedOutput(); err != nil {
		t.Errorf("verify after the kills: %v\n%s", err, out)
	}
}

func runSync(t *testing.T, bin, cfg string) {
	t.Helper()
	if out, err := exec.Command(bin, "--config", cfg, "sync", "--once").CombinedOutput(); err != nil {
		t.Fatalf("sync --once: %v\n%s", err, out)
	}
}

// waitForWritingTx waits delay, then until some session other than ours
// holds a transaction that has written (it has an xid) and returns true;
// false when the process exits first.
func waitForWritingTx(ctx context.Context, t *testing.T, db *pgxpool.Pool, exited chan error, delay time.Duration) bool {
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sync failed on its own: %v", err)
		}
		return false
	case <-time.After(delay):
	}
	for {
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("sync failed on its own: %v", err)
			}
			return false
		default:
		}
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return true
		}
	}
}

// checkCursorInvariant: after any crash, every UID at or below a folder's
// committed cursor is stored (the cursor never runs ahead of the data).
// checkCursorInvariant: every UID the cursors say is covered (new-mail
// cursor upwards, backfill cursor downwards, see timeline.Cursor) is stored.
func checkCursorInvariant(ctx context.Context, t *testing.T, db *pgxpool.Pool, truth map[string]map[string]map[uint32]string) {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT rep, folder, last_uid, backfill_uid, backfill_done FROM folders`)
	if err != nil {
		t.Fatal(err)
	}
	type cur struct {
		Rep, Folder  string
		Last, Back   int64
		BackfillDone bool
	}
	curs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[cur])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range curs {
		covers := timeline.Cursor{LastUID: uint32(c.Last), BackfillUID: uint32(c.Back), BackfillDone: c.BackfillDone}
		stored := storedUIDs(ctx, t, db, c.Rep, c.Folder)
		for uid := range truth[c.Rep][c.Folder] {
			if _, ok := stored[uid]; covers.Covers(uid) && !ok {
				t.Fatalf("%s/%s: cursors %+v cover UID %d but it is not stored", c.Rep, c.Folder, c, uid)
			}
		}
	}
}

func storedUIDs(ctx context.Context, t *testing.T, db *pgxpool.Pool, rep, folder string) map[uint32]string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT l.uid, coalesce(m.message_id, '') FROM message_locations l
		JOIN messages m ON m.id = l.message_id JOIN folders f USING (rep, folder, uidvalidity)
		WHERE l.rep = $1 AND l.folder = $2`, rep, folder)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]string{}
	var uid int64
	var mid string
	if _, err := pgx.ForEachRow(rows, []any{&uid, &mid}, func() error { out[uint32(uid)] = mid; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(ctx context.Context, t *testing.T, db *pgxpool.Pool, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func strings1(ctx context.Context, t *testing.T, db *pgxpool.Pool, q string) []string {
	t.Helper()
	rows, err := db.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}
