package message

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/jhillyerd/enmime/v2"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

type corpusFile struct {
	path string // relative to the dev corpus
	raw  []byte
}

// loadDevCorpus reads every .eml of the labelled dev corpus (see its
// README.md); a missing corpus skips the test, or fails it under CI.
func loadDevCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	devCorpus := testenv.Corpus(tb, "dev")
	paths, err := filepath.Glob(filepath.Join(devCorpus, "mail", "*", "*", "*.eml"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no .eml in the dev corpus at %s", devCorpus)
	}
	files := make([]corpusFile, 0, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		rel, _ := filepath.Rel(devCorpus, p)
		files = append(files, corpusFile{filepath.ToSlash(rel), raw})
	}
	return files
}

type corpusLabel struct {
	File      []string `json:"file"`
	MessageID *string  `json:"message_id"`
	Category  string   `json:"category"`
	Reason    string   `json:"reason"`
	Lang      string   `json:"lang"`
}

func loadLabels(t *testing.T) map[string]corpusLabel {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Corpus(t, "dev"), "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labels := map[string]corpusLabel{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l corpusLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.File {
			labels[p] = l
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return labels
}

// scripts are the writing systems each label language must show in the
// Subject or Text.
var scripts = map[string][]*unicode.RangeTable{
	"zh":    {unicode.Han},
	"zh_tw": {unicode.Han},
	"ru":    {unicode.Cyrillic},
	"ar":    {unicode.Arabic},
	"ja":    {unicode.Hiragana, unicode.Katakana, unicode.Han},
}

// TestDevCorpus parses every message of the dev corpus. These are
// well-formed: no Problems at all, every encoded-word decoded, no
// replacement characters, and each labelled language visible in its
// script.
func TestDevCorpus(t *testing.T) {
	files := loadDevCorpus(t)
	labels := loadLabels(t)
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			m := Parse(f.raw)
			checkInvariants(t, f.path, m)
			if len(m.Problems) > 0 {
				t.Errorf("Problems: %q", m.Problems)
			}
			if strings.Contains(m.Subject, "=?") {
				t.Errorf("undecoded encoded-word in Subject %q", m.Subject)
			}
			// Header-derived strings: no encoded-word left, no U+FFFD.
			decoded := []string{m.Subject}
			for _, a := range append(append(m.From, m.To...), m.Cc...) {
				decoded = append(decoded, a.Name)
			}
			for _, a := range m.Attachments {
				decoded = append(decoded, a.Filename)
			}
			for _, fw := range m.Forwarded {
				decoded = append(decoded, fw.Subject)
			}
			for _, s := range decoded {
				if strings.ContainsRune(s, '\uFFFD') || strings.Contains(s, "=?") {
					t.Errorf("badly decoded: %q", s)
				}
			}
			for _, s := range []string{m.Text, m.NewText} {
				if strings.ContainsRune(s, '\uFFFD') {
					t.Errorf("U+FFFD in text: %q", s)
				}
			}
			for _, fw := range m.Forwarded {
				if strings.ContainsRune(fw.Text, '\uFFFD') {
					t.Errorf("U+FFFD in forwarded text: %q", fw.Text)
				}
			}
			if len(m.From) == 0 || m.Date.IsZero() || m.Text == "" {
				t.Errorf("From=%v Date=%v Text=%d bytes", m.From, m.Date, len(m.Text))
			}
			l, ok := labels[f.path]
			if !ok {
				t.Fatalf("no label for %s", f.path)
			}
			if want := ""; l.MessageID != nil {
				want = strings.Trim(*l.MessageID, "<>")
				if m.MessageID != want {
					t.Errorf("MessageID = %q, want %q", m.MessageID, want)
				}
			}
			if tables := scripts[l.Lang]; tables != nil && !hasScript(m.Subject+m.Text, tables) {
				t.Errorf("lang %s: no %s script in Subject %q or Text", l.Lang, l.Lang, m.Subject)
			}
			if strings.Contains(l.Reason, "internal forward") && len(m.Forwarded) == 0 {
				t.Errorf("internal forward without Forwarded")
			}
			if m.ContentType == "multipart/report" && len(m.Forwarded) == 0 {
				t.Errorf("bounce without the original in Forwarded")
			}
		})
	}
}

func hasScript(s string, tables []*unicode.RangeTable) bool {
	for _, r := range s {
		if unicode.In(r, tables...) {
			return true
		}
	}
	return false
}

// BenchmarkParse parses the whole dev corpus per iteration.
//
//	go test ./message/ -run '^$' -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	files := loadDevCorpus(b)
	var total int64
	for _, f := range files {
		total += int64(len(f.raw))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			Parse(f.raw)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/msg")
}

// BenchmarkEnmimeDetection measures what enmime's charset detection costs
// on the dev corpus, the reason mimeParser turns it off: enmime with its
// defaults, enmime without detection, and our Parse (which includes
// enmime without detection plus our decoding, HTML conversion, quote
// cutting and forward extraction).
func BenchmarkEnmimeDetection(b *testing.B) {
	files := loadDevCorpus(b)
	var total int64
	for _, f := range files {
		total += int64(len(f.raw))
	}
	for _, bc := range []struct {
		name  string
		parse func([]byte)
	}{
		{"enmime-detect-on", func(raw []byte) { _, _ = enmime.NewParser().ReadEnvelope(strings.NewReader(string(raw))) }},
		{"enmime-detect-off", func(raw []byte) {
			_, _ = enmime.NewParser(enmime.DisableCharacterDetection(true)).ReadEnvelope(strings.NewReader(string(raw)))
		}},
		{"message.Parse", func(raw []byte) { Parse(raw) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				for _, f := range files {
					bc.parse(f.raw)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/msg")
		})
	}
}

// FuzzParse checks that Parse survives any input: no panic (not even a
// recovered one), and the invariants of every result. Seeds: the dev
// corpus and the small files of the torture corpus, when present, and a
// few hand-written messages.
func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@x.com\r\nSubject: =?gbk?B?sai827Wl?=\r\n\r\nhello"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n\xb1\xa8\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\n\r\nx\r\n--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@y\r\n\r\nq\r\n--r--"))
	f.Add([]byte("Subject: Fwd: x\r\n\r\n---------- Forwarded message ---------\r\nFrom: Jim [mailto:j@x.com]\r\nSubject: y\r\n\r\nbody"))
	if dev := testenv.FindCorpus("dev"); dev != "" {
		paths, _ := filepath.Glob(filepath.Join(dev, "mail", "*", "*", "*.eml"))
		for _, p := range paths {
			if raw, err := os.ReadFile(p); err == nil {
				f.Add(raw)
			}
		}
	}
	if torture := testenv.FindCorpus("mime-torture"); torture != "" {
		_ = filepath.WalkDir(torture, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if info, err := d.Info(); err == nil && info.Size() <= 16<<10 {
				if raw, err := os.ReadFile(p); err == nil && looksLikeMail(raw) {
					f.Add(raw)
				}
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		checkInvariants(t, "fuzz input", m)
		for _, p := range m.Problems {
			if isPanicProblem(p) {
				t.Fatalf("recovered panic: %s", p)
			}
		}
	})
}
