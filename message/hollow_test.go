package message

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func base64Body(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s + "\r\n"
}

// Large base64 attachments are taken out of the copy enmime parses: the
// message reads the same (text, names, types, decoded sizes), a document's
// file comes back whole from the raw message, a part with bad base64 is
// left for the walker to flag, and a message cannot claim a taken-out
// body or size by writing the header itself. (On the torture corpus, every
// message parses to the same text, attachments, sizes, document files and
// problems with and without hollowing: checked when this was written.)
func TestHollowedAttachments(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	photo, pdf := make([]byte, 200<<10), make([]byte, 90<<10)
	for i := range photo {
		photo[i] = byte(r.IntN(256))
	}
	copy(pdf, "%PDF-1.4\n")
	for i := 9; i < len(pdf); i++ {
		pdf[i] = byte(r.IntN(256))
	}
	bad := strings.Repeat("QUJD!!!!"+strings.Repeat("A", 68)+"\r\n", 400)
	raw := []byte("From: a@x.example\r\nSubject: PI\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see the PI and the photo.\r\n" +
		"--b1\r\nContent-Type: image/jpeg; name=\"photo.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64Body(photo) +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n filename*=utf-8''%E5%BD%A2%E5%BC%8F%E5%8F%91%E7%A5%A8.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64Body(pdf) +
		"--b1\r\nContent-Type: application/zip; name=\"broken.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + bad +
		"--b1\r\nContent-Type: image/png; name=\"spoof.png\"\r\nContent-Transfer-Encoding: base64\r\n" + hollowHeader + ": 0000000000000000 0 999999\r\n\r\n" + base64Body([]byte("tiny")) +
		"--b1--\r\n")
	hs := &hollowSet{}
	_, closed, _ := prepareMIME(raw)
	if parsed := hs.hollow(raw, closed); len(hs.bodies) != 2 || len(parsed) > len(raw)/10 {
		t.Fatalf("hollowed %d bodies, parsed copy of %d bytes of %d: want the photo and the PDF out", len(hs.bodies), len(parsed), len(raw))
	}
	m := Parse(raw)
	if m.Text != "Please see the PI and the photo." {
		t.Errorf("Text = %q", m.Text)
	}
	want := []struct {
		name string
		size int
	}{{"photo.jpg", len(photo)}, {"形式发票.pdf", len(pdf)}, {"broken.zip", -1}, {"spoof.png", 4}}
	if len(m.Attachments) != len(want) {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	for i, w := range want {
		a := m.Attachments[i]
		if a.Filename != w.name || (w.size >= 0 && a.Size != w.size) {
			t.Errorf("attachment %d: %q of %d bytes, want %q of %d", i, a.Filename, a.Size, w.name, w.size)
		}
	}
	if got := m.Attachments[1].Content(); !bytes.Equal(got, pdf) {
		t.Errorf("the PDF came back as %d bytes, want the %d attached", len(got), len(pdf))
	}
	if m.Attachments[0].Content() != nil {
		t.Error("a photo kept its file")
	}
	if !m.Malformed || !strings.Contains(strings.Join(m.Problems, "\n"), "malformed base64") {
		t.Errorf("the broken base64 is not flagged: %q", m.Problems)
	}
}

// An attached message whose own attachment was taken out keeps the size
// it has in the raw message.
func TestHollowedInsideAttachedMessage(t *testing.T) {
	inner := "From: b@y.example\r\nSubject: photo\r\nContent-Type: multipart/mixed; boundary=\"in\"\r\n\r\n" +
		"--in\r\nContent-Type: text/plain\r\n\r\nthe photo\r\n" +
		"--in\r\nContent-Type: image/jpeg; name=\"p.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64Body(bytes.Repeat([]byte{0xff, 0xd8, 0x01}, 30000)) + "--in--\r\n"
	raw := []byte("From: a@x.example\r\nSubject: Fw: photo\r\nContent-Type: multipart/mixed; boundary=\"out\"\r\n\r\n" +
		"--out\r\nContent-Type: text/plain\r\n\r\nsee below\r\n" +
		"--out\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--out--\r\n")
	m := Parse(raw)
	var got []string
	for _, a := range m.Attachments {
		got = append(got, a.ContentType)
		if a.ContentType == "message/rfc822" && a.Size != len(inner) {
			t.Errorf("attached message of %d bytes, want %d", a.Size, len(inner))
		}
	}
	if len(m.Forwarded) != 1 || m.Forwarded[0].Subject != "photo" || !slices.Contains(got, "message/rfc822") {
		t.Errorf("attachments %v, forwarded %+v", got, m.Forwarded)
	}
}

// ContentPrefix is the beginning of Content in every transfer encoding,
// for a document taken out of the parsed copy and for one left in.
func TestContentPrefix(t *testing.T) {
	doc := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xe2, '=', '\n', 'x'}, 10000)...)
	qp := strings.NewReplacer("=", "=3D", "\xe2", "=E2").Replace(string(doc[:2000]))
	for name, body := range map[string]struct{ cte, text string }{
		"base64 large": {"base64", base64Body(doc)},
		"base64 small": {"base64", base64Body(doc[:900])},
		"qp":           {"quoted-printable", qp},
		"8bit":         {"8bit", string(doc[:3000])},
	} {
		m := Parse([]byte("From: a@x.example\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain\r\n\r\nthe PI\r\n" +
			"--b1\r\nContent-Type: application/pdf; name=\"pi.pdf\"\r\nContent-Transfer-Encoding: " + body.cte + "\r\n\r\n" + body.text +
			"\r\n--b1--\r\n"))
		if len(m.Attachments) != 1 || m.Attachments[0].Content() == nil {
			t.Fatalf("%s: attachments %+v", name, m.Attachments)
		}
		a := m.Attachments[0]
		all := a.Content()
		for _, n := range []int{0, 1, 5, 1024, len(all), len(all) + 1} {
			if got, want := a.ContentPrefix(n), all[:min(n, len(all))]; !bytes.Equal(got, want) {
				t.Errorf("%s: ContentPrefix(%d) = %.20q, want %.20q", name, n, got, want)
			}
		}
	}
}

// hollowByLine is hollow as first written, reading every line of a body
// to find its end: hollow, which jumps to lines starting with "--", must
// take out the same.
func (hs *hollowSet) hollowByLine(raw []byte, bounds map[string]bool) []byte {
	return hs.hollowWith(raw, bounds, func(raw []byte, i int, bounds map[string]bool) int {
		for i < len(raw) {
			line := lineAt(raw, i)
			if isDelimiter(line, bounds) {
				return i
			}
			i += len(line)
		}
		return len(raw)
	})
}

// FuzzHollow puts the fuzzer's bytes around and inside a message with a
// large base64 attachment (bounds as prepareMIME finds them) and compares
// hollow with hollowByLine.
func FuzzHollow(f *testing.F) {
	for _, s := range []struct{ pre, mid, post string }{
		{"", "", ""},
		{"Content-Type: multipart/mixed; boundary=\"b1\"\r\n", "\r\n--b1\r\n", "--b1--"},
		{"boundary=b2\n\n--b2\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n", "--b2 \n--b1\n", "\n--b2--\n"},
		{"--b1\r\nX: y", "--b1\r\nContent-Type: text/plain\r\n", "\r\n--b1--\r\n--b1\r\n"},
	} {
		f.Add(s.pre, s.mid, s.post)
	}
	big := base64Body(bytes.Repeat([]byte{0xfe, 0x01, 0x7f}, 7000))
	f.Fuzz(func(t *testing.T, pre, mid, post string) {
		raw := []byte("From: a@x.example\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" + pre +
			"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big[:len(big)/2] + mid + big[len(big)/2:] +
			"--b1\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + post + "--b1--\r\n")
		prepared, closed, _ := prepareMIME(raw)
		var got, want hollowSet
		if a, b := got.hollow(prepared, closed), want.hollowByLine(prepared, closed); !bytes.Equal(a, b) || !slices.EqualFunc(got.bodies, want.bodies, bytes.Equal) {
			t.Errorf("hollow differs from hollowByLine: %d bodies, want %d", len(got.bodies), len(want.bodies))
		}
	})
}

// A message with a 3 MB attachment, as hollow reads it.
func BenchmarkHollow(b *testing.B) {
	raw := []byte("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee the brochure.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"brochure.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64Body(bytes.Repeat([]byte("Brochure of our LED panels, 2026 edition. "), 3<<20/42)) + "--b1--\r\n")
	prepared, closed, _ := prepareMIME(raw)
	for _, bc := range []struct {
		name string
		f    func(*hollowSet, []byte, map[string]bool) []byte
	}{{"new", (*hollowSet).hollow}, {"by-line", (*hollowSet).hollowByLine}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				bc.f(&hollowSet{}, prepared, closed)
			}
		})
	}
}
