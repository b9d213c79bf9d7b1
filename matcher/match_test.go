package matcher

import (
	"fmt"
	"slices"
	"testing"
)

func addrs(emails ...string) []Addr {
	out := make([]Addr, len(emails))
	for i, e := range emails {
		out[i] = Addr{Email: e}
	}
	return out
}

// partyKeys renders parties compactly: "c:<id>" for customers, the Key for
// new buyers, "<class>:<email>" otherwise.
func partyKeys(r Result) []string {
	var out []string
	for _, p := range r.Parties {
		switch res := p.Resolution; res.Class {
		case ClassCustomer:
			out = append(out, fmt.Sprintf("c:%d", res.CustomerID))
		case ClassNewDomain, ClassNewEmail:
			out = append(out, res.Key())
		default:
			out = append(out, res.Class.String()+":"+res.Email)
		}
	}
	return out
}

func TestMatch(t *testing.T) {
	m := New(testDirectory())
	bcc10 := []string{}
	for i := range 10 {
		bcc10 = append(bcc10, fmt.Sprintf("buyer%d@newbuyer%d.com", i, i))
	}
	tests := []struct {
		name         string
		env          Envelope
		dir          Direction
		internalOnly bool
		supplier     bool
		fromForward  bool
		parties      []string
	}{
		{
			name:    "inbound: From plus external Cc, internal Cc dropped",
			env:     Envelope{From: addrs("buyer@acme.co.uk"), To: addrs("amy@nblumiway.cn"), Cc: addrs("x@example.com", "kevin@lumiway-lighting.com")},
			dir:     In,
			parties: []string{"c:1", "c:3"},
		},
		{
			name:    "inbound: external To is not a counterpart",
			env:     Envelope{From: addrs("buyer@acme.co.uk"), To: addrs("amy@nblumiway.cn", "x@example.com")},
			dir:     In,
			parties: []string{"c:1"},
		},
		{
			name:    "outbound: every external To, Cc, Bcc",
			env:     Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("buyer@acme.co.uk"), Cc: addrs("frank@nblumiway.cn", "x@example.com"), Bcc: addrs("new@buyer.com.au")},
			dir:     Out,
			parties: []string{"c:1", "c:3", "new:domain:buyer.com.au"},
		},
		{
			name: "price list Bcc'd to ten buyers: ten parties",
			env:  Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("amy@nblumiway.cn"), Bcc: addrs(bcc10...)},
			dir:  Out,
			parties: func() []string {
				var k []string
				for i := range 10 {
					k = append(k, fmt.Sprintf("new:domain:newbuyer%d.com", i))
				}
				return k
			}(),
		},
		{
			name:    "dedup: two contacts of one customer, one domain twice, one address twice",
			env:     Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("buyer@acme.co.uk", "other@sales.acme.co.uk", "a@new.example.org", "B@new.example.org", "x.y@gmail.com"), Cc: addrs("X.Y@gmail.com")},
			dir:     Out,
			parties: []string{"c:1", "new:domain:example.org", "new:email:x.y@gmail.com"},
		},
		{
			name:    "duplicate rows: exact address picks the row, domain the lowest ID",
			env:     Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("b@dup-trading.ae", "c@dup-trading.ae")},
			dir:     Out,
			parties: []string{"c:5", "c:4"},
		},
		{
			name:         "internal only",
			env:          Envelope{From: addrs("Frank <frank@nblumiway.cn>"), To: addrs("amy@nblumiway.cn", "kevin@lumiway-lighting.com"), Cc: addrs("amy.private@163.com")},
			dir:          Out,
			internalOnly: true,
		},
		{
			name:        "internal forward of a buyer's mail: the original sender",
			env:         Envelope{From: addrs("info@lumiway-lighting.com"), To: addrs("amy@nblumiway.cn"), Forwarded: [][]Addr{addrs("j.baumann@vertrieb.acme.co.uk")}},
			dir:         Out,
			fromForward: true,
			parties:     []string{"c:1"},
		},
		{
			name:         "internal forward of internal mail stays internal",
			env:          Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("frank@nblumiway.cn"), Forwarded: [][]Addr{addrs("kevin@lumiway-lighting.com")}},
			dir:          Out,
			internalOnly: true,
		},
		{
			name:    "forwarded senders ignored when there is an external counterpart",
			env:     Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("x@example.com"), Forwarded: [][]Addr{addrs("buyer@acme.co.uk")}},
			dir:     Out,
			parties: []string{"c:3"},
		},
		{
			name:    "a buyer forwarding someone's mail is the counterpart himself",
			env:     Envelope{From: addrs("x@example.com"), To: addrs("amy@nblumiway.cn"), Forwarded: [][]Addr{addrs("buyer@acme.co.uk")}},
			dir:     In,
			parties: []string{"c:3"},
		},
		{
			name:     "supplier inbound",
			env:      Envelope{From: addrs("li@ruixin-elec.com"), To: addrs("amy@nblumiway.cn")},
			dir:      In,
			supplier: true,
			parties:  []string{"supplier:li@ruixin-elec.com"},
		},
		{
			name:     "supplier on free-mail, outbound",
			env:      Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("2851734690@qq.com")},
			dir:      Out,
			supplier: true,
			parties:  []string{"supplier:2851734690@qq.com"},
		},
		{
			name:     "supplier beside a customer: still supplier mail",
			env:      Envelope{From: addrs("amy@nblumiway.cn"), To: addrs("buyer@acme.co.uk"), Cc: addrs("li@ruixin-elec.com")},
			dir:      Out,
			supplier: true,
			parties:  []string{"c:1", "supplier:li@ruixin-elec.com"},
		},
		{
			name:    "spoofed display name: no buyer",
			env:     Envelope{From: []Addr{{Name: "Lion City Electrical Pte Ltd", Email: "ap@mailserv-24.ru"}}, To: addrs("amy@nblumiway.cn")},
			dir:     In,
			parties: []string{"suspicious:ap@mailserv-24.ru"},
		},
		{
			name:    "robot sender: no buyer, not internal",
			env:     Envelope{From: addrs("no-reply@maersk.com"), To: addrs("amy@nblumiway.cn")},
			dir:     In,
			parties: []string{"robot:no-reply@maersk.com"},
		},
		{
			name:    "first valid From decides the direction",
			env:     Envelope{From: addrs("junk", "amy@nblumiway.cn"), To: addrs("x@example.com")},
			dir:     Out,
			parties: []string{"c:3"},
		},
		{
			name: "no From at all: inbound, nothing",
			env:  Envelope{To: addrs("amy@nblumiway.cn")},
			dir:  In, internalOnly: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Match(tt.env)
			if r.Direction != tt.dir || r.InternalOnly != tt.internalOnly || r.Supplier != tt.supplier || r.FromForward != tt.fromForward {
				t.Errorf("got dir=%s internalOnly=%v supplier=%v fromForward=%v, want %s %v %v %v",
					r.Direction, r.InternalOnly, r.Supplier, r.FromForward, tt.dir, tt.internalOnly, tt.supplier, tt.fromForward)
			}
			if got := partyKeys(r); !slices.Equal(got, tt.parties) {
				t.Errorf("parties %q, want %q", got, tt.parties)
			}
			if (tt.internalOnly || tt.supplier) && r.Buyers() != nil {
				t.Errorf("Buyers() = %+v on internal/supplier mail", r.Buyers())
			}
		})
	}
}

func TestMatchLongBccDedup(t *testing.T) {
	m := New(testDirectory())
	var bcc []Addr
	for i := range 100 {
		bcc = append(bcc, Addr{Email: fmt.Sprintf("p%d@buyer%d.com", i, i%40)})
	}
	bcc = append(bcc, addrs("buyer@acme.co.uk", "x@acme.co.uk")...)
	r := m.Match(Envelope{From: addrs("amy@nblumiway.cn"), Bcc: bcc})
	if len(r.Parties) != 41 {
		t.Errorf("got %d parties, want 41 (40 new domains + 1 customer)", len(r.Parties))
	}
}
