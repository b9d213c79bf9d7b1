package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/mailtrail/mailtrail/internal/services"
)

// mailGen makes varied, realistic and deterministic mail for the crash
// test and the benchmarks: inquiries, quotes, replies, newsletters,
// auto-replies, internal mail, GBK-encoded Chinese, HTML-only mail, mail
// without a Message-ID and mail with attachments, from and to a few dozen
// buyer domains.
type mailGen struct {
	rnd *rand.Rand
	n   int
}

func newMailGen(seed uint64) *mailGen {
	return &mailGen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// genMail is one generated message. ID is its Message-ID ("" when it has
// none).
type genMail struct {
	ID  string
	Raw []byte
}

var (
	genBuyers = []string{"acme-buyer.de", "pacifico.mx", "nordlicht.se", "lumen-trade.co.uk", "sunrise-imports.com.au",
		"casa-luz.es", "brightway.ca", "elektro-mayer.at", "deltalight.nl", "kyoto-shomei.jp"}
	genNames    = []string{"Li Wei", "Juan Perez", "Anna Berg", "Tom Hughes", "Olivia Chen", "Carlos Ruiz", "Emma Roy", "Karl Mayer", "Sanne de Vries", "Yuki Sato"}
	genProducts = []string{"LED panel 600x600 40W", "LED high bay 150W", "downlight 12W", "LED tube T8 18W", "flood light 100W", "street light 80W"}
)

// next returns message number g.n for rep, sent by the rep when out is
// true; attach is the size of an attachment to add (0: none).
func (g *mailGen) next(rep string, out bool, attach int) genMail {
	g.n++
	r := g.rnd
	k := r.IntN(len(genBuyers))
	buyer := fmt.Sprintf("%s <%s@%s>", genNames[k], strings.ToLower(strings.Fields(genNames[k])[0]), genBuyers[k])
	product := genProducts[r.IntN(len(genProducts))]
	qty := 100 * (1 + r.IntN(50))
	date := time.Date(2025, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)).Add(time.Duration(g.n) * 37 * time.Minute)
	id := fmt.Sprintf("gen-%d-%x@%s", g.n, r.Uint32(), genBuyers[k])
	from, to := buyer, rep
	var subject, body string
	extra := ""
	ctype := "text/plain; charset=utf-8"
	switch kind := r.IntN(20); {
	case out && kind < 10:
		from, to = rep, buyer
		id = fmt.Sprintf("gen-%d-%x@ourco.example", g.n, r.Uint32())
		subject = "Quotation: " + product
		body = fmt.Sprintf("Dear %s,\n\nPlease find our quotation below:\n%s: USD %d.%02d/pc FOB Ningbo, %d pcs.\nDelivery 25 days after deposit.\n\nBest regards\n",
			genNames[k], product, 2+r.IntN(30), r.IntN(100), qty)
	case out:
		from, to = rep, buyer
		id = fmt.Sprintf("gen-%d-%x@ourco.example", g.n, r.Uint32())
		subject = "Re: shipment of order " + fmt.Sprint(1000+g.n)
		body = "Dear " + genNames[k] + ",\n\nthe goods are ready; the vessel leaves Ningbo next week.\n\n> On Monday you wrote:\n> When do the goods ship?\n"
	case kind < 6:
		subject = "RFQ: " + product
		body = fmt.Sprintf("Dear Sir or Madam,\n\nPlease send us your best price for %d pcs %s, FOB Ningbo, with delivery time.\n\nRegards,\n%s\n", qty, product, genNames[k])
	case kind < 10:
		subject = "Re: Quotation: " + product
		body = "Hello,\n\nthank you for the offer. Can you do a better price for a trial order?\n\n" + strings.Repeat("> quoted history line\n", 1+r.IntN(20))
	case kind < 12:
		from = "Lighting Weekly <news@lighting-weekly.example>"
		subject = "This week in lighting #" + fmt.Sprint(g.n)
		extra = "List-Unsubscribe: <mailto:unsub@lighting-weekly.example>\nPrecedence: bulk\n"
		ctype = "text/html; charset=utf-8"
		body = "<html><body><h1>News</h1>" + strings.Repeat("<p>Market report: LED prices are stable.</p>", 5+r.IntN(30)) + "</body></html>"
	case kind < 13:
		subject = "Automatic reply: Quotation"
		extra = "Auto-Submitted: auto-replied\n"
		body = "I am out of the office until next Monday.\n"
	case kind < 14:
		from = "Bob <bob@ourco.example>"
		subject = "Lunch?"
		body = "Noodles at 12?\n"
	case kind < 16:
		subj, _ := simplifiedchinese.GBK.NewEncoder().String("询价：" + product)
		text, _ := simplifiedchinese.GBK.NewEncoder().String(fmt.Sprintf("您好，请报价%d件%s，谢谢。\n", qty, product))
		subject = "=?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(subj)) + "?="
		extra = "Content-Transfer-Encoding: base64\n"
		ctype = "text/plain; charset=GBK"
		body = wrap(base64.StdEncoding.EncodeToString([]byte(text)))
	default:
		subject = "Order " + fmt.Sprint(1000+g.n) + ": payment"
		body = "Hi,\n\nwe paid the deposit today, please check.\n\nBest,\n" + genNames[k] + "\n"
	}
	if r.IntN(40) == 0 {
		id = "" // some mail has no Message-ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <x@%s>\nFrom: %s\nTo: %s\nSubject: %s\nDate: %s\n", genBuyers[k], from, to, subject, date.Format(time.RFC1123Z))
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\n", id)
	}
	b.WriteString("MIME-Version: 1.0\n" + extra)
	if attach == 0 {
		fmt.Fprintf(&b, "Content-Type: %s\n\n%s\n", ctype, body)
		return genMail{ID: id, Raw: []byte(b.String())}
	}
	boundary := fmt.Sprintf("=_b%x", r.Uint64())
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\nContent-Type: %s\n\n%s\n", boundary, boundary, ctype, body)
	fmt.Fprintf(&b, "--%s\nContent-Type: application/pdf; name=\"PI-%d.pdf\"\nContent-Disposition: attachment; filename=\"PI-%d.pdf\"\nContent-Transfer-Encoding: base64\n\n", boundary, g.n, g.n)
	data := make([]byte, attach)
	for i := 0; i < len(data); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(data); j++ {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	b.WriteString(wrap(base64.StdEncoding.EncodeToString(data)))
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	return genMail{ID: id, Raw: []byte(b.String())}
}

// wrap breaks base64 into 76-character lines (RFC 2045 6.8).
func wrap(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/76 + 1)
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteByte('\n')
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// loadMaildir writes messages straight into user's Maildir folder (""
// for INBOX) as the server's mail user, then has Dovecot index them:
// thousands of messages in well under a second, where APPEND would take
// one round trip each.
func loadMaildir(t testing.TB, dc *services.Dovecot, user, folder string, raws [][]byte) {
	t.Helper()
	i := 0
	writeMaildir(t, dc, user, folder, len(raws), func() []byte { i++; return raws[i-1] }, true)
}

// benchSize draws a message size from a distribution shaped like a
// sales rep's mailbox: three quarters plain mail of 2-20 KB, the rest
// with attachments (price lists, PIs, photos, catalogues) of 30 KB to 5 MB.
func (g *mailGen) benchSize() int {
	r := g.rnd
	switch p := r.IntN(100); {
	case p < 75:
		return 2<<10 + r.IntN(18<<10)
	case p < 93:
		return 30<<10 + r.IntN(270<<10)
	case p < 99:
		return 300<<10 + r.IntN(1200<<10)
	default:
		return 1500<<10 + r.IntN(3500<<10)
	}
}

// sized returns a message of about size bytes: text padded with
// sentences when small, else an attachment making up the rest.
func (g *mailGen) sized(rep string, out bool, size int) genMail {
	if size >= 24<<10 {
		return g.next(rep, out, (size-2<<10)*3/4)
	}
	m := g.next(rep, out, 0)
	if pad := size - len(m.Raw); pad > 0 && !strings.Contains(string(m.Raw), "Content-Transfer-Encoding: base64") {
		var b strings.Builder
		b.Write(m.Raw)
		for b.Len() < size {
			b.WriteString(genSentences[g.rnd.IntN(len(genSentences))])
		}
		m.Raw = []byte(b.String())
	}
	return m
}

var genSentences = []string{
	"We confirm the order and will arrange production after the deposit.\n",
	"Please check the attached drawing and confirm the logo position.\n",
	"The carton size is 62x32x28 cm, 20 pcs per carton, gross weight 18 kg.\n",
	"Our factory passed the BSCI audit last month; the report is available.\n",
	"> Could you send the CE and RoHS certificates for the 600x600 panel?\n",
	"Lead time is 25 days after deposit; the sample can ship by DHL in 3 days.\n",
	"\n",
}

// writeMaildir writes n generated messages into user's Maildir folder
// ("" for INBOX) without keeping them in memory, and has Dovecot index
// them (when resync; else Dovecot does on first access). It returns the
// bytes written.
func writeMaildir(t testing.TB, dc *services.Dovecot, user, folder string, n int, next func() []byte, resync bool) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dc.Dir, "mail"), &st); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dc.Maildir(user), folder)
	for _, d := range []string{filepath.Dir(dc.Maildir(user)), dc.Maildir(user), dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
		os.MkdirAll(d, 0o700)
		if err := os.Chown(d, int(st.Uid), int(st.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	for i := range n {
		raw := next()
		total += int64(len(raw))
		name := filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP%d.gen,S=%d:2,S", 1700000000+i, i, os.Getpid(), len(raw)))
		if err := os.WriteFile(name, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(name, int(st.Uid), int(st.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if resync {
		mailbox := folder
		if mailbox == "" {
			mailbox = "INBOX"
		}
		if out, err := dc.Doveadm("force-resync", "-u", user, mailbox); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	return total
}
