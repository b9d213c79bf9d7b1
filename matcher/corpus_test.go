package matcher

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

// Categories whose verdict belongs to the classifier (bulk, auto-reply and
// bounce headers), not to address matching: for them the test only checks
// that matching does not crash.
var classifierCategories = map[string]bool{"newsletter": true, "auto_reply": true, "bounce": true}

type corpusLabel struct {
	File       []string `json:"file"`
	Capture    bool     `json:"capture"`
	Customer   *string  `json:"customer"`
	Customers  []string `json:"customers"`
	Equivalent []string `json:"equivalent_customers"`
	Category   string   `json:"category"`
	Reason     string   `json:"reason"`
}

func TestCorpus(t *testing.T) {
	corpusDir := testenv.Corpus(t, "dev")
	m := New(loadCorpusDirectory(t, corpusDir))
	labels := loadLabels(t, filepath.Join(corpusDir, "labels.jsonl"))

	// Strict: only the first file of each message, as the brief asks. The
	// Bcc line exists only in the rep's Sent copy, so a price list Bcc'd to
	// customers whose first file is an INBOX copy cannot be matched from it.
	first := evalCorpus(t, corpusDir, m, labels, false)
	first.log(t, "first file")
	// Copies merged: the pipeline stores one message per Message-ID and
	// keeps the Bcc of the Sent copy, so the Bcc'd buyers are known.
	merged := evalCorpus(t, corpusDir, m, labels, true)
	merged.log(t, "Bcc of all copies")
	for _, s := range []corpusStats{first, merged} {
		if acc := s.accuracy(); acc < 0.99 {
			t.Errorf("%s: customer accuracy %.4f < 0.99", s.name, acc)
		}
		if s.tp+s.fp == 0 || float64(s.tp) < 0.99*float64(s.tp+s.fp) {
			t.Errorf("%s: capture precision %d/%d < 0.99", s.name, s.tp, s.tp+s.fp)
		}
	}
}

type corpusStats struct {
	name                                            string
	labels, tp, fp, fn, resp, correct, capt, captOK int
	misses                                          []string
}

func (s corpusStats) accuracy() float64 { return float64(s.correct) / float64(max(s.resp, 1)) }

func (s corpusStats) log(t *testing.T, name string) {
	t.Logf("[%s] %d labeled messages, %d this layer's (all but newsletter/auto_reply/bounce)", name, s.labels, s.resp)
	t.Logf("[%s] capture precision %.4f (%d/%d), recall %.4f (%d/%d)", name,
		float64(s.tp)/float64(max(s.tp+s.fp, 1)), s.tp, s.tp+s.fp, float64(s.tp)/float64(max(s.tp+s.fn, 1)), s.tp, s.tp+s.fn)
	t.Logf("[%s] customer accuracy %.4f (%d/%d); captured messages %d/%d", name, s.accuracy(), s.correct, s.resp, s.captOK, s.capt)
	for _, m := range s.misses {
		t.Logf("[%s] MISS %s", name, m)
	}
}

func evalCorpus(t *testing.T, corpusDir string, m *Matcher, labels []corpusLabel, mergeCopies bool) corpusStats {
	s := corpusStats{name: map[bool]string{false: "first file", true: "Bcc of all copies"}[mergeCopies], labels: len(labels)}
	for _, l := range labels {
		env, err := readEnvelope(filepath.Join(corpusDir, l.File[0]))
		if err != nil {
			t.Errorf("%s: %v", l.File[0], err)
			continue
		}
		if mergeCopies {
			for _, f := range l.File[1:] {
				if other, err := readEnvelope(filepath.Join(corpusDir, f)); err == nil && len(env.Bcc) == 0 {
					env.Bcc = other.Bcc
				}
			}
		}
		res := m.Match(env) // every category, classifier's too: must not crash
		if classifierCategories[l.Category] {
			continue
		}
		got, want := predicted(m, res, l), expected(l)
		s.resp++
		switch gotCapture := len(got) > 0; {
		case l.Capture && gotCapture:
			s.tp++
		case !l.Capture && gotCapture:
			s.fp++
		case l.Capture && !gotCapture:
			s.fn++
		}
		ok := slices.Equal(got, want)
		if ok {
			s.correct++
		} else {
			s.misses = append(s.misses, fmt.Sprintf("%s [%s]: got %q want %q (%s)", l.File[0], l.Category, got, want, l.Reason))
		}
		if l.Capture {
			s.capt++
			if ok {
				s.captOK++
			}
		}
		if l.Category == "spam" && (!hasClass(res, ClassSuspicious) || len(res.Buyers()) > 0) {
			t.Errorf("spam %s: want a Suspicious party and no buyer: %+v", l.File[0], res.Parties)
		}
		if strings.HasPrefix(l.Category, "new_buyer") && hasClass(res, ClassSuspicious) {
			t.Errorf("new buyer %s marked Suspicious: %+v", l.File[0], res.Parties)
		}
	}
	return s
}

func hasClass(r Result, c Class) bool {
	for _, p := range r.Parties {
		if p.Resolution.Class == c {
			return true
		}
	}
	return false
}

// predicted names the buyers of a result the way labels.jsonl does,
// mapping a duplicate CSV row to the labeled one (equivalent_customers).
func predicted(m *Matcher, r Result, l corpusLabel) []string {
	var out []string
	for _, p := range r.Buyers() {
		k := p.Resolution.Key()
		if p.Resolution.Class == ClassCustomer {
			k = m.CustomerName(p.Resolution.CustomerID)
			if slices.Contains(l.Equivalent, k) && l.Customer != nil {
				k = *l.Customer
			}
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func expected(l corpusLabel) []string {
	if !l.Capture {
		return nil
	}
	out := slices.Clone(l.Customers)
	if l.Customer != nil {
		out = append(out, *l.Customer)
	}
	sort.Strings(out)
	return out
}

func loadLabels(t testing.TB, path string) []corpusLabel {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLabel
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l corpusLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("labels: %v", err)
		}
		out = append(out, l)
	}
	return out
}

// loadCorpusDirectory reads company.json and customers.csv. Customer IDs
// are 1-based row numbers, so the first imported row wins ties.
func loadCorpusDirectory(t testing.TB, dir string) Directory {
	var company struct {
		Domains []string `json:"domains"`
		Reps    []struct {
			Email   string   `json:"email"`
			Aliases []string `json:"aliases"`
		} `json:"reps"`
		Suppliers []struct {
			Name    string   `json:"name"`
			Domains []string `json:"domains"`
			Emails  []string `json:"emails"`
		} `json:"suppliers"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "company.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &company); err != nil {
		t.Fatal(err)
	}
	d := Directory{CompanyDomains: company.Domains}
	for _, r := range company.Reps {
		d.RepAddresses = append(append(d.RepAddresses, r.Email), r.Aliases...)
	}
	for _, s := range company.Suppliers {
		d.Suppliers = append(d.Suppliers, Supplier{Name: s.Name, Domains: s.Domains, Emails: s.Emails})
	}

	f, err := os.Open(filepath.Join(dir, "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "name,domains,emails,grade,owner,phone,country" {
		t.Fatalf("customers.csv header changed: %q", rows[0])
	}
	for i, row := range rows[1:] {
		c := Customer{ID: int64(i + 1), Name: strings.TrimSpace(row[0]), Domains: splitList(row[1])}
		for _, e := range splitList(row[2]) {
			c.Emails = append(c.Emails, Contact{Email: e})
		}
		d.Customers = append(d.Customers, c)
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readEnvelope parses a message's headers with go-message and crudely finds
// forwarded senders: an attached message/rfc822, or the first From:/发件人:
// line after a forward marker in a text/plain part. The real parser lives
// in package message; this only feeds the matcher test.
func readEnvelope(path string) (Envelope, error) {
	f, err := os.Open(path)
	if err != nil {
		return Envelope{}, err
	}
	defer f.Close()
	e, err := message.Read(f)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return Envelope{}, err
	}
	h := mail.Header{Header: e.Header}
	env := Envelope{
		From: addrList(h, "From"), To: addrList(h, "To"),
		Cc: addrList(h, "Cc"), Bcc: addrList(h, "Bcc"),
	}
	subject, _ := h.Subject()
	env.Forwarded = forwardedSenders(e, isForwardSubject(subject))
	return env, nil
}

func addrList(h mail.Header, key string) []Addr {
	list, err := h.AddressList(key)
	if err == nil {
		out := make([]Addr, 0, len(list))
		for _, a := range list {
			out = append(out, Addr{Name: a.Name, Email: a.Address})
		}
		return out
	}
	// Unparseable header: fall back to the raw value, split on commas;
	// Normalize copes with "Name <addr>" pieces.
	raw, _ := h.Text(key)
	var out []Addr
	for _, p := range strings.Split(raw, ",") {
		if strings.TrimSpace(p) != "" {
			out = append(out, Addr{Email: p})
		}
	}
	return out
}

var forwardSubject = regexp.MustCompile(`(?i)^\s*(fw|fwd|转发|轉寄)\s*[:：]`)

func isForwardSubject(s string) bool { return forwardSubject.MatchString(s) }

var (
	// Markers used only for forwards, whatever the subject.
	forwardOnly = regexp.MustCompile(`(?i)(-+\s*forwarded message\s*-+|begin forwarded message|转发的邮件|轉寄的郵件)`)
	// Markers clients use for both replies and forwards: trusted only when
	// the subject says Fw/Fwd.
	forwardOrReply = regexp.MustCompile(`(?i)(-+\s*original message\s*-+|-+\s*原始邮件\s*-+|-+\s*原始郵件\s*-+)`)
	fromLine       = regexp.MustCompile(`(?im)^\s*(?:\*?from\*?|发件人|寄件者|von|de)\s*[:：]\s*(.+)$`)
	emailInLine    = regexp.MustCompile(`[^\s<>"';,:]+@[^\s<>"';,]+`)
)

func forwardedSenders(e *message.Entity, fwdSubject bool) [][]Addr {
	var out [][]Addr
	_ = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return nil
		}
		mt, _, _ := part.Header.ContentType()
		switch mt {
		case "message/rfc822":
			inner, err := message.Read(part.Body)
			if err != nil && inner == nil {
				return nil
			}
			if from := addrList(mail.Header{Header: inner.Header}, "From"); len(from) > 0 {
				out = append(out, from)
			}
		case "text/plain":
			b, _ := io.ReadAll(io.LimitReader(part.Body, 1<<20))
			if from := inlineForwardFrom(string(b), fwdSubject); from != nil {
				out = append(out, from)
			}
		}
		return nil
	})
	return out
}

func inlineForwardFrom(text string, fwdSubject bool) []Addr {
	loc := forwardOnly.FindStringIndex(text)
	if loc == nil && fwdSubject {
		loc = forwardOrReply.FindStringIndex(text)
	}
	if loc == nil {
		return nil
	}
	m := fromLine.FindStringSubmatch(text[loc[1]:])
	if m == nil {
		return nil
	}
	addr := emailInLine.FindString(m[1])
	if addr == "" {
		return nil
	}
	return []Addr{{Email: addr}}
}
