package ingest

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readMbox(t *testing.T, r io.Reader, limit int) ([]*mboxMessage, error) {
	t.Helper()
	mr := newMboxReader(r, limit)
	var out []*mboxMessage
	for {
		m, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func TestMboxSplit(t *testing.T) {
	const m1 = "From: a@x.example\nSubject: one\n\nHello\n>From the factory\n>>From quoted\n> From not escaped\nFrom here on, no postmark\n"
	const m2 = "From: b@x.example\r\nSubject: two\r\n\r\nBody\r\n"
	for _, tc := range []struct {
		name   string
		in     string
		want   []string
		offset []int64
	}{{
		name: "mboxrd with escapes (Thunderbird postmark)",
		in:   "From - Tue Mar  3 10:00:00 2026\n" + m1 + "\nFrom b@x.example Wed Mar 04 09:00:00 +0000 2026\n" + "Subject: two\n\nBody\n\n",
		want: []string{
			"From: a@x.example\nSubject: one\n\nHello\nFrom the factory\n>From quoted\n> From not escaped\nFrom here on, no postmark\n",
			"Subject: two\n\nBody\n",
		},
		offset: []int64{0, int64(len("From - Tue Mar  3 10:00:00 2026\n" + m1 + "\n"))},
	}, {
		name:   "CRLF file with a byte order mark (Apple Mail, Windows tools)",
		in:     "\xef\xbb\xbfFrom MAILER-DAEMON Thu Jan  1 00:00:00 2026\r\n" + m2 + "\r\n",
		want:   []string{m2},
		offset: []int64{3},
	}, {
		name: "no blank line before the next postmark",
		in:   "From a Tue Mar  3 10:00:00 2026\nSubject: a\n\nA\nFrom b Tue Mar  3 10:00:01 2026\nSubject: b\n\nB",
		want: []string{"Subject: a\n\nA\n", "Subject: b\n\nB"},
	}, {
		name: "empty file",
		in:   "",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readMbox(t, strings.NewReader(tc.in), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d messages, want %d", len(got), len(tc.want))
			}
			for i, m := range got {
				if string(m.Raw) != tc.want[i] {
					t.Errorf("message %d = %q\nwant %q", i+1, m.Raw, tc.want[i])
				}
				if m.Index != i+1 {
					t.Errorf("message %d has index %d", i+1, m.Index)
				}
				if tc.offset != nil && m.Offset != tc.offset[i] {
					t.Errorf("message %d at byte %d, want %d", i+1, m.Offset, tc.offset[i])
				}
			}
		})
	}
}

func TestMboxNotMbox(t *testing.T) {
	_, err := readMbox(t, strings.NewReader("Subject: hi\n\nbody\n"), 1<<20)
	if !errors.Is(err, errNotMbox) {
		t.Errorf("err = %v, want errNotMbox", err)
	}
}

// A long line comes in pieces; only a line's first piece may be a
// separator or an escape, and a message over the limit keeps its start.
func TestMboxLongLinesAndLimit(t *testing.T) {
	long := strings.Repeat("x", 200<<10) + "From y Tue Mar  3 10:00:00 2026 is not a separator mid-line\n"
	in := "From a Tue Mar  3 10:00:00 2026\nSubject: big\n\n" + long + "\nFrom b Tue Mar  3 10:00:01 2026\nSubject: small\n\nok\n"
	got, err := readMbox(t, strings.NewReader(in), 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	big := got[0]
	if !big.Truncated || len(big.Raw) > 100<<10 || !strings.HasPrefix(string(big.Raw), "Subject: big\n\n") {
		t.Errorf("big message: truncated %v, %d bytes kept", big.Truncated, len(big.Raw))
	}
	if want := int64(len("Subject: big\n\n" + long + "\n")); big.Size != want {
		t.Errorf("big message size %d, want %d", big.Size, want)
	}
	if string(got[1].Raw) != "Subject: small\n\nok\n" || got[1].Truncated {
		t.Errorf("second message = %q", got[1].Raw)
	}
}

// A read error names the message and the byte offset where it started.
func TestMboxReadError(t *testing.T) {
	in := "From a Tue Mar  3 10:00:00 2026\nSubject: a\n\nA\n\nFrom b Tue Mar  3 10:00:01 2026\nSubject: b\n\n" + strings.Repeat("B", 100<<10)
	r := iotest.DataErrReader(io.MultiReader(strings.NewReader(in), iotest.ErrReader(errors.New("input/output error"))))
	got, err := readMbox(t, r, 1<<20)
	if len(got) != 1 || err == nil {
		t.Fatalf("%d messages, err %v: want the first message, then the error", len(got), err)
	}
	want := "message 2 at byte 47: read: input/output error"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func FuzzMbox(f *testing.F) {
	f.Add([]byte("From a Tue Mar  3 10:00:00 2026\nSubject: a\n\n>From x\n\nFrom b Tue Mar  3 10:00:01 2026\n\n"))
	f.Add([]byte("From \n\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		mr := newMboxReader(strings.NewReader(string(in)), 1<<10)
		total := int64(0)
		for i := 0; ; i++ {
			m, err := mr.Next()
			if err != nil {
				return
			}
			if len(m.Raw) > 1<<10 || int64(len(m.Raw)) > m.Size || m.Offset < total || m.Index != i+1 {
				t.Fatalf("message %d: %d bytes kept of %d, offset %d after %d", m.Index, len(m.Raw), m.Size, m.Offset, total)
			}
			total = m.Offset + 1
		}
	})
}
