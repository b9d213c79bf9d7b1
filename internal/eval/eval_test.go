package eval

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type loc struct {
	rep, folder string
	uid         int
}

// TestDevCorpus loads the dev corpus into Dovecot, syncs it and scores
// capture, customer and kind against labels.jsonl.
func TestDevCorpus(t *testing.T) {
	w := syncDevCorpus(t)
	ctx, store, labels, files := t.Context(), w.store, w.labels, w.files
	t.Logf("sync: %d files, %.1f MB in %v: %.0f messages/s (5 mailboxes in parallel, TLS, one pass)",
		len(files), float64(w.bytes)/1e6, w.took.Round(time.Millisecond), float64(len(files))/w.took.Seconds())

	got := loadOutcome(t, ctx, store)
	score(t, labels, files, got)
	checkThreads(t, ctx, store)

	// Matching the stored mail again changes nothing: rematch is the same
	// judgement as the sync.
	start := time.Now()
	st, err := w.pipe.Rematch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("rematch: %d messages in %v: %.0f messages/s; %+v", st.Messages, took.Round(time.Millisecond),
		float64(st.Messages)/took.Seconds(), st)
	if st.Added != 0 || st.Removed != 0 || st.NoiseChanged != 0 || st.Messages != 400 {
		t.Errorf("rematch of freshly synced mail changed something: %+v", st)
	}

	t.Run("customers imported after the mail", func(t *testing.T) {
		lateImport(t, w)
	})
}

// lateImport syncs the same mailboxes into a fresh database with no
// customers (every buyer becomes a customer created from mail), then
// imports customers.csv: the customers from mail are taken over, the mail
// is matched again, and the outcome must score as if the list had come
// first.
func lateImport(t *testing.T, w *devWorld) {
	base, labels, files := w.cfg, w.labels, w.files
	ctx := context.Background()
	dbURL := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := *base
	cfg.Database.URL = dbURL
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pipe := ingest.NewPipeline(&cfg, store, classify.Default(), log)
	if err := ingest.NewSyncer(&cfg, store, pipe, log).SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var autos int
	store.Pool.QueryRow(ctx, `SELECT count(*) FROM customers WHERE auto_created`).Scan(&autos)

	f, err := os.Open(filepath.Join(w.dir, "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := timeline.ReadCustomerFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := store.ImportCustomers(ctx, rows, timeline.ImportOptions{Normalize: matcher.Normalize, Domain: matcher.CustomerDomain, FreeMail: pipe.FreeMail})
	if err != nil || len(rep.Errors) > 0 {
		t.Fatalf("import customers: %v %v", err, rep.Errors)
	}
	st, err := pipe.Maintain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("late import: %d customers from mail before; %d created, %d updated, %d taken over; %d messages matched again "+
		"(%d events added, %d removed, %d customers from mail left without mail removed) in %v", autos, rep.Created,
		rep.Updated, len(rep.TakenOver), st.Rematch.Messages, st.Rematch.Added, st.Rematch.Removed,
		st.Rematch.CustomersDropped, time.Since(start).Round(time.Millisecond))
	score(t, labels, files, loadOutcome(t, ctx, store))

	// Importing the same list again changes nothing.
	again, err := store.ImportCustomers(ctx, rows, timeline.ImportOptions{Normalize: matcher.Normalize, Domain: matcher.CustomerDomain, FreeMail: pipe.FreeMail})
	if err != nil || again.Created+again.Updated != 0 || len(again.TakenOver) != 0 || again.Rematch != 0 {
		t.Errorf("second import: %v created %d updated %d taken over %d queued %d",
			err, again.Created, again.Updated, len(again.TakenOver), again.Rematch)
	}
}

// outcome is what mailtrail made of one stored message.
type outcome struct {
	customers []string // names, or new:domain:/new:email: keys
	kind      string
	noise     string
}

func loadOutcome(t *testing.T, ctx context.Context, store *timeline.Store) map[loc]outcome {
	rows, err := store.Pool.Query(ctx, `
		SELECT l.rep, l.folder, l.uid, coalesce(m.noise, ''),
			coalesce(array_agg(CASE WHEN c.auto_key IS NULL THEN c.name ELSE 'new:' || c.auto_key END ORDER BY c.id)
				FILTER (WHERE c.id IS NOT NULL), '{}'),
			coalesce(min(e.kind), '')
		FROM message_locations l JOIN messages m ON m.id = l.message_id
		LEFT JOIN events e ON e.message_id = m.id LEFT JOIN customers c ON c.id = e.customer_id
		GROUP BY l.rep, l.folder, l.uid, m.noise`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[loc]outcome{}
	for rows.Next() {
		var l loc
		var o outcome
		var uid int64
		if err := rows.Scan(&l.rep, &l.folder, &uid, &o.noise, &o.customers, &o.kind); err != nil {
			t.Fatal(err)
		}
		l.uid = int(uid)
		out[l] = o
	}
	return out
}

type prf struct{ tp, fp, fn int }

func (x prf) String() string {
	p := float64(x.tp) / float64(max(1, x.tp+x.fp))
	r := float64(x.tp) / float64(max(1, x.tp+x.fn))
	f := 2 * p * r / max(p+r, 1e-9)
	return fmt.Sprintf("P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d)", p, r, f, x.tp, x.fp, x.fn)
}

func (x prf) f1() float64 {
	p := float64(x.tp) / float64(max(1, x.tp+x.fp))
	r := float64(x.tp) / float64(max(1, x.tp+x.fn))
	return 2 * p * r / max(p+r, 1e-9)
}

func score(t *testing.T, labels []Label, files map[string]loc, got map[loc]outcome) {
	var capture prf
	var custOK, custN, kindOK, kindN int
	kinds := map[string]*prf{"inquiry": {}, "quote": {}}
	perLang := map[string][2]int{}
	var misses []string
	for _, l := range labels {
		o, ok := got[files[l.File[0]]]
		if !ok {
			misses = append(misses, fmt.Sprintf("NOT STORED %s", l.File[0]))
			if l.Capture {
				capture.fn++
			}
			continue
		}
		captured := len(o.customers) > 0
		switch {
		case captured && l.Capture:
			capture.tp++
		case captured:
			capture.fp++
			misses = append(misses, fmt.Sprintf("capture fp %s [%s] -> %v", l.File[0], l.Category, o.customers))
		case l.Capture:
			capture.fn++
			misses = append(misses, fmt.Sprintf("capture fn %s [%s] noise=%s want %v", l.File[0], l.Category, o.noise, l.Want()))
		}
		if !l.Capture || !captured {
			continue
		}
		custN++
		if sameCustomers(o.customers, l) {
			custOK++
		} else {
			misses = append(misses, fmt.Sprintf("customer %s: got %v want %v", l.File[0], o.customers, l.Want()))
		}
		want := *l.Kind
		kindN++
		pl := perLang[l.Lang]
		pl[1]++
		if o.kind == want {
			kindOK++
			pl[0]++
		} else {
			misses = append(misses, fmt.Sprintf("kind %s [%s]: got %s want %s", l.File[0], l.Lang, o.kind, want))
		}
		perLang[l.Lang] = pl
		for k, x := range kinds {
			switch {
			case o.kind == k && want == k:
				x.tp++
			case o.kind == k:
				x.fp++
			case want == k:
				x.fn++
			}
		}
	}
	for _, m := range misses {
		t.Log("miss: " + m)
	}
	t.Logf("capture: %v", capture)
	t.Logf("customer accuracy: %d/%d = %.3f", custOK, custN, float64(custOK)/float64(max(1, custN)))
	t.Logf("inquiry: %v", kinds["inquiry"])
	t.Logf("quote:   %v", kinds["quote"])
	t.Logf("kind accuracy: %d/%d = %.3f", kindOK, kindN, float64(kindOK)/float64(max(1, kindN)))
	var langs []string
	for l := range perLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		t.Logf("kind accuracy %-5s %d/%d", l, perLang[l][0], perLang[l][1])
	}
	// The matcher issue's bar: capture precision and customer accuracy of
	// at least 99% (a message on the wrong customer leaks a buyer's prices).
	// Recall and the kinds have floors that catch a regression; the notes
	// give the measured figures.
	if capture.tp+capture.fp == 0 || float64(capture.tp) < 0.99*float64(capture.tp+capture.fp) {
		t.Errorf("capture precision below 0.99: %v", capture)
	}
	if capture.f1() < 0.95 {
		t.Errorf("capture F1 %.3f below 0.95", capture.f1())
	}
	if custN == 0 || float64(custOK) < 0.99*float64(custN) {
		t.Errorf("customer accuracy %d/%d below 0.99", custOK, custN)
	}
	if kinds["inquiry"].f1() < 0.9 || kinds["quote"].f1() < 0.9 {
		t.Errorf("inquiry/quote F1 below 0.9")
	}
}

func sameCustomers(got []string, l Label) bool {
	want := l.Want()
	if len(got) != len(want) {
		return false
	}
	for _, g := range got {
		if !slices.Contains(want, g) && !slices.Contains(l.Equivalent, g) {
			return false
		}
	}
	return true
}
