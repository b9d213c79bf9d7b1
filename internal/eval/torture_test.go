package eval

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/timeline"
)

const tortureDir = "../../../shared/corpus/mime-torture"

// notMessages are the upstream suites' expected outputs and fixtures.
var notMessages = map[string]bool{".json": true, ".xml": true, ".out": true, ".golden": true, ".html": true,
	".htm": true, ".png": true, ".jpg": true, ".pdf": true, ".doc": true, ".rtf": true, ".md": true, ".list": true,
	".tnef": true, ".bin": true, ".dat": true}

var headerLine = regexp.MustCompile(`^[!-9;-~]+:[ \t]?`)

// looksLikeMessage keeps files whose first line is a header field (or an
// mbox "From " line followed by one).
func looksLikeMessage(path string, b []byte) bool {
	base := filepath.Base(path)
	if notMessages[strings.ToLower(filepath.Ext(base))] || base == "SOURCE.txt" || strings.HasPrefix(base, "UPSTREAM") {
		return false
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i > 0 {
			b = b[i+1:]
		}
	}
	line, _, _ := bytes.Cut(b[:min(len(b), 1000)], []byte("\n"))
	return headerLine.Match(line)
}

// TestMimeTorture puts every message file of the torture corpus through
// the real path (APPEND to Dovecot, sync, store) and checks each one that
// Dovecot accepted is stored, raw kept, without a crash.
func TestMimeTorture(t *testing.T) {
	if _, err := os.Stat(tortureDir); err != nil {
		t.Skipf("torture corpus not found at %s", tortureDir)
	}
	ctx := context.Background()
	dc := testenv.Dovecot(t)
	user := testenv.User(t)
	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(user, dc.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	var files, candidates, accepted int
	var rejected []string
	filepath.WalkDir(tortureDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 || !looksLikeMessage(path, b) {
			return nil
		}
		candidates++
		cmd := c.Append("INBOX", int64(len(b)), nil)
		cmd.Write(b)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			rejected = append(rejected, fmt.Sprintf("%s: %v", path, err))
			if c.State() == 0 { // the server dropped us: reconnect
				c, _ = imapclient.DialInsecure(dc.Addr, nil)
				c.Login(user, dc.Password).Wait()
			}
			return nil
		}
		accepted++
		return nil
	})
	c.Close()

	dbURL := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	host, port, _ := strings.Cut(dc.Addr, ":")
	var p int
	fmt.Sscan(port, &p)
	cfg := &config.Config{
		Database: config.Database{URL: dbURL}, Meilisearch: config.Meilisearch{URL: "http://127.0.0.1:1"},
		Company: config.Company{Domains: []string{"ourco.example"}},
		Reps:    []config.Rep{{Email: "rep@ourco.example", IMAP: config.IMAP{Host: host, Port: p, TLS: "none", Username: user, Password: dc.Password}}},
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	syncer := ingest.NewSyncer(cfg, store, ingest.NewPipeline(cfg, store, classify.Default(), log), log)
	if err := syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("sync of the torture corpus: %v", err)
	}
	var locations, messages, raws, flagged int
	store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM message_locations), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM message_raw), (SELECT count(*) FROM messages WHERE malformed)`).Scan(&locations, &messages, &raws, &flagged)
	for _, r := range rejected {
		t.Log("rejected by Dovecot: " + r)
	}
	t.Logf("torture: %d files, %d look like messages, %d accepted by Dovecot, %d stored (%d distinct after dedup, raw kept for %d), %d flagged malformed",
		files, candidates, accepted, locations, messages, raws, flagged)
	if locations != accepted {
		t.Errorf("stored %d of the %d messages Dovecot accepted", locations, accepted)
	}
	if raws != messages {
		t.Errorf("raw kept for %d of %d messages", raws, messages)
	}
}
