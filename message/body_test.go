package message

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBodyCharsets decodes a text/plain body in every charset of the dev
// corpus, in each transfer encoding. GBK and GB2312 labels are decoded as
// GB18030.
func TestBodyCharsets(t *testing.T) {
	tests := []struct {
		charset string
		raw     string // body bytes in the charset
		want    string
	}{
		{"utf-8", "Solicitud de cotización 报价", "Solicitud de cotización 报价"},
		{"us-ascii", "Please quote 300 pcs.", "Please quote 300 pcs."},
		{"iso-8859-1", "Cotizaci\xf3n \x93precio\x94", "Cotización “precio”"}, // C1 bytes read as windows-1252
		{"windows-1252", "Preisanfrage f\xfcr Leuchten \x96 \x93dringend\x94 \x80", "Preisanfrage für Leuchten – “dringend” €"},
		{"big5", "\xb3\xf8\xbb\xf9\xb3\xe6\xbd\xd0\xacd\xa6\xac", "報價單請查收"},
		{"gbk", "\xb1\xa8\xbc\xdb\xb5\xa5 \xe9F", "报价单 镕"},
		{"gb2312", "\xb1\xa8\xbc\xdb\xb5\xa5 \xe9F", "报价单 镕"}, // 镕 is GBK, not GB2312
		{"gbk", "\xb1\xa8\xbc\xdb\xb5\xa5\x954\xb25", "报价单𠮷"}, // a GB18030 four-byte character
		{"gb18030", "\xb1\xa8\xbc\xdb\xb5\xa5\x954\xb25", "报价单𠮷"},
		{"windows-1251", "\xc7\xe0\xef\xf0\xee\xf1 \xf6\xe5\xed\xfb", "Запрос цены"},
		{"koi8-r", "\xfa\xc1\xd0\xd2\xcf\xd3 \xc3\xc5\xce\xd9", "Запрос цены"},
		{"iso-2022-jp", "\x1b$B8+@Q0MMj$r$*4j$$$7$^$9\x1b(B", "見積依頼をお願いします"},
		{"windows-1256", "\xd8\xe1\xc8 \xda\xd1\xd6 \xd3\xda\xd1", "طلب عرض سعر"},
		{"GB2312", "\xb1\xa8\xbc\xdb", "报价"}, // label case
		{`"gbk"`, "\xb1\xa8\xbc\xdb", "报价"},  // quoted label
		{"cp936", "\xb1\xa8\xbc\xdb", "报价"},  // alias
		{"utf8", "报价", "报价"},                 // alias
		{"gb2312", "报价单", "报价单"},             // mislabelled UTF-8
		{"", "\xb1\xa8\xbc\xdb", "报价"},       // no charset, 8-bit GBK
		{"", "naïve", "naïve"},               // no charset, 8-bit UTF-8
		{"us-ascii", "Caf\xe9 ", "Café"},     // mislabelled, guessed (with a problem)
		{"x-unknown-cs", "plain ascii", "plain ascii"},
	}
	for _, tt := range tests {
		for _, cte := range []string{"8bit", "base64", "quoted-printable"} {
			name := fmt.Sprintf("%s/%s/%s", tt.charset, cte, tt.want)
			t.Run(name, func(t *testing.T) {
				ct := "text/plain"
				if tt.charset != "" {
					ct += "; charset=" + tt.charset
				}
				raw := rawMail(encodeCTE(tt.raw, cte), "From: a@x.com", "Subject: s", "MIME-Version: 1.0",
					"Content-Type: "+ct, "Content-Transfer-Encoding: "+cte)
				m := Parse(raw)
				if m.Text != tt.want {
					t.Errorf("Text = %q, want %q", m.Text, tt.want)
				}
				wantProblem := tt.charset == "us-ascii" && !isASCII([]byte(tt.raw))
				if got := len(m.Problems) > 0; got != wantProblem {
					t.Errorf("Problems = %q, want problem: %v", m.Problems, wantProblem)
				}
			})
		}
	}
}

func TestMislabelledJapanese(t *testing.T) {
	// "見積" in EUC-JP, labelled iso-2022-jp (a 7-bit charset).
	m := Parse(rawMail("\xb8\xab\xc0\xd1", "Content-Type: text/plain; charset=iso-2022-jp", "Content-Transfer-Encoding: 8bit"))
	if m.Text != "見積" || !m.Malformed {
		t.Errorf("Text = %q, Problems = %q", m.Text, m.Problems)
	}
}

func TestUnknownCharset(t *testing.T) {
	m := Parse(rawMail("\xb1\xa8\xbc\xdb", "Content-Type: text/plain; charset=x-mystery"))
	if m.Text != "报价" {
		t.Errorf("Text = %q, want best effort %q", m.Text, "报价")
	}
	if !m.Malformed || !strings.Contains(strings.Join(m.Problems, "|"), `unknown charset "x-mystery"`) {
		t.Errorf("Problems = %q", m.Problems)
	}
}

// encodeCTE applies a transfer encoding to body bytes.
func encodeCTE(s, cte string) string {
	switch cte {
	case "base64":
		return b64Lines(s)
	case "quoted-printable":
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 0x80 || c == '=' || c < 0x20 {
				fmt.Fprintf(&b, "=%02X", c)
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return s
}

func b64Lines(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out strings.Builder
	b := []byte(s)
	n := 0
	for i := 0; i < len(b); i += 3 {
		var v uint32
		k := min(3, len(b)-i)
		for j := 0; j < 3; j++ {
			v <<= 8
			if j < k {
				v |= uint32(b[i+j])
			}
		}
		for j := 0; j < 4; j++ {
			if j <= k {
				out.WriteByte(alphabet[(v>>(18-6*j))&63])
			} else {
				out.WriteByte('=')
			}
		}
		if n += 4; n >= 76 {
			out.WriteByte('\n')
			n = 0
		}
	}
	return out.String()
}

func TestHTMLBody(t *testing.T) {
	html := `<html><head><title>Ignored title</title><style>p{color:red}</style>
<script>alert("x")</script></head><body>
<p>Dear&nbsp;Amy,</p><div>Please quote:<br>1. LED panel   600x600</div>
<table><tr><td>Item</td><td>Qty</td></tr><tr><td>Panel</td><td>300</td></tr></table>
<ul><li>one</li><li>two</li></ul>
<p>Best&nbsp;regards,<br>Jim</p>
<blockquote><div>On Mon, Jim wrote:</div><div>old text</div></blockquote>
</body></html>`
	m := Parse(rawMail(html, "Content-Type: text/html; charset=utf-8"))
	want := "Dear Amy,\n\nPlease quote:\n1. LED panel 600x600\n\nItem Qty\nPanel 300\n\none\ntwo\n\nBest regards,\nJim\n\n> On Mon, Jim wrote:\n> old text"
	if m.Text != want {
		t.Errorf("Text =\n%s\nwant\n%s", m.Text, want)
	}
	if m.NewText != "Dear Amy,\n\nPlease quote:\n1. LED panel 600x600\n\nItem Qty\nPanel 300\n\none\ntwo\n\nBest regards,\nJim" {
		t.Errorf("NewText =\n%s", m.NewText)
	}
	// A charset named only in <meta>.
	gbk := "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head><body>\xb1\xa8\xbc\xdb</body></html>"
	if m := Parse(rawMail(gbk, "Content-Type: text/html")); m.Text != "报价" || m.Malformed {
		t.Errorf("meta charset: Text=%q Problems=%q", m.Text, m.Problems)
	}
}

func TestMultipart(t *testing.T) {
	raw := rawMail(`--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=gbk
Content-Transfer-Encoding: base64

`+b64Lines("\xb1\xa8\xbc\xdb\xb5\xa5\xc7\xeb\xb2\xe9\xca\xd5")+`
--alt
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>HTML version</p><img src="cid:logo">
--rel
Content-Type: image/png
Content-ID: <logo>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--alt--
--outer
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;
	name*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.xlsx
Content-Disposition: attachment;
	filename*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.xlsx
Content-Transfer-Encoding: base64

UEsDBAoAAAAAAA==
--outer
Content-Type: application/pdf; name="=?utf-8?B?5Zu+57q4LnBkZg==?="
Content-Disposition: attachment; filename="=?utf-8?B?5Zu+57q4LnBkZg==?="
Content-Transfer-Encoding: base64

JVBERi0=
--outer
Content-Type: application/octet-stream
Content-Disposition: attachment;
	filename*0*=gb2312''%B2%C9%B9%BA;
	filename*1*=%BA%CF%CD%AC;
	filename*2=".pdf"

JVBERi0xLjQ=
--outer
Content-Type: image/jpeg; name="photo 1.jpg"

/9j/4AAQ
--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment

attached text, not body
--outer
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="C:\Users\x\winmail.dat"

eJ8+IgA=
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename==?gb2312?B?sai827Wl?=.pdf

JVBERi0=
--outer--
`, "From: a@x.com", "MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="outer"`)
	m := Parse(raw)
	if m.Text != "报价单请查收" {
		t.Errorf("Text = %q, want the text/plain alternative", m.Text)
	}
	if m.ContentType != "multipart/mixed" {
		t.Errorf("ContentType = %q", m.ContentType)
	}
	want := []Attachment{
		{"", "image/png", 8, true, nil},
		{"报价单.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 10, false, nil},
		{"图纸.pdf", "application/pdf", 5, false, nil},
		{"采购合同.pdf", "application/octet-stream", 12, false, nil}, // no transfer encoding: raw size
		{"photo 1.jpg", "image/jpeg", 8, false, nil},
		{"notes.txt", "text/plain", 23, false, nil},
		{"winmail.dat", "application/ms-tnef", 8, false, nil},
		{"报价单.pdf", "application/pdf", 8, false, nil},
	}
	// Documents (PDF, XLSX) keep their decoded content, nothing else does.
	got := slices.Clone(m.Attachments)
	for i, a := range got {
		if c := a.Content(); IsDocument(a.Filename, a.ContentType) != (c != nil) || (c != nil && len(c) != a.Size) {
			t.Errorf("attachment %q: content of %d bytes, size %d", a.Filename, len(c), a.Size)
		}
		got[i].doc = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Attachments =\n%#v\nwant\n%#v", got, want)
	}
	if m.Malformed {
		t.Errorf("Problems = %q", m.Problems)
	}
}

func TestAlternativeHTMLOnly(t *testing.T) {
	raw := rawMail(`--a
Content-Type: text/plain; charset=utf-8

--a
Content-Type: text/html; charset=big5
Content-Transfer-Encoding: quoted-printable

<div>=B3=F8=BB=F9=B3=E6</div>
--a--
`, `Content-Type: multipart/alternative; boundary=a`)
	if m := Parse(raw); m.Text != "報價單" {
		t.Errorf("Text = %q: an empty plain part must not win", m.Text)
	}
}

func TestLimits(t *testing.T) {
	body := strings.Repeat("line of text\n", 1000)
	raw := rawMail(body, "From: a@x.com", "Subject: big", "Content-Type: text/plain")
	m := ParseLimit(raw, 1000)
	if m.Subject != "big" || len(m.From) != 1 || m.Text != "" || !m.Malformed ||
		!strings.Contains(m.Problems[0], "headers only") {
		t.Errorf("over the limit: Subject=%q Text=%d bytes Problems=%q", m.Subject, len(m.Text), m.Problems)
	}
	if m := ParseLimit(raw, 0); m.Malformed || m.Text == "" {
		t.Errorf("limit 0 means MaxParseSize: Problems=%q", m.Problems)
	}

	// 10,000 nested multiparts take enmime minutes: refused by the count
	// of delimiter lines, the body is read as plain text.
	var b strings.Builder
	b.WriteString("From: a@x.com\r\nSubject: deep\r\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	for i := 9999; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	start := time.Now()
	m = Parse([]byte(b.String()))
	if m.Subject != "deep" || !m.Malformed || !strings.Contains(strings.Join(m.Problems, "|"), "MIME structure too large") ||
		!strings.Contains(m.Text, "hello") {
		t.Errorf("deep nesting: Subject=%q Problems=%q", m.Subject, m.Problems)
	}
	// The same with the delimiters in the middle of a line, which enmime
	// accepts for a multipart's first part: no line starts with "--".
	b.Reset()
	b.WriteString("From: a@x.com\r\nSubject: deeper\r\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\nx--b%d \r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	m = Parse([]byte(b.String()))
	if m.Subject != "deeper" || !strings.Contains(strings.Join(m.Problems, "|"), "MIME structure too deep") {
		t.Errorf("deep nesting, mid-line delimiters: Subject=%q Problems=%q", m.Subject, m.Problems)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("deep nesting took %v", d)
	}

	// Nested multiparts never closed (a truncated message): closed by
	// prepareMIME, flagged, fast.
	b.Reset()
	b.WriteString("Subject: truncated\r\n")
	for i := range 40 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	start = time.Now()
	if m := Parse([]byte(b.String())); m.Text != "hello" || !strings.Contains(strings.Join(m.Problems, "|"), "never closed") {
		t.Errorf("truncated: Text=%q Problems=%q", m.Text, m.Problems)
	}
	// The same crafted to hide from prepareMIME: an RFC 2047-encoded
	// parameter name (enmime decodes it) and mid-line delimiters. The
	// unclosed-multipart budget keeps enmime's doubling per level small.
	b.Reset()
	b.WriteString("Subject: crafted\r\n")
	for i := range 40 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; =?utf-8?Q?boundary?==b%d\r\n\r\nx--b%d \r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	if m := Parse([]byte(b.String())); !strings.Contains(strings.Join(m.Problems, "|"), "too deep") {
		t.Errorf("crafted: Problems=%q", m.Problems)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("unclosed nesting took %v", d)
	}

	// Millions of tiny parts.
	raw = []byte("Subject: parts\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" + strings.Repeat("--x\r\n\r\na\r\n", 500000))
	if m := Parse(raw); !strings.Contains(strings.Join(m.Problems, "|"), "MIME structure too large") {
		t.Errorf("many parts: Problems=%q", m.Problems)
	}

	// Moderate nesting is parsed.
	b.Reset()
	b.WriteString("Subject: nested\r\n")
	for i := range 20 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello\r\n")
	for i := 19; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	if m := Parse([]byte(b.String())); m.Text != "hello" || m.Malformed {
		t.Errorf("20 levels: Text=%q Problems=%q", m.Text, m.Problems)
	}
}

func TestBrokenInput(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":             "",
		"only header":       "Subject: x",
		"binary":            "\x00\x01\x02\xff\xfe",
		"no blank line":     "From: a@x.com\r\nSubject: x\r\nbody without separator",
		"missing boundary":  "Content-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n",
		"unclosed boundary": "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
		"bad base64":        "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!aGVsbG8=",
		"bad qp":            "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nprice =ZZ 100",
		"bad cte":           "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nhello",
		"bad content type":  "Content-Type: text/plain; charset=\"utf-8\r\n\r\nhello",
	} {
		t.Run(name, func(t *testing.T) {
			m := Parse([]byte(raw))
			checkInvariants(t, name, m)
		})
	}
	if m := Parse([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n")); m.Text != "hello" || !m.Malformed {
		t.Errorf("unclosed boundary: Text=%q Problems=%q", m.Text, m.Problems)
	}
}

// Transfer encodings are undone by the walker (enmime leaves them): base64
// with line breaks, quoted-printable with soft breaks and trailing blanks;
// bad characters or escapes are kept or skipped, and flagged.
func TestTransferDecoding(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
		decode   func([]byte) ([]byte, bool)
	}{
		{"aGVs\r\nbG8g\r\nd29y bGQ=\r\n", "hello world", false, decodeBase64Body},
		{"aGVs!bG8=", "hello", true, decodeBase64Body},
		{"aGVsbG8", "hello", false, decodeBase64Body},
		{"caf=C3=A9 =\r\nau lait  \r\nprix =3D 5", "café au lait\r\nprix = 5", false, decodeQuotedPrintable},
		{"soft=\nbreak=  \nand end=", "softbreakand end", false, decodeQuotedPrintable},
		{"price =ZZ 100", "price =ZZ 100", true, decodeQuotedPrintable},
	} {
		got, bad := tc.decode([]byte(tc.in))
		if string(got) != tc.want || bad != tc.bad {
			t.Errorf("%q: got %q (bad %v), want %q (bad %v)", tc.in, got, bad, tc.want, tc.bad)
		}
	}
	// An attachment is measured without being decoded.
	m := Parse([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the PI.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=pi.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"JVBERi0xLjQK\r\nJeLjz9MK\r\n--b--\r\n"))
	if len(m.Attachments) != 1 || m.Attachments[0].Size != 15 || m.Malformed {
		t.Errorf("attachments %+v, malformed %v: want one of 15 bytes", m.Attachments, m.Malformed)
	}
}

// normalizeTextMapped is normalizeText as first written, which always
// ran strings.Map: normalizeText must return the same.
func normalizeTextMapped(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return trimLines(dropStrayRunes(s))
}

var normalizeSeeds = []string{
	"", "plain text\nline two  \n", "crlf\r\nand cr\rend", "nul\x00 bell\a del\x7f", "\ufeffbom", "bad \xff utf-8",
	"\uFFFD genuine replacement", "tab\tkept", "中文 text\r\n", "\xe2\x80", "\x1b[0m",
}

func FuzzNormalizeText(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normalizeText(s), normalizeTextMapped(s); got != want {
			t.Errorf("normalizeText(%q) = %q, want %q", s, got, want)
		}
	})
}
