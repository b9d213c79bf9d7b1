package message

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

// tortureTimeout is how long one file may take before the test calls it a
// hang. The largest file (3.4 MB) parses in well under a second.
const tortureTimeout = 20 * time.Second

// TestTorture feeds every file of the torture corpus to Parse, message or
// not (expected-output files, images, licences too): Parse must survive
// any bytes, return within the timeout, and keep its invariants.
func TestTorture(t *testing.T) {
	// Other parsers' test messages: broken boundaries, wrong charsets,
	// 8-bit headers, TNEF, uuencode, huge headers, deep nesting.
	tortureDir := testenv.Corpus(t, "mime-torture")
	var files []string
	err := filepath.WalkDir(tortureDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var total, mailLike, clean, malformed, headersOnly int
	var slowest time.Duration
	var slowestFile string
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		total++
		if looksLikeMail(raw) {
			mailLike++
		}
		start := time.Now()
		m := parseWithTimeout(t, p, raw)
		if d := time.Since(start); d > slowest {
			slowest, slowestFile = d, p
		}
		checkInvariants(t, p, m)
		for _, pr := range m.Problems {
			if isPanicProblem(pr) {
				t.Errorf("%s: recovered panic: %s", p, pr)
			}
			if strings.Contains(pr, "headers only") {
				headersOnly++
			}
		}
		if m.Malformed {
			malformed++
		} else {
			clean++
		}
	}
	t.Logf("torture: %d files (%d look like mail), %d parsed clean, %d flagged Malformed (%d of them headers only); slowest %v (%s)",
		total, mailLike, clean, malformed, headersOnly, slowest.Round(time.Millisecond), slowestFile)
}

// parseWithTimeout runs Parse and fails the test naming the file when it
// does not return in time. The goroutine of a hung Parse cannot be
// stopped; the test binary ends with the failure.
func parseWithTimeout(t *testing.T, name string, raw []byte) *Message {
	t.Helper()
	done := make(chan *Message, 1)
	go func() { done <- Parse(raw) }()
	timer := time.NewTimer(tortureTimeout)
	defer timer.Stop()
	select {
	case m := <-done:
		return m
	case <-timer.C:
		t.Fatalf("%s: Parse did not return within %v", name, tortureTimeout)
		return nil
	}
}

// checkInvariants checks what every Parse result promises.
func checkInvariants(t *testing.T, name string, m *Message) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s: Parse returned nil", name)
	}
	if m.Malformed != (len(m.Problems) > 0) {
		t.Errorf("%s: Malformed=%v with %d problems", name, m.Malformed, len(m.Problems))
	}
	if m.Header == nil {
		t.Errorf("%s: nil Header map", name)
	}
	strs := []string{m.Subject, m.Text, m.NewText, m.MessageID, m.ContentType}
	for _, as := range [][]Address{m.From, m.Sender, m.ReplyTo, m.To, m.Cc, m.Bcc} {
		for _, a := range as {
			strs = append(strs, a.Name, a.Email)
		}
	}
	for _, a := range m.Attachments {
		strs = append(strs, a.Filename, a.ContentType)
	}
	for _, f := range m.Forwarded {
		strs = append(strs, f.Subject, f.Text)
		for _, a := range f.From {
			strs = append(strs, a.Name, a.Email)
		}
	}
	for _, v := range m.Header {
		strs = append(strs, v)
	}
	strs = append(strs, m.Problems...)
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("%s: invalid UTF-8 in result: %q", name, s)
			return
		}
	}
}

// panicProblemRe matches the Problem Parse records for a recovered panic,
// also one in an attached message.
var panicProblemRe = regexp.MustCompile(`^(part [^ ]+ \(attached message\): )*internal error \(panic\)`)

func isPanicProblem(p string) bool { return panicProblemRe.MatchString(p) }

// looksLikeMail reports whether raw starts with something like a header
// block, for the count in the log only.
func looksLikeMail(raw []byte) bool {
	hdr, _ := splitHeader(raw)
	if len(hdr) > 64<<10 {
		hdr = hdr[:64<<10]
	}
	fields, _ := parseFields(hdr)
	n := 0
	for _, f := range fields {
		switch f.name {
		case "From", "To", "Subject", "Date", "Message-Id", "Content-Type", "Mime-Version", "Received":
			n++
		}
	}
	return n >= 2 && !bytes.HasPrefix(raw, []byte("{"))
}
