package matcher

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Run with:
//
//	go test ./matcher/ -run '^$' -bench . -benchmem
//
// The index is built once (100,000 customers, 1,000,000 contacts) and its
// retained heap reported as MB-index.

const (
	benchCustomers = 100_000
	benchContacts  = 10 // per customer: 1,000,000 in all
)

var benchIndex = sync.OnceValue(func() *benchFixture {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	fx := buildBench() // the Directory is dropped inside: only the index stays
	build := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	fx.build = build
	fx.indexMB = float64(after.HeapAlloc-before.HeapAlloc-fx.envBytes) / (1 << 20)
	return fx
})

type benchFixture struct {
	m        *Matcher
	envs     []Envelope
	envBytes uint64 // heap held by envs, subtracted from the index figure
	build    time.Duration
	indexMB  float64
}

var (
	syllables = strings.Fields("ka lo mi ra tu ven sol lux tek nor bri gal fen dar mor sil vo an el is ur pa zen qui ro be")
	firsts    = strings.Fields("john maria li wei ahmed fatima carlos ana ivan olga hans sabine kenji yuki pedro lucia omar amina david sarah raj priya tom emma")
	tlds      = strings.Fields("com co.uk de com.br ru ae com.au es fr it com.mx in co.za pl nl com.tr")
	frees     = strings.Fields("gmail.com qq.com 163.com mail.ru yahoo.com outlook.com hotmail.com yandex.ru")
)

func word(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	return b.String()
}

func title(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

func buildBench() *benchFixture {
	r := rand.New(rand.NewPCG(1, 2))
	d := Directory{
		CompanyDomains: []string{"lumiway-lighting.com", "nblumiway.cn"},
		RepAddresses:   []string{"amy@nblumiway.cn", "kevin@nblumiway.cn"},
	}
	for i := range benchCustomers {
		id := strconv.FormatInt(int64(i), 36)
		c := Customer{ID: int64(i + 1), Name: fmt.Sprintf("%s %s Lighting Co., Ltd.", title(word(r, 2)), title(word(r, 2)))}
		c.Domains = []string{word(r, 2) + "-" + word(r, 1) + id + "." + tlds[r.IntN(len(tlds))]}
		if r.IntN(5) == 0 {
			c.Domains = append(c.Domains, word(r, 3)+id+"."+tlds[r.IntN(len(tlds))])
		}
		for k := range benchContacts {
			first, last := firsts[r.IntN(len(firsts))], word(r, 3)
			email := first + "." + last + "@" + c.Domains[0]
			if k >= 8 {
				email = first + "." + last + id + "@" + frees[r.IntN(len(frees))]
			}
			c.Emails = append(c.Emails, Contact{Email: email, Name: first + " " + last})
		}
		d.Customers = append(d.Customers, c)
	}
	fx := &benchFixture{m: New(d)}
	fx.envs, fx.envBytes = benchEnvelopes(r, d)
	return fx
}

// benchEnvelopes is a mix of the traffic a rep's mailbox sees.
func benchEnvelopes(r *rand.Rand, d Directory) ([]Envelope, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep := []Addr{{Name: "Amy Chen", Email: "amy@nblumiway.cn"}}
	colleague := []Addr{{Email: "kevin@lumiway-lighting.com"}}
	contact := func() Addr {
		c := d.Customers[r.IntN(len(d.Customers))]
		e := c.Emails[r.IntN(len(c.Emails))]
		return Addr{Name: e.Name, Email: strings.ToUpper(e.Email[:1]) + e.Email[1:]}
	}
	var envs []Envelope
	for i := range 1024 {
		var e Envelope
		switch p := i % 20; {
		case p < 6: // known contact writes in
			e = Envelope{From: []Addr{contact()}, To: rep, Cc: colleague}
		case p < 10: // unknown colleague of a customer, from a subdomain
			c := d.Customers[r.IntN(len(d.Customers))]
			e = Envelope{From: []Addr{{Name: "New Person", Email: "someone@sales." + c.Domains[0]}}, To: rep}
		case p < 13: // rep answers a contact
			e = Envelope{From: rep, To: []Addr{contact()}, Cc: colleague}
		case p < 15: // new corporate buyer
			e = Envelope{From: []Addr{{Name: "Peter Okafor", Email: "peter@" + word(r, 3) + "-projects.com.ng"}}, To: rep}
		case p < 17: // new free-mail buyer
			e = Envelope{From: []Addr{{Name: "Kim Jae-won", Email: "buyer." + word(r, 2) + "@gmail.com"}}, To: rep}
		case p < 18: // price list Bcc'd to ten buyers
			e = Envelope{From: rep, To: rep}
			for range 10 {
				e.Bcc = append(e.Bcc, contact())
			}
		case p < 19: // internal
			e = Envelope{From: rep, To: colleague}
		default: // spoofed display name
			c := d.Customers[r.IntN(len(d.Customers))]
			e = Envelope{From: []Addr{{Name: c.Name, Email: "accounts@mailserv-24.ru"}}, To: rep}
		}
		envs = append(envs, e)
	}
	runtime.ReadMemStats(&after)
	return envs, after.HeapAlloc - before.HeapAlloc
}

func BenchmarkMatch(b *testing.B) {
	fx := benchIndex()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fx.m.Match(fx.envs[i%len(fx.envs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
	b.ReportMetric(fx.indexMB, "MB-index")
	b.ReportMetric(fx.build.Seconds(), "s-build")
}

// BenchmarkResolve breaks Match down by the path an address takes.
func BenchmarkResolve(b *testing.B) {
	fx := benchIndex()
	c := fx.envs[0].From[0] // a known contact (envelope 0 is "contact writes in")
	cases := []struct {
		name string
		a    Addr
	}{
		{"exact", c},
		{"domain", fx.envs[6].From[0]},
		{"new_domain", Addr{Name: "Peter Okafor", Email: "peter@abcdefproj.com.ng"}},
		{"new_freemail", Addr{Name: "Kim Jae-won", Email: "kim.jw@gmail.com"}},
		{"internal", Addr{Email: "kevin@lumiway-lighting.com"}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fx.m.Resolve(tc.a)
			}
		})
	}
}
