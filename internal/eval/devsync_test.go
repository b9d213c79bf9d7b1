package eval

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// devWorld is the dev corpus loaded into Dovecot and synced into a fresh
// database through the real pipeline.
type devWorld struct {
	dir     string
	company *Company
	labels  []Label
	cfg     *config.Config
	store   *timeline.Store
	pipe    *ingest.Pipeline
	files   map[string]loc // corpus path -> where it was appended
	bytes   int64          // appended
	took    time.Duration  // the sync
}

// syncDevCorpus loads every mailbox of the dev corpus into Dovecot (one
// user per rep), imports customers.csv and runs one sync, as
// TestDevCorpus does; a missing corpus skips the test, or fails it under CI.
func syncDevCorpus(t *testing.T) *devWorld {
	t.Helper()
	dir := testenv.Corpus(t, "dev")
	ctx := t.Context()
	company, labels, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	dc := testenv.Dovecot(t)
	caFile := dc.CertFile
	host, port, _ := strings.Cut(dc.TLSAddr, ":")
	var p int
	fmt.Sscan(port, &p)
	cfg := &config.Config{
		Database:    config.Database{URL: dbURL},
		Meilisearch: config.Meilisearch{URL: "http://127.0.0.1:1"},
		Company:     config.Company{Name: company.Name, Domains: company.Domains},
	}
	for _, s := range company.Suppliers {
		cfg.Suppliers = append(cfg.Suppliers, config.Supplier{Name: s.Name, Domains: s.Domains, Emails: s.Emails})
	}
	w := &devWorld{dir: dir, company: company, labels: labels, cfg: cfg, store: store, files: map[string]loc{}}
	for _, r := range company.Reps {
		user := testenv.User(t) + "-" + strings.ReplaceAll(r.Mailbox, ".", "-")
		cfg.Reps = append(cfg.Reps, config.Rep{Email: r.Email, Name: r.Name, Aliases: r.Aliases, IMAP: config.IMAP{
			Host: host, Port: p, TLS: "implicit", Username: user, Password: dc.Password, CAFile: caFile}})
		w.appendFolders(t, dc.Addr, user, dc.Password, r)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	csv, err := os.Open(filepath.Join(dir, "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer csv.Close()
	if rep, err := store.ImportCustomersCSV(ctx, csv, timeline.ImportOptions{Normalize: matcher.Normalize, Domain: matcher.CustomerDomain}); err != nil || len(rep.Errors) > 0 {
		t.Fatalf("import customers: %v %v", err, rep.Errors)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.pipe = ingest.NewPipeline(cfg, store, classify.Default(), log)
	start := time.Now()
	if err := ingest.NewSyncer(cfg, store, w.pipe, log).SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	w.took = time.Since(start)
	return w
}

// appendFolders APPENDs a rep's mailbox, folder by folder, its .eml files
// in name order, to user, noting where each went.
func (w *devWorld) appendFolders(t *testing.T, addr, user, password string, r Rep) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, folder := range r.Folders {
		names, _ := filepath.Glob(filepath.Join(w.dir, "mail", r.Mailbox, folder, "*.eml"))
		sort.Strings(names)
		for i, name := range names {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cmd := c.Append(folder, int64(len(raw)), nil)
			cmd.Write(raw)
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				t.Fatalf("append %s: %v", name, err)
			}
			w.bytes += int64(len(raw))
			rel, _ := filepath.Rel(w.dir, name)
			w.files[rel] = loc{strings.ToLower(r.Email), folder, i + 1}
		}
	}
}
