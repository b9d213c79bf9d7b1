package matcher

import "testing"

// Rules that come from the customer records as the store keeps them:
// contacts learned from mail, customers created from mail.
func TestResolveLearnedAndAutoCreated(t *testing.T) {
	m := New(Directory{
		CompanyDomains: []string{"ourco.example"},
		Customers: []Customer{
			{ID: 1, Name: "Pacific Rim Lighting Corp", Domains: []string{"pacrim.example"},
				Emails: []Contact{{Email: "jim@au.pacrim.example", Name: "Jim Cole", Learned: true}, {Email: "ceo@au.pacrim.example"}}},
			{ID: 2, Name: "Pacific Rim Lighting (Australia)", Domains: []string{"au.pacrim.example"}},
			{ID: 3, Name: "Brightline Electrical Ltd", Domains: []string{"brightline-electrical.example"},
				Emails: []Contact{{Email: "rashid@brightline-electrical.example", Name: "Rashid Al Mansoori"}}},
			// Created from mail before the list above was imported.
			{ID: 10, Name: "Brightlime Electrical", Domains: []string{"brightlime-electrical.example"}, AutoCreated: true},
			{ID: 11, Name: "Brightline Electrical", Domains: []string{"brightline-electrical.example.ng"}, AutoCreated: true},
			{ID: 12, Name: "Newco", Domains: []string{"newco.example"}, AutoCreated: true},
			{ID: 13, Name: "pat@gmail.com", Emails: []Contact{{Email: "pat@gmail.com"}}, AutoCreated: true},
			{ID: 14, Name: "Newcorp Lighting", Domains: []string{"newcorp-lighting.example"}, AutoCreated: true},
		},
	})
	for _, tc := range []struct {
		name      string
		addr      Addr
		class     Class
		id        int64 // CustomerID, or Imitated for Suspicious
		suspicion Suspicion
	}{
		// A learned contact is not evidence: the most specific domain wins.
		{"learned contact", Addr{Email: "jim@au.pacrim.example", Name: "Jim Cole"}, ClassCustomer, 2, NotSuspicious},
		{"listed contact", Addr{Email: "ceo@au.pacrim.example"}, ClassCustomer, 1, NotSuspicious},
		// A learned contact's name still flags an imitation.
		{"learned name imitated", Addr{Email: "jim.cole@evil.example", Name: "Jim Cole"}, ClassSuspicious, 1, NameImitatesContact},
		// A customer created from mail does not vouch for a look-alike of a
		// listed customer, nor for a display name imitating one.
		{"auto look-alike", Addr{Email: "accounts@brightlime-electrical.example"}, ClassSuspicious, 3, LookAlikeDomain},
		{"auto same label, plain name", Addr{Email: "tunde@brightline-electrical.example.ng", Name: "Tunde Bakare"}, ClassCustomer, 11, NotSuspicious},
		{"auto same label, imitating contact", Addr{Email: "x@brightline-electrical.example.ng", Name: "Rashid Al Mansoori"}, ClassSuspicious, 3, NameImitatesContact},
		{"auto free-mail imitating company", Addr{Email: "pat@gmail.com", Name: "Brightline Electrical Ltd"}, ClassSuspicious, 3, NameImitatesCompany},
		{"auto free-mail plain", Addr{Email: "pat@gmail.com", Name: "Pat Lee"}, ClassCustomer, 13, NotSuspicious},
		{"auto plain", Addr{Email: "buyer@newco.example", Name: "Newco Purchasing"}, ClassCustomer, 12, NotSuspicious},
		// The derived name of a customer created from mail flags nobody.
		{"auto name not indexed", Addr{Email: "x@other.example", Name: "Newcorp Lighting"}, ClassNewDomain, 0, NotSuspicious},
	} {
		r := m.Resolve(tc.addr)
		id := r.CustomerID
		if r.Class == ClassSuspicious {
			id = r.Imitated
		}
		if r.Class != tc.class || id != tc.id || r.Suspicion != tc.suspicion {
			t.Errorf("%s: Resolve(%v) = %v %d %v (%s), want %v %d %v", tc.name, tc.addr, r.Class, id, r.Suspicion, r.Detail,
				tc.class, tc.id, tc.suspicion)
		}
	}
}

func TestNewBuyerName(t *testing.T) {
	m := New(Directory{})
	for _, tc := range []struct {
		addr, display, want string
	}{
		{"sam@shopfitsydney.com.au", "Sam", "Shopfitsydney"},
		{"x@sales.sunrise-trading.ae", "", "Sunrise Trading"},
		{"x@светлыйдом.рф", "", "Светлыйдом"},
		{"x@xn--b1aecqjinsl5g.xn--p1ai", "", "Светлыйдом"},
		{"juanp@gmail.com", "  Juan   Pérez ", "Juan Pérez"},
		{"juanp@gmail.com", "", "juanp@gmail.com"},
		{"juanp@gmail.com", "juanp@gmail.com", "juanp@gmail.com"},
	} {
		r := m.Resolve(Addr{Email: tc.addr, Name: tc.display})
		if got := NewBuyerName(r, tc.display); got != tc.want {
			t.Errorf("NewBuyerName(%s, %q) = %q, want %q", tc.addr, tc.display, got, tc.want)
		}
	}
}
