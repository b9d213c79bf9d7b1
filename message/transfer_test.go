package message

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// base64CountByClass is base64Count as first written, one class per byte:
// the faster one must count the same.
func base64CountByClass(b []byte) (n int, bad bool) {
	var count [3]int
	for _, c := range b {
		count[base64Class[c]]++
	}
	return count[1], count[2] > 0
}

var base64Seeds = []string{
	"", "QQ==", "aGVs\r\nbG8g\r\nd29y bGQ=\r\n", "aGVs!bG8=", "aGVsbG8", "a\tb c=d\n", "\xff\x00AAAA",
	"QUJD=QUJD", "====", "AAAAAAAAAAAAAAAA-AAAA", "AAAAAAAA\r\nAAAAAAAA\r\nAAAAAAA_", "é",
}

func FuzzBase64Count(f *testing.F) {
	long := []byte(base64Body(bytes.Repeat([]byte{0xfb, 0xef, 0x00, 'x'}, 5000)))
	for _, b := range append([][]byte{long, append(long[:len(long):len(long)], '*')}, bytesOf(base64Seeds)...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, bad := base64Count(b)
		if wn, wbad := base64CountByClass(b); n != wn || bad != wbad {
			t.Errorf("%q: got %d, %v; want %d, %v", b, n, bad, wn, wbad)
		}
	})
}

func bytesOf(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// A 3 MB attachment's body, as hollow and decodedSize read it.
func BenchmarkBase64Count(b *testing.B) {
	body := []byte(base64Body(bytes.Repeat([]byte("Brochure of our LED panels, 2026 edition. "), 3<<20/42)))
	for _, bc := range []struct {
		name string
		f    func([]byte) (int, bool)
	}{{"new", base64Count}, {"by-class", base64CountByClass}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				bc.f(body)
			}
		})
	}
}

// decodeBase64Cleaned is decodeBase64Body as first written, which copies
// out the alphabet before decoding: the fast path must decode the same.
func decodeBase64Cleaned(b []byte) (out []byte, bad bool) {
	return decodeBase64Filtered(b, make([]byte, base64.RawStdEncoding.DecodedLen(len(b))))
}

var decodeSeeds = append([]string{"QUJD\r\nRA==\r\n", "QUJDRA=\r\n", "QUJDRA", "QUJDRA==\r\nQUJD", "QUJDRA==x", "QUI=", "QR==",
	"QUJDRA==\n\n", "\r\nQUJD\r\n\r\n", "QUJ", "Q", "QUJDR", "QUJD RA==", "QUJD\tRA==", "QU=JD", "QUJD====", "=QUJD"}, base64Seeds...)

func FuzzDecodeBase64Body(f *testing.F) {
	long := []byte(base64Body(bytes.Repeat([]byte{0xfb, 0xef, 0x00, 'x', 'y'}, 5000)))
	for _, b := range append([][]byte{long, long[:len(long)-3], append(long[:len(long):len(long)], '*')}, bytesOf(decodeSeeds)...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, bad := decodeBase64Body(b)
		if want, wbad := decodeBase64Cleaned(b); !bytes.Equal(out, want) || bad != wbad {
			t.Errorf("%q: got %q, %v; want %q, %v", b, out, bad, want, wbad)
		}
	})
}

// A 3 MB document, as Attachment.Content decodes it.
func BenchmarkDecodeBase64Body(b *testing.B) {
	body := []byte(base64Body(bytes.Repeat([]byte("Brochure of our LED panels, 2026 edition. "), 3<<20/42)))
	for _, bc := range []struct {
		name string
		f    func([]byte) ([]byte, bool)
	}{{"new", decodeBase64Body}, {"cleaned", decodeBase64Cleaned}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				bc.f(body)
			}
		})
	}
}

func FuzzBase64Prefix(f *testing.F) {
	long := []byte(base64Body(bytes.Repeat([]byte("%PDF-1.7\n\xfb\xef"), 500)))
	for _, b := range append([][]byte{long, long[:len(long)-5]}, bytesOf(decodeSeeds)...) {
		for _, n := range []int{-1, 0, 1, 2, 3, 4, 5, 6, 7, 1024, 1 << 20} {
			f.Add(b, n)
		}
	}
	f.Fuzz(checkBase64Prefix)
}

// checkBase64Prefix: the prefix is as long as asked (or all there is) and
// begins what decodeBase64Body decodes.
func checkBase64Prefix(t *testing.T, b []byte, n int) {
	all, _ := decodeBase64Body(b)
	got := base64Prefix(b, n)
	if len(got) < min(max(n, 0), len(all)) || !bytes.HasPrefix(all, got) {
		t.Errorf("%.40q, %d: got %.40q, whole %.40q", b, n, got, all)
	}
}
