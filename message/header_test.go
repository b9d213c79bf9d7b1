package message

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rawMail builds a raw message from header lines and a body, with CRLF line
// ends as on the wire.
func rawMail(body string, header ...string) []byte {
	return []byte(strings.ReplaceAll(strings.Join(header, "\n")+"\n\n"+body, "\n", "\r\n"))
}

func TestSubjectDecoding(t *testing.T) {
	tests := []struct {
		name, header, want string
		problem            bool
	}{
		{"plain", "Subject: Price list 2025", "Price list 2025", false},
		{"B utf-8", "Subject: =?UTF-8?B?5oql5Lu35Y2V?=", "报价单", false},
		{"Q utf-8", "Subject: =?utf-8?Q?Cotizaci=C3=B3n_urgente?=", "Cotización urgente", false},
		{"lower-case encoding letter", "Subject: =?utf-8?b?5oql5Lu35Y2V?=", "报价单", false},
		{"B gb2312", "Subject: =?gb2312?B?sai827WlIA==?=", "报价单", false},
		{"Q gb18030", "Subject: =?gb18030?Q?=B9=D8=D3=DA=B9=FA=C7=EC?=", "关于国庆", false},
		{"gbk label with a GB18030-only character", "Subject: =?gbk?B?sai827WllTSyNQ==?=", "报价单𠮷", false},
		{"gb2312 label with a GBK-only character", "Subject: =?gb2312?Q?=B1=A8=BC=DB=B5=A5_=E9F?=", "报价单 镕", false},
		{"big5", "Subject: =?big5?B?s/i7+bPmvdCsZKas?=", "報價單請查收", false},
		{"windows-1251", "Subject: =?windows-1251?B?x+Dv8O7xIPbl7fs=?=", "Запрос цены", false},
		{"koi8-r", "Subject: =?koi8-r?B?+sHQ0s/TIMPFztk=?=", "Запрос цены", false},
		{"iso-2022-jp", "Subject: =?ISO-2022-JP?B?GyRCOCtAUTBNTWokciQqNGokJCQ3JF4kORsoQg==?=", "見積依頼をお願いします", false},
		{"windows-1256", "Subject: =?windows-1256?B?2OHIINrR1iDT2tE=?=", "طلب عرض سعر", false},
		{"iso-8859-1", "Subject: =?iso-8859-1?Q?Cotizaci=F3n?=", "Cotización", false},
		{"windows-1252 smart quotes", "Subject: =?windows-1252?Q?=93dringend=94_=80?=", "“dringend” €", false},
		{"partial encoding", "Subject: RE: =?windows-1251?B?x+Dv8O7xIPbl7fs=?= PO3945", "RE: Запрос цены PO3945", false},
		{"glued to text", "Subject: Re:=?utf-8?B?5oql5Lu35Y2V?=", "Re:报价单", false},
		{"adjacent words join", "Subject: =?utf-8?Q?=D0=95=D1=80=D0=B6=D0=B0=D0=BD_=D0=9D=D1=83=D1=80=D0=BB=D0=B0?=\n =?utf-8?Q?=D0=BD=D0=BE=D0=B2?=", "Ержан Нурланов", false},
		// "报价单" in UTF-8 is 9 bytes: split after 4 and 5 bytes, inside "价".
		{"character split across words", "Subject: =?UTF-8?B?5oql5A==?= =?UTF-8?B?u7fljZU=?=", "报价单", false},
		{"character split, folded", "Subject: =?UTF-8?B?5oql5Ls=?=\n =?UTF-8?B?t+WNlQ==?=", "报价单", false},
		{"GBK character split across words", "Subject: =?gbk?Q?=B1=A8=BC?= =?gbk?Q?=DB?=", "报价", false},
		{"words in different charsets", "Subject: =?gb2312?B?sai827Wl?= =?utf-8?Q?_OK?=", "报价单 OK", false},
		{"missing padding", "Subject: =?UTF-8?B?5oql5Lu35Y2V5Y2V?=", "报价单单", false},
		{"raw 8-bit UTF-8", "Subject: 询价 LED灯具", "询价 LED灯具", false},
		{"raw 8-bit GBK", "Subject: \xd1\xaf\xbc\xdb LED\xb5\xc6\xbe\xdf", "询价 LED灯具", false},
		// Raw 8-bit that is neither UTF-8 nor GB18030 falls back to
		// windows-1252. ("Cotizaci\xf3n" would read as GB18030: 0xF3 0x6E
		// is a valid pair. That is the price of preferring Chinese.)
		{"raw 8-bit latin-1", "Subject: Caf\xe9", "Café", false},
		{"folded", "Subject: Request for quotation\n\t- LED panel 600x600", "Request for quotation - LED panel 600x600", false},
		{"not an encoded-word", "Subject: price =? 100", "price =? 100", false},
		{"unknown charset", "Subject: =?x-klingon?Q?Hello_world?=", "Hello world", false},
		{"unknown charset with 8-bit", "Subject: =?x-klingon?B?sai827Wl?=", "报价单", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(rawMail("body", "From: a@example.com", tt.header))
			if m.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.want)
			}
			if got := len(m.Problems) > 0; got != tt.problem {
				t.Errorf("problems = %q, want problem: %v", m.Problems, tt.problem)
			}
		})
	}
}

// TestRawHeaderHint reads raw 8-bit headers in the charset the message
// declares for its body before guessing GB18030.
func TestRawHeaderHint(t *testing.T) {
	tests := []struct{ name, subject, ct, want string }{
		{"big5 body", "\xb3\xf8\xbb\xf9\xb3\xe6", "text/plain; charset=big5", "報價單"},
		{"koi8-r body", "\xfa\xc1\xd0\xd2\xcf\xd3", "text/plain; charset=koi8-r", "Запрос"},
		{"gbk body", "\xd1\xaf\xbc\xdb", "text/plain; charset=gbk", "询价"},
		{"utf-8 body", "\xd1\xaf\xbc\xdb", "text/plain; charset=utf-8", "询价"},
		{"charset of a part", "\xfa\xc1\xd0\xd2\xcf\xd3", "multipart/mixed; boundary=b", "Запрос"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "x"
			if strings.HasPrefix(tt.ct, "multipart") {
				body = "--b\nContent-Type: text/plain; charset=koi8-r\n\nx\n--b--\n"
			}
			m := Parse(rawMail(body, "Subject: "+tt.subject, "Content-Type: "+tt.ct))
			if m.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.want)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		name, header string
		want         []Address
		problem      bool
	}{
		{"plain", "To: buyer@example.com", []Address{{Email: "buyer@example.com"}}, false},
		{"name and address", `To: "Jim Patterson" <jim@example.com>`, []Address{{"Jim Patterson", "jim@example.com"}}, false},
		{"no space before bracket", `To: "Rashid Al Mansoori"<rashid@example.ae>`, []Address{{"Rashid Al Mansoori", "rashid@example.ae"}}, false},
		{"several", `To: a@x.com, "B, Bee" <b@y.com>, C <c@z.com>`,
			[]Address{{"", "a@x.com"}, {"B, Bee", "b@y.com"}, {"C", "c@z.com"}}, false},
		{"semicolons", "To: a@x.com; b@y.com;", []Address{{"", "a@x.com"}, {"", "b@y.com"}}, false},
		{"encoded name", "From: =?UTF-8?B?5L2V5oC7IEZyYW5rIEhl?= <frank.he@nblumiway.cn>", []Address{{"何总 Frank He", "frank.he@nblumiway.cn"}}, false},
		{"encoded-word inside quotes", `From: "=?UTF-8?Q?=E8=B5=B5=E7=A3=8A?=" <zhao.lei@example.cn>`, []Address{{"赵磊", "zhao.lei@example.cn"}}, false},
		{"encoded name with comma", "To: =?utf-8?Q?Smith,_John?= <j@x.com>", []Address{{"Smith, John", "j@x.com"}}, false},
		{"gb2312 Q name", "From: =?gb2312?Q?=B2=C6=CE=F1=B2=BF_Cathy?= <finance@example.com>", []Address{{"财务部 Cathy", "finance@example.com"}}, false},
		{"raw GBK name", "From: \xb2\xc6\xce\xf1\xb2\xbf <finance@example.com>", []Address{{"财务部", "finance@example.com"}}, false},
		{"raw UTF-8 name", "From: 王凯 <kevin@example.cn>", []Address{{"王凯", "kevin@example.cn"}}, false},
		{"comment form", "From: jim@example.com (Jim Patterson)", []Address{{"Jim Patterson", "jim@example.com"}}, false},
		{"mailto in brackets", "From: Jim Patterson [mailto:jim@example.com]", []Address{{"Jim Patterson", "jim@example.com"}}, false},
		{"mailto in angle brackets", "From: Jim <mailto:jim@example.com>", []Address{{"Jim", "jim@example.com"}}, false},
		{"unquoted comma in name", "To: Smith, John <john@example.com>, b@y.com", []Address{{"Smith, John", "john@example.com"}, {"", "b@y.com"}}, false},
		{"group", "To: Sales team: a@x.com, b@y.com;, c@z.com", []Address{{"", "a@x.com"}, {"", "b@y.com"}, {"", "c@z.com"}}, false},
		{"empty group", "To: undisclosed-recipients:;", nil, false},
		{"bad entry keeps the good ones", `To: a@x.com, "broken <<, b@y.com`, []Address{{"", "a@x.com"}, {"", "b@y.com"}}, true},
		{"entry without address", "To: just a name, b@y.com", []Address{{"", "b@y.com"}}, true},
		{"unclosed bracket", "To: Jim <jim@example.com", []Address{{"Jim", "jim@example.com"}}, true},
		{"punycode kept as written", "From: info@xn--b1aecqjinsl5g.xn--p1ai", []Address{{"", "info@xn--b1aecqjinsl5g.xn--p1ai"}}, false},
		{"bare local part", "From: MAILER-DAEMON", []Address{{"", "MAILER-DAEMON"}}, false},
		{"null path", "From: <>", nil, false},
		{"comment only", "To: (no To-header on input)", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(rawMail("body", tt.header, "Subject: x"))
			got := append(append(m.From, m.To...), m.Cc...)
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("addresses = %#v, want %#v", got, tt.want)
			}
			if p := len(m.Problems) > 0; p != tt.problem {
				t.Errorf("problems = %q, want problem: %v", m.Problems, tt.problem)
			}
		})
	}
}

func TestMessageIDs(t *testing.T) {
	m := Parse(rawMail("body",
		"Message-ID: <202506090910138646166935@nblumiway.cn>",
		"In-Reply-To: <CAFNSeMZ@mail.gmail.com> (Jim's message)",
		"References: <a1@x.com>\n <a2@x.com>,<a3@x.com>",
		"References: <a4@x.com>",
	))
	if m.MessageID != "202506090910138646166935@nblumiway.cn" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if want := []string{"CAFNSeMZ@mail.gmail.com"}; !reflect.DeepEqual(m.InReplyTo, want) {
		t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, want)
	}
	if want := []string{"a1@x.com", "a2@x.com", "a3@x.com", "a4@x.com"}; !reflect.DeepEqual(m.References, want) {
		t.Errorf("References = %q, want %q", m.References, want)
	}
	for _, tt := range []struct{ in, want string }{
		{"<abc@x>", "abc@x"},
		{"  <abc@x>  (comment)", "abc@x"},
		{"abc@x", "abc@x"},
		{"<abc@x", "abc@x"},
		{"", ""},
	} {
		if got := parseMsgID(tt.in); got != tt.want {
			t.Errorf("parseMsgID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := parseMsgIDList("a1@x a2@x"); !reflect.DeepEqual(got, []string{"a1@x", "a2@x"}) {
		t.Errorf("bare ids: %q", got)
	}
}

func TestDate(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	utc := time.UTC
	tests := []struct {
		in   string
		want time.Time
	}{
		{"Mon, 09 Jun 2025 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 09:10:13 +0800 (CST)", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"9 Jun 2025 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 09:10 +0800", time.Date(2025, 6, 9, 9, 10, 0, 0, cst)},
		{"Mon, 9 Jun 25 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 01:10:13 GMT", time.Date(2025, 6, 9, 1, 10, 13, 0, utc)},
		{"Mon, 9 Jun 2025 09:10:13 GMT+8", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 09:10:13 GMT+08:00", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 09:10:13 +08:00", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Monday, June 9, 2025 9:10:13 AM +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 9:10:13 PM +0800", time.Date(2025, 6, 9, 21, 10, 13, 0, cst)},
		{"Mon Jun  9 01:10:13 2025", time.Date(2025, 6, 9, 1, 10, 13, 0, utc)},
		{"2025-06-09T09:10:13+08:00", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"2025-06-09 01:10:13", time.Date(2025, 6, 9, 1, 10, 13, 0, utc)},
		{"2025/06/09 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"09.06.2025 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"martes, 9 de junio de 2025 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"Mon, 9 Jun 2025 09:10:13 JST", time.Date(2025, 6, 9, 9, 10, 13, 0, time.FixedZone("", 9*3600))},
		{"Mon,9 Jun 2025 09:10:13 +0800", time.Date(2025, 6, 9, 9, 10, 13, 0, cst)},
		{"not a date", time.Time{}},
		{"Mon, 31 Jun 2025 09:10:13 +0800", time.Time{}},
		{"Thu, 13 Feb 1969 23:32:54 -0330", time.Date(1969, 2, 13, 23, 32, 54, 0, time.FixedZone("", -(3*3600+30*60)))},
		{"Mon, 9 Jun 1899 09:10:13 +0800", time.Time{}},
		{"Mon, 30 Jun 3609 15:33:50 +0600", time.Time{}},
		{"Wed, 15 Dec 2010 59:10 -0500", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got := parseDate(tt.in)
		if !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
			t.Errorf("parseDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if m := Parse(rawMail("x", "Date: garbage")); !m.Date.IsZero() || !m.Malformed {
		t.Errorf("unparseable Date: Date=%v Malformed=%v", m.Date, m.Malformed)
	}
	if m := Parse(rawMail("x", "Subject: no date")); !m.Date.IsZero() || m.Malformed {
		t.Errorf("missing Date: Date=%v Problems=%q", m.Date, m.Problems)
	}
}

func TestHeaderMap(t *testing.T) {
	m := Parse(rawMail("body",
		"From: a@x.com",
		"Auto-Submitted: auto-replied",
		"X-Auto-Response-Suppress: All",
		"Precedence: bulk",
		"precedence: list",
		"List-Unsubscribe: <mailto:unsub@x.com>,\n <https://x.com/u>",
		"List-Id: News <news.x.com>",
		"X-Autoreply: yes",
		"X-Autorespond: yes",
		"X-Mailer: Foxmail 7.2",
		"Return-Path: <bounce@x.com>",
		"X-Failed-Recipients: gone@y.com",
		"Content-Type: text/plain; charset=\"utf-8\"",
		"X-Unrelated: dropped",
	))
	want := map[string]string{
		"Auto-Submitted":           "auto-replied",
		"X-Auto-Response-Suppress": "All",
		"Precedence":               "bulk",
		"List-Unsubscribe":         "<mailto:unsub@x.com>, <https://x.com/u>",
		"List-Id":                  "News <news.x.com>",
		"X-Autoreply":              "yes",
		"X-Autorespond":            "yes",
		"X-Mailer":                 "Foxmail 7.2",
		"Return-Path":              "<bounce@x.com>",
		"X-Failed-Recipients":      "gone@y.com",
		"Content-Type":             `text/plain; charset="utf-8"`,
	}
	if !reflect.DeepEqual(m.Header, want) {
		t.Errorf("Header = %q\nwant %q", m.Header, want)
	}
	if got := m.HeaderValue("list-id"); got != "News <news.x.com>" {
		t.Errorf("HeaderValue(list-id) = %q", got)
	}
	if m.ContentType != "text/plain" {
		t.Errorf("ContentType = %q", m.ContentType)
	}
}

func TestMalformedHeaderLines(t *testing.T) {
	raw := []byte("From: a@x.com\r\nthis line has no colon\r\nSubject: still read\r\n\r\nbody")
	m := Parse(raw)
	if m.Subject != "still read" || len(m.From) != 1 || !m.Malformed {
		t.Errorf("Subject=%q From=%v Problems=%q", m.Subject, m.From, m.Problems)
	}
	// An mbox "From " line before the header is skipped without a problem.
	m = Parse([]byte("From sender@x.com Mon Jun  9 09:10:13 2025\nSubject: mbox\n\nbody"))
	if m.Subject != "mbox" || m.Malformed {
		t.Errorf("mbox: Subject=%q Problems=%q", m.Subject, m.Problems)
	}
}

// TestNoNULOrBadUTF8: whatever a header decodes to, every string of the
// message is one PostgreSQL stores (valid UTF-8, no NUL).
func TestNoNULOrBadUTF8(t *testing.T) {
	raw := "From: =?utf-8?Q?Li=00Wei?= <li@acme.example>\r\nTo: =?iso-8859-1?Q?=FF=00?= <a\x00b@ours.example>\r\n" +
		"Subject: =?utf-8?Q?RFQ=00=FF?=\r\nMessage-ID: <a\x00b@acme.example>\r\nReferences: <r\x00@x>\r\nX-Mailer: a\x00b\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n" +
		"--zz\r\nContent-Type: text/plain\r\n\r\nhello\x00 \xff\r\n" +
		"--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''a%00b%FF.pdf\r\n\r\nxx\r\n--zz--\r\n"
	m := Parse([]byte(raw))
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if s := v.String(); strings.Contains(s, "\x00") || !utf8.ValidString(s) {
				t.Errorf("%s = %q: NUL or invalid UTF-8", path, s)
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+"["+k.String()+"]", v.MapIndex(k))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(path+"."+v.Type().Field(i).Name, v.Field(i))
				}
			}
		}
	}
	walk("Message", reflect.ValueOf(*m))
	if m.Subject == "" || len(m.From) != 1 || m.From[0].Name != "LiWei" || len(m.Attachments) != 1 {
		t.Errorf("subject %q, from %+v, %d attachments: the header was lost, not cleaned", m.Subject, m.From, len(m.Attachments))
	}
}
