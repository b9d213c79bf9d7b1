package matcher

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// The corpus README's free-mail rule, the Chinese providers the field notes
// insist on, and the Russian, European and Latin American ones.
var mustBeFree = []string{
	// corpus README
	"126.com", "163.com", "aliyun.com", "aol.com", "bk.ru", "bol.com.br", "foxmail.com", "gmail.com",
	"gmx.de", "gmx.net", "googlemail.com", "hotmail.co.uk", "hotmail.com", "hotmail.es", "hotmail.fr",
	"icloud.com", "inbox.ru", "list.ru", "live.com", "mail.ru", "me.com", "msn.com", "naver.com",
	"outlook.com", "protonmail.com", "qq.com", "rambler.ru", "rediffmail.com", "sina.com", "sohu.com",
	"t-online.de", "terra.com.br", "uol.com.br", "web.de", "ya.ru", "yahoo.co.jp", "yahoo.co.uk",
	"yahoo.com", "yahoo.com.hk", "yahoo.com.tw", "yahoo.es", "yandex.com", "yandex.ru", "yeah.net",
	"ymail.com", "zoho.com",
	// Chinese
	"vip.qq.com", "139.com", "189.cn", "sina.cn", "tom.com", "21cn.com", "vip.163.com", "188.com",
	// Russian and CIS
	"internet.ru", "ukr.net",
	// European
	"orange.fr", "free.fr", "laposte.net", "libero.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl",
	"abv.bg", "freenet.de", "arcor.de", "btinternet.com", "sapo.pt", "bluewin.ch",
	// Latin American
	"ig.com.br", "globo.com", "yahoo.com.br", "yahoo.com.mx", "prodigy.net.mx", "yahoo.com.ar",
	"hotmail.com.ar", "fibertel.com.ar", "vtr.net",
}

// Companies that upstream lists mark as free-mail, removed in review.
var mustNotBeFree = []string{"alibaba.com", "telekom.de", "suse.de", "facebook.com", "nus.edu.sg",
	"lumiway-lighting.com", "sunrise-trading.ae", "net.ua", "com.br", "co.uk"}

func TestDefaultFreeMail(t *testing.T) {
	f := DefaultFreeMail()
	if f.Len() < 10000 {
		t.Errorf("only %d free-mail domains embedded", f.Len())
	}
	for _, d := range mustBeFree {
		if !f.Contains(d) {
			t.Errorf("%s is not free-mail", d)
		}
	}
	for _, d := range mustNotBeFree {
		if f.Contains(d) {
			t.Errorf("%s is free-mail", d)
		}
	}
	if !f.Contains("mail.yahoo.co.jp") {
		t.Error("a subdomain of a free-mail domain is not free-mail")
	}
	if f.Contains("notgmail.com") {
		t.Error("notgmail.com counted as gmail.com")
	}
}

// The embedded file must say where it comes from and under what licence.
func TestFreeMailHeader(t *testing.T) {
	f, err := os.Open("freemail.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() && strings.HasPrefix(sc.Text(), "#") {
		header.WriteString(sc.Text() + "\n")
	}
	for _, want := range []string{"free-email-domains@", "MIT", "freemail_refresh.sh"} {
		if !strings.Contains(header.String(), want) {
			t.Errorf("freemail.txt header lacks %q", want)
		}
	}
}

func TestFreeMailWith(t *testing.T) {
	base := NewFreeMail("gmail.com", "co.uk", "not a domain")
	if base.Len() != 1 {
		t.Errorf("NewFreeMail kept %d domains, want 1 (public suffix and junk dropped)", base.Len())
	}
	f := base.With([]string{"Corp-Mail.Example", "bücher-mail.de"}, []string{"gmail.com"})
	if !f.Contains("corp-mail.example") || !f.Contains("xn--bcher-mail-9db.de") || f.Contains("gmail.com") {
		t.Errorf("With: %v", f.set)
	}
	if !base.Contains("gmail.com") {
		t.Error("With changed the receiver")
	}
	if f2 := (FreeMail{}).With([]string{"a.example"}, nil); f2.Len() != 1 || f2.IsZero() {
		t.Error("With on the zero value")
	}
}

func TestParseFreeMail(t *testing.T) {
	f, err := ParseFreeMail(strings.NewReader("# comment\n\ngmail.com\nQQ.com  trailing note\n"))
	if err != nil || f.Len() != 2 || !f.Contains("qq.com") {
		t.Fatalf("ParseFreeMail: %v, %d", err, f.Len())
	}
	if _, err := ParseFreeMail(strings.NewReader("gmail.com\nnot@domain\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("junk line: err = %v", err)
	}
}

// A free-mail list drives domain matching: removing gmail.com makes a row
// that lists it match by domain; the zero value means the default list; an
// explicitly empty list makes gmail.com an ordinary corporate domain.
func TestFreeMailInDirectory(t *testing.T) {
	d := Directory{Customers: []Customer{{ID: 1, Name: "G", Domains: []string{"gmail.com"}}}}
	if r := New(d).Resolve(Addr{Email: "x@gmail.com"}); r.Class != ClassNewEmail {
		t.Errorf("zero FreeMail: %v, want new_email (default list)", r.Class)
	}
	d.FreeMail = DefaultFreeMail().With(nil, []string{"gmail.com"})
	if r := New(d).Resolve(Addr{Email: "x@gmail.com"}); r.Class != ClassCustomer {
		t.Errorf("gmail.com removed: %v, want customer", r.Class)
	}
	d.Customers = nil
	d.FreeMail = NewFreeMail()
	if r := New(d).Resolve(Addr{Email: "x@gmail.com"}); r.Class != ClassNewDomain {
		t.Errorf("empty list: %v, want new_domain", r.Class)
	}
}
