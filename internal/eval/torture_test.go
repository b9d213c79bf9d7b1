package eval

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
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

// TestMimeTorture puts every message file of the torture corpus through
// the real path (APPEND to Dovecot, sync, store): what Dovecot refuses is
// counted, every message it accepted must be stored with its raw kept, and
// nothing may panic.
func TestMimeTorture(t *testing.T) {
	dir := testenv.Corpus(t, "mime-torture")
	ctx := context.Background()
	dc := testenv.Dovecot(t)
	user := testenv.User(t)
	ap := &appender{t: t, addr: dc.Addr, user: user, password: dc.Password}
	defer ap.close()
	var files, selected, messages int
	skipped := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, path)
		if why := notMessage(filepath.ToSlash(rel)); why != "" {
			skipped[why]++
			return nil
		}
		selected++
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, m := range splitMbox(rel, raw) {
			messages++
			ap.append(fmt.Sprintf("%s#%d", rel, i+1), m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ap.close()

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
	// Errors only: a recovered panic anywhere in the sync is logged as one.
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	syncer := ingest.NewSyncer(cfg, store, ingest.NewPipeline(cfg, store, classify.Default(), log), log)
	if err := syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("sync of the torture corpus: %v", err)
	}
	var locations, distinct, raws, flagged, panics int
	err = store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM message_locations), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM message_raw), (SELECT count(*) FROM messages WHERE malformed),
		(SELECT count(*) FROM messages WHERE EXISTS (SELECT 1 FROM unnest(problems) p
			WHERE p ~ 'internal error \(panic\)' OR p LIKE 'the parser failed on this message%'))`).
		Scan(&locations, &distinct, &raws, &flagged, &panics)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ap.refused {
		t.Log("refused by Dovecot: " + r)
	}
	t.Logf("torture: %d files, %d selected as message files (%d messages once mboxes are split; not messages: %v), "+
		"%d accepted by Dovecot, %d refused; %d stored (%d distinct after dedup, raw kept for %d), %d flagged malformed",
		files, selected, messages, skipped, ap.accepted, len(ap.refused), locations, distinct, raws, flagged)
	if locations != ap.accepted {
		t.Errorf("stored %d of the %d messages Dovecot accepted", locations, ap.accepted)
	}
	if raws != distinct {
		t.Errorf("raw kept for %d of %d messages", raws, distinct)
	}
	if panics != 0 {
		t.Errorf("%d messages were stored after a panic in the parser", panics)
	}
	if s := logs.String(); regexp.MustCompile(`msg="[^"]*panic`).MatchString(s) {
		t.Errorf("the sync recovered a panic:\n%s", s)
	}
}

// notMessage says why the file at rel (slash-separated, relative to the
// corpus) is not a message, or returns "" for a message file. The corpus
// copies whole upstream test folders (its README.md), which hold beside the
// messages their provenance, the parsers' expected outputs and fixtures
// that are pieces of a message. Those are told by extension, name and
// location only, never by content (content is what is being tortured):
//
//   - provenance and documentation: SOURCE.txt, UPSTREAM-*, COPYING,
//     *LICENSE*, README*, readme.txt, *.md, .gitignore, .gitattributes;
//   - expected outputs: .json (stalwart's parse results, mimekit's mbox
//     offsets), .xml and .out (james-mime4j, thunderbird), .golden
//     (enmime), .list (mimekit's TNEF listings), *_decoded_* (james-mime4j's
//     decoded parts, .txt and .bin), *-summary.txt (mimekit's mbox
//     summaries), ruby-mail's sample_output_*, talon's *_signature and
//     *_reply_text;
//   - pieces of messages: attachment and body files by extension (.png,
//     .jpg, .gif, .tiff, .pdf, .doc, .rtf, .zip, .dat, .mp3, .html, .htm,
//     .tnef) and by folder: ruby-mail's fixtures/attachments/, zbateson's
//     emails/files/, the files mimekit extracts from each TNEF
//     (tnef/NAME/), mimekit's encoders/, the .txt files thunderbird's
//     compose tests attach and attachment.txt, talon's signature inputs
//     (*_body, *_sender);
//   - spamassassin's phishing URL feeds (phishing/).
//
// Everything else is a message file, whatever its first line: a message
// that an upstream expected output happens to be (james-mime4j's
// mbox.rlug-N, mimekit's reassembled partial) is a message too.
func notMessage(rel string) string {
	base := path.Base(rel)
	lower := strings.ToLower(base)
	ext := ""
	if i := strings.LastIndexByte(lower, '.'); i > 0 {
		ext = lower[i:]
	}
	switch {
	case base == "SOURCE.txt" || strings.HasPrefix(base, "UPSTREAM") || base == "COPYING" ||
		strings.HasPrefix(base, "README") || lower == "readme.txt" || strings.Contains(base, "LICENSE") || ext == ".md" ||
		base == ".gitignore" || base == ".gitattributes":
		return "provenance or documentation"
	case ext == ".json" || ext == ".xml" || ext == ".out" || ext == ".golden" || ext == ".list" ||
		strings.Contains(base, "_decoded_") || strings.HasSuffix(base, "-summary.txt") || strings.HasPrefix(base, "sample_output"):
		return "expected output"
	case strings.HasPrefix(rel, "talon/") && (strings.HasSuffix(base, "_signature") || strings.HasSuffix(base, "_reply_text")):
		return "expected output"
	case attachmentExt[ext]:
		return "piece of a message"
	case strings.Contains(rel, "/fixtures/attachments/") || strings.Contains(rel, "/emails/files/") ||
		tnefExtract.MatchString(rel) || strings.Contains(rel, "/encoders/") ||
		strings.Contains(rel, "/compose/test/unit/data/") && ext == ".txt" || base == "attachment.txt":
		return "piece of a message"
	case strings.HasPrefix(rel, "talon/") && (strings.HasSuffix(base, "_body") || strings.HasSuffix(base, "_sender")):
		return "piece of a message"
	case strings.Contains(rel, "/phishing/"):
		return "URL feed"
	}
	return ""
}

var tnefExtract = regexp.MustCompile(`/tnef/[^/]+/`)

var attachmentExt = map[string]bool{".png": true, ".jpg": true, ".gif": true, ".tiff": true, ".pdf": true,
	".doc": true, ".rtf": true, ".zip": true, ".dat": true, ".mp3": true, ".html": true, ".htm": true, ".tnef": true}

// mboxFrom is an mbox separator in its full form (RFC 4155): "From ", the
// envelope sender, then an asctime or RFC 5322 date. A bare "From " or
// "From - " line, and a header such as "From  : John", are not one.
var mboxFrom = regexp.MustCompile(`^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b[^\n]*\d\d:\d\d`)

// mboxName matches the names of the corpus's mbox files: mbox.rlug,
// nice.mbox, mbox_modern, simple.mbox.txt, movemailspool; not notmuch's
// mbox-attachment.eml, one message.
var mboxName = regexp.MustCompile(`(^|\.)mbox($|[._])|spool$`)

// splitMbox returns the messages of a file. A file whose first line is not
// a full mbox separator is one message, as it is. One whose first line is
// a separator loses that line; it is split at each further separator that
// follows an empty line only when its name says it is an mbox (mboxName):
// a single message can carry such a line in its body (notmuch's
// mbox-attachment.eml attaches a git patch, which starts with one).
func splitMbox(rel string, raw []byte) [][]byte {
	if !mboxFrom.Match(raw[:min(len(raw), 200)]) {
		return [][]byte{raw}
	}
	_, rest, _ := bytes.Cut(raw, []byte("\n"))
	if !mboxName.MatchString(strings.ToLower(path.Base(filepath.ToSlash(rel)))) {
		return [][]byte{rest}
	}
	var msgs [][]byte
	start := 0
	for i := 0; i < len(rest); {
		j := bytes.IndexByte(rest[i:], '\n')
		if j < 0 {
			break
		}
		next := i + j + 1
		if (j == 0 || j == 1 && rest[i] == '\r') && mboxFrom.Match(rest[next:min(len(rest), next+200)]) {
			msgs = append(msgs, rest[start:next])
			k := bytes.IndexByte(rest[next:], '\n')
			if k < 0 {
				return msgs
			}
			start = next + k + 1
			next = start
		}
		i = next
	}
	return append(msgs, rest[start:])
}

// appender APPENDs messages to a user's INBOX over one connection, opened
// again when the server drops it, and counts what the server refused.
type appender struct {
	t                    *testing.T
	addr, user, password string
	c                    *imapclient.Client
	accepted             int
	refused              []string
}

func (a *appender) append(name string, raw []byte) {
	a.t.Helper()
	if a.c == nil {
		c, err := imapclient.DialInsecure(a.addr, nil)
		if err != nil {
			a.t.Fatal(err)
		}
		if err := c.Login(a.user, a.password).Wait(); err != nil {
			a.t.Fatal(err)
		}
		a.c = c
	}
	cmd := a.c.Append("INBOX", int64(len(raw)), nil)
	_, werr := cmd.Write(raw)
	cerr := cmd.Close()
	if _, err := cmd.Wait(); err != nil || werr != nil || cerr != nil {
		a.refused = append(a.refused, fmt.Sprintf("%s: %v", name, cmp.Or(err, werr, cerr)))
		a.close() // the next message starts on a fresh connection
		return
	}
	a.accepted++
}

func (a *appender) close() {
	if a.c != nil {
		a.c.Close()
		a.c = nil
	}
}

// The selection keeps the hardest messages, whatever their first line, and
// splits an mbox only on full separators.
func TestTortureSelection(t *testing.T) {
	dir := testenv.Corpus(t, "mime-torture")
	for rel, want := range map[string]int{
		"ruby-mail/spec/fixtures/emails/rfc2822/example13.eml":                                            1, // "From  : John Doe"
		"james-mime4j/core/src/test/resources/testmsgs/obsolete.msg":                                      1,
		"james-mime4j/core/src/test/resources/testmsgs/malformedHeaderStartsBody-noheader.msg":            1,
		"enmime/testdata/low-quality/bad-header-start.raw":                                                1,
		"enmime/testdata/mail/erroneous.raw":                                                              1,
		"stalwart-mail-parser/resources/eml/malformed/019.eml":                                            1,
		"php-mime-mail-parser/tests/mails/m0011":                                                          1,
		"php-mime-mail-parser/tests/mails/m0012":                                                          1,
		"thunderbird/mailnews/test/data/basic4":                                                           1,
		"thunderbird/mailnews/test/data/basic5":                                                           1,
		"thunderbird/mailnews/test/data/mbox_unquoted":                                                    1, // bare "From " lines
		"mimekit/UnitTests/TestData/mbox/simple.mbox.txt":                                                 1, // "From - " lines
		"notmuch-corpora/test/corpora/insert/mbox-attachment.eml":                                         1, // a patch's "From <sha> Mon ..." inside
		"james-mime4j/mbox/src/test/resources/test-1/mbox.rlug":                                           5,
		"thunderbird/mailnews/test/data/mbox_modern":                                                      2,
		"spamassassin-tdata/t/data/nice.mbox":                                                             3,
		"thunderbird/mailnews/local/test/unit/data/movemailspool":                                         3,
		"james-mime4j/mbox/src/test/resources/test-1/mbox.rlug-0":                                         1, // the splitter's expected output, a message
		"thunderbird/mailnews/compose/test/unit/data/message1.eml":                                        1,
		"zbateson-mail-mime-parser/tests/_data/headers/basic":                                             1,
		"talon/tests/fixtures/signature/emails/P/unicode_msg":                                             1,
		"stalwart-mail-parser/resources/maildir/new/1234567890.M20046P2137.mailserver,S=4542,W=4642;2,Sb": 1,
	} {
		if why := notMessage(rel); why != "" {
			t.Errorf("%s: not selected (%s)", rel, why)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Error(err)
			continue
		}
		msgs := splitMbox(rel, raw)
		if len(msgs) != want {
			t.Errorf("%s: %d messages, want %d", rel, len(msgs), want)
		}
		for i, m := range msgs {
			if mboxFrom.Match(m) {
				t.Errorf("%s: message %d starts with its separator: %.60q", rel, i+1, m)
			}
		}
	}
	for _, rel := range []string{"stalwart-mail-parser/resources/eml/rfc/007.json", "thunderbird/mailnews/test/data/basic4.out",
		"james-mime4j/core/src/test/resources/testmsgs/obsolete.xml", "enmime/testdata/encode/part-plain.golden",
		"james-mime4j/core/src/test/resources/testmsgs/example_decoded_1_1.txt", "mimekit/UnitTests/TestData/tnef/christmas/message.rtf",
		"talon/tests/fixtures/signature/emails/stripped/jeff_signature", "go-letters/UPSTREAM-LICENSE.md", "haraka/SOURCE.txt",
		"james-mime4j/core/src/test/resources/mimetools-testmsgs/ARTISTIC-LICENSE.txt", "thunderbird/mailnews/compose/test/unit/data/test-KOI8-R.txt"} {
		if notMessage(rel) == "" {
			t.Errorf("%s selected as a message", rel)
		}
	}
}
