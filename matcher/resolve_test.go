package matcher

import "testing"

// testDirectory is a small directory with one row per rule to test.
func testDirectory() Directory {
	return Directory{
		CompanyDomains: []string{"lumiway-lighting.com", "NBLumiway.cn"},
		RepAddresses:   []string{"amy@nblumiway.cn", "Amy.Private@163.com"},
		Suppliers: []Supplier{
			{Name: "Ruixin", Domains: []string{"ruixin-elec.com"}, Emails: []string{"ruixin_wang@163.com"}},
			{Name: "Packaging", Emails: []string{"2851734690@qq.com"}},
			{Name: "Bad row", Domains: []string{"gmail.com"}}, // free-mail domain: ignored
		},
		Customers: []Customer{
			{ID: 1, Name: "Acme Lamps Ltd", Domains: []string{"acme.co.uk"}, Emails: []Contact{{Email: "buyer@acme.co.uk"}}},
			{ID: 2, Name: "Acme Subsidiary", Domains: []string{"sub.acme.co.uk"}},
			{ID: 3, Name: "Example Corp", Domains: []string{"example.com"}},
			// duplicate rows: same domain, listed in reverse ID order on purpose
			{ID: 5, Name: "Dup Trading L.L.C.", Domains: []string{"dup-trading.ae"}, Emails: []Contact{{Email: "b@dup-trading.ae"}}},
			{ID: 4, Name: "Dup Trading LLC", Domains: []string{"dup-trading.ae"}, Emails: []Contact{{Email: "a@dup-trading.ae"}}},
			{ID: 6, Name: "Lagos Brightpower", Domains: []string{"outlook.com"}, Emails: []Contact{{Email: "Free.Buyer@Outlook.com"}}},
			{ID: 7, Name: "Gulf Coast Solar", Emails: []Contact{{Email: "gcsolar@gmail.com", Name: "Jim Patterson"}}},
			{ID: 8, Name: "Schöne Leuchten KG", Domains: []string{"schöne-leuchten.de"}},
			{ID: 9, Name: "NORTHSTAR LIGHTING INC", Domains: []string{"NSL-Lighting.COM"}, Emails: []Contact{{Email: "Purchasing@NSL-Lighting.com"}}},
			{ID: 10, Name: "Sunrise Trading LLC", Domains: []string{"sunrise-trading.ae"}, Emails: []Contact{{Email: "rashid@sunrise-trading.ae", Name: "Rashid Al Mansoori"}}},
			{ID: 11, Name: "Brightline Electrical Supplies Ltd", Domains: []string{"brightline-electrical.com"}},
			{ID: 12, Name: "Lion City Electrical Pte Ltd", Domains: []string{"lioncity-electrical.com.sg"}},
			{ID: 13, Name: "Modern Lamps", Domains: []string{"modernlamps.com"}},
			{ID: 14, Name: "Lighting Supply Co.", Domains: []string{"lightingsupply.net"}},
			{ID: 15, Name: "Pacific Rim (Australia)", Domains: []string{"au.pacrim.com"}},
			{ID: 16, Name: "Al Noor Electric Est.", Emails: []Contact{{Email: "alnoor.electric@gmail.com"}}},
			{ID: 17, Name: "Suffix Row", Domains: []string{"co.uk"}}, // a public suffix: ignored
		},
	}
}

func TestResolve(t *testing.T) {
	m := New(testDirectory())
	tests := []struct {
		name   string
		addr   Addr
		class  Class
		id     int64  // CustomerID for Customer, Imitated for Suspicious and hints
		via    Via    // Customer only
		detail string // MatchedDomain (Customer), NewKey (New*), Suspicion (others)
	}{
		// exact address first, case-insensitive
		{"exact", Addr{Email: "buyer@acme.co.uk"}, ClassCustomer, 1, ViaEmail, ""},
		{"exact any case", Addr{Email: "PURCHASING@nsl-lighting.com"}, ClassCustomer, 9, ViaEmail, ""},
		// domain: equal, subdomain on a label boundary, longest entry wins
		{"domain equal", Addr{Email: "someone@acme.co.uk"}, ClassCustomer, 1, ViaDomain, "acme.co.uk"},
		{"subdomain", Addr{Email: "x@sales.acme.co.uk"}, ClassCustomer, 1, ViaDomain, "acme.co.uk"},
		{"longest wins", Addr{Email: "x@sub.acme.co.uk"}, ClassCustomer, 2, ViaDomain, "sub.acme.co.uk"},
		{"longest wins deeper", Addr{Email: "x@a.sub.acme.co.uk"}, ClassCustomer, 2, ViaDomain, "sub.acme.co.uk"},
		{"not a label boundary", Addr{Email: "x@example.com.ng"}, ClassNewDomain, 3, 0, "example.com.ng"}, // with the same-name hint
		{"suffix is not a parent", Addr{Email: "x@myexample.com"}, ClassNewDomain, 0, 0, "myexample.com"},
		{"upper-case CSV domain", Addr{Email: "bwalsh@nsl-lighting.com"}, ClassCustomer, 9, ViaDomain, "nsl-lighting.com"},
		{"role address info", Addr{Email: "info@example.com"}, ClassCustomer, 3, ViaDomain, "example.com"},
		{"role address sales", Addr{Email: "sales@example.com"}, ClassCustomer, 3, ViaDomain, "example.com"},
		// IDN: Unicode in the CSV, punycode in mail, and the other way round
		{"idn punycode", Addr{Email: "m@xn--schne-leuchten-xpb.de"}, ClassCustomer, 8, ViaDomain, "xn--schne-leuchten-xpb.de"},
		{"idn unicode", Addr{Email: "m@Schöne-Leuchten.de"}, ClassCustomer, 8, ViaDomain, "xn--schne-leuchten-xpb.de"},
		// free-mail: exact address only, even when a row lists the domain
		{"free-mail listed domain", Addr{Email: "someone@outlook.com"}, ClassNewEmail, 0, 0, "someone@outlook.com"},
		{"free-mail exact", Addr{Email: "free.buyer@outlook.com"}, ClassCustomer, 6, ViaEmail, ""},
		{"free-mail exact 2", Addr{Email: "GCSolar@Gmail.com"}, ClassCustomer, 7, ViaEmail, ""},
		{"free-mail unknown", Addr{Email: "X.Y@Gmail.com"}, ClassNewEmail, 0, 0, "x.y@gmail.com"},
		{"free-mail subdomain", Addr{Email: "x@mail.yahoo.co.jp"}, ClassNewEmail, 0, 0, "x@mail.yahoo.co.jp"},
		// duplicate rows: lowest ID unless the exact address says otherwise
		{"duplicate domain lowest ID", Addr{Email: "x@dup-trading.ae"}, ClassCustomer, 4, ViaDomain, "dup-trading.ae"},
		{"duplicate exact higher ID", Addr{Email: "b@dup-trading.ae"}, ClassCustomer, 5, ViaEmail, ""},
		// internal: our domains, their subdomains, reps' off-domain aliases
		{"internal domain", Addr{Email: "frank.he@nblumiway.cn"}, ClassInternal, 0, 0, ""},
		{"internal subdomain robot", Addr{Email: "MAILER-DAEMON@mx.lumiway-lighting.com"}, ClassInternal, 0, 0, ""},
		{"internal postmaster", Addr{Email: "postmaster@lumiway-lighting.com"}, ClassInternal, 0, 0, ""},
		{"rep off-domain alias", Addr{Email: "amy.private@163.com"}, ClassInternal, 0, 0, ""},
		{"rep display name is no evidence", Addr{Name: "Amy Chen", Email: "amy.chen@gmail.com"}, ClassNewEmail, 0, 0, "amy.chen@gmail.com"},
		// suppliers: by domain, by exact free-mail address; a supplier's
		// free-mail domain is ignored
		{"supplier domain", Addr{Email: "li@ruixin-elec.com"}, ClassSupplier, 0, 0, ""},
		{"supplier subdomain", Addr{Email: "li@sales.ruixin-elec.com"}, ClassSupplier, 0, 0, ""},
		{"supplier qq", Addr{Email: "2851734690@qq.com"}, ClassSupplier, 0, 0, ""},
		{"supplier 163", Addr{Email: "ruixin_wang@163.com"}, ClassSupplier, 0, 0, ""},
		{"other qq", Addr{Email: "12345@qq.com"}, ClassNewEmail, 0, 0, "12345@qq.com"},
		{"supplier free-mail domain ignored", Addr{Email: "anyone@gmail.com"}, ClassNewEmail, 0, 0, "anyone@gmail.com"},
		// robots, even on a customer's domain
		{"noreply", Addr{Email: "noreply@example.com"}, ClassRobot, 0, 0, ""},
		{"no-reply", Addr{Email: "no-reply@maersk.com"}, ClassRobot, 0, 0, ""},
		{"mailer-daemon", Addr{Email: "MAILER-DAEMON@mx.example.com"}, ClassRobot, 0, 0, ""},
		{"notifications", Addr{Email: "notifications@acme.co.uk"}, ClassRobot, 0, 0, ""},
		{"postmaster", Addr{Email: "postmaster@acme.co.uk"}, ClassRobot, 0, 0, ""},
		{"exchange ndr", Addr{Email: "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@acme.co.uk"}, ClassRobot, 0, 0, ""},
		// new buyers: registrable domain as the key
		{"new domain key", Addr{Email: "x@mail.NewBuyer.com.au"}, ClassNewDomain, 0, 0, "newbuyer.com.au"},
		{"new idn domain", Addr{Email: "x@bücher.de"}, ClassNewDomain, 0, 0, "xn--bcher-kva.de"},
		{"parent of a customer subdomain", Addr{Email: "x@pacrim.com"}, ClassNewDomain, 0, 0, "pacrim.com"},
		{"public suffix row ignored", Addr{Email: "x@other.co.uk"}, ClassNewDomain, 0, 0, "other.co.uk"},
		// look-alike domains of customers
		{"letter swapped l for i", Addr{Email: "accounts@sunrise-tradlng.com"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"letter substituted", Addr{Email: "a@sunrise-tradinq.ae"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"letters transposed", Addr{Email: "a@sunrise-tradnig.ae"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"letter added", Addr{Email: "a@sunrise-tradings.com"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"letter removed", Addr{Email: "a@sunrise-trding.ae"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"hyphen removed", Addr{Email: "a@sunrisetrading.ae"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"rn for m", Addr{Email: "a@rnodernlamps.com"}, ClassSuspicious, 13, 0, "look_alike_domain"},
		{"digit for letter", Addr{Email: "a@examp1e.com"}, ClassSuspicious, 3, 0, "look_alike_domain"},
		{"zero for o", Addr{Email: "a@m0dernlamps.com"}, ClassSuspicious, 13, 0, "look_alike_domain"},
		{"cyrillic homoglyph", Addr{Email: "a@sunrise-tr\u0430ding.ae"}, ClassSuspicious, 10, 0, "look_alike_domain"},
		{"own domain look-alike", Addr{Email: "amy@lumiway-lightlng.com"}, ClassSuspicious, 0, 0, "look_alike_own_domain"},
		{"own domain other suffix", Addr{Email: "amy@nblumiway.com"}, ClassSuspicious, 0, 0, "look_alike_own_domain"},
		{"short labels are not look-alikes", Addr{Email: "x@acne.co.uk"}, ClassNewDomain, 0, 0, "acne.co.uk"},
		// same label under another suffix: a hint, not a verdict (corpus:
		// brightline-electrical.com.ng is a new buyer) ...
		{"same label other suffix", Addr{Name: "Tunde Bakare", Email: "tunde@brightline-electrical.com.ng"}, ClassNewDomain, 11, 0, "brightline-electrical.com.ng"},
		// ... unless the display name imitates the customer too
		{"same label plus company name", Addr{Name: "Sunrise Trading LLC", Email: "accounts@sunrise-trading.net"}, ClassSuspicious, 10, 0, "name_imitates_company"},
		// display names imitating a customer on an unrelated address
		{"company name", Addr{Name: "Lion City Electrical Pte Ltd", Email: "ap@mailserv-24.ru"}, ClassSuspicious, 12, 0, "name_imitates_company"},
		{"company name in a longer name", Addr{Name: "Camila via Lion City Electrical OneDrive", Email: "share@files-example.cl"}, ClassSuspicious, 12, 0, "name_imitates_company"},
		{"company name, other legal form", Addr{Name: "SUNRISE TRADING L.L.C.", Email: "pay@mailserv-24.ru"}, ClassSuspicious, 10, 0, "name_imitates_company"},
		{"contact name on free-mail", Addr{Name: "Rashid Al Mansoori", Email: "rashid.payments@gmail.com"}, ClassSuspicious, 10, 0, "name_imitates_contact"},
		{"address in display name", Addr{Name: "rashid@sunrise-trading.ae", Email: "x@evil-example.ru"}, ClassSuspicious, 10, 0, "name_shows_other_address"},
		{"our address in display name", Addr{Name: "'amy@nblumiway.cn'", Email: "x@evil-example.ru"}, ClassSuspicious, 0, 0, "name_shows_other_address"},
		// ... but never when the address itself is the customer's
		{"company name on own address", Addr{Name: "Sunrise Trading LLC", Email: "rashid@sunrise-trading.ae"}, ClassCustomer, 10, ViaEmail, ""},
		{"generic company name not indexed", Addr{Name: "Metro Lighting Supply", Email: "x@metrolighting.com"}, ClassNewDomain, 0, 0, "metrolighting.com"},
		{"partial company name", Addr{Name: "Al Noor Riyadh Branch", Email: "alnoor.riyadh.branch@gmail.com"}, ClassNewEmail, 0, 0, "alnoor.riyadh.branch@gmail.com"},
		{"first name alone", Addr{Name: "Rashid", Email: "rashid@newbuyer.ae"}, ClassNewDomain, 0, 0, "newbuyer.ae"},
		// junk
		{"invalid", Addr{Email: "undisclosed-recipients:;"}, ClassInvalid, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Resolve(tt.addr)
			if r.Class != tt.class {
				t.Fatalf("Resolve(%+v).Class = %v, want %v (%+v)", tt.addr, r.Class, tt.class, r)
			}
			switch tt.class {
			case ClassCustomer:
				if r.CustomerID != tt.id || r.Via != tt.via || r.MatchedDomain != tt.detail {
					t.Errorf("got customer %d via %d domain %q, want %d via %d domain %q", r.CustomerID, r.Via, r.MatchedDomain, tt.id, tt.via, tt.detail)
				}
			case ClassNewDomain, ClassNewEmail:
				if r.NewKey != tt.detail {
					t.Errorf("NewKey = %q, want %q", r.NewKey, tt.detail)
				}
				if (tt.id != 0) != (r.Suspicion == SameNameOtherSuffix) || r.Imitated != tt.id {
					t.Errorf("hint %v imitated %d, want imitated %d", r.Suspicion, r.Imitated, tt.id)
				}
			case ClassSuspicious:
				if r.Suspicion.String() != tt.detail || r.Imitated != tt.id || r.Detail == "" {
					t.Errorf("suspicion %v imitated %d (%q), want %s imitated %d", r.Suspicion, r.Imitated, r.Detail, tt.detail, tt.id)
				}
				if r.ImitatesUs != (tt.id == 0) {
					t.Errorf("ImitatesUs = %v", r.ImitatesUs)
				}
			}
		})
	}
}

// Only the first imported row keeps a duplicate exact address.
func TestResolveDuplicateExactAddress(t *testing.T) {
	m := New(Directory{Customers: []Customer{
		{ID: 2, Name: "B", Emails: []Contact{{Email: "same@gmail.com"}}},
		{ID: 1, Name: "A", Emails: []Contact{{Email: "Same@Gmail.com"}}},
	}})
	if r := m.Resolve(Addr{Email: "same@gmail.com"}); r.CustomerID != 1 {
		t.Errorf("got customer %d, want 1", r.CustomerID)
	}
}

func TestWithinOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"abcdef", "abcdef", true},
		{"abcdef", "abcdeg", true},  // substitute
		{"abcdef", "abdcef", true},  // swap
		{"abcdef", "abcdefg", true}, // add at end
		{"abcdef", "xabcdef", true}, // add at start
		{"abcdef", "abdef", true},   // remove
		{"abcdef", "badcef", false}, // two swaps
		{"abcdef", "abcdxy", false},
		{"abcdef", "abcdefgh", false},
		{"", "a", true},
	}
	for _, tt := range tests {
		if got := withinOneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v", tt.a, tt.b, got)
		}
		if got := withinOneEdit(tt.b, tt.a); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v", tt.b, tt.a, got)
		}
	}
}

func TestSkeleton(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sunrise-trading", "sunrlse-tradlng"},
		{"sunrise-tradlng", "sunrlse-tradlng"},
		{"rnodern", "modem"}, // "modern" itself folds to "modem" too
		{"vvorld", "world"},
		{"g00gle", "google"},
		{cyrillicLabel(), "sunrlse-tradlng"},       // Cyrillic а
		{"xn--b1aecqjinsl5g", "xn--b1aecqjinsl5g"}, // genuine IDN: unchanged
	}
	for _, tt := range tests {
		if got := skeleton(tt.in); got != tt.want {
			t.Errorf("skeleton(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func cyrillicLabel() string {
	d, _ := normalizeDomain("sunrise-tr\u0430ding.ae")
	_, label := registrable(d)
	return label
}

func TestCompanyCore(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sunrise Trading LLC", "sunrise trading"},
		{"Sunrise Trading L.L.C.", "sunrise trading"},
		{"Electro Andina S.A.S.", "electro andina"},
		{"Iluminación Pacífico S.A. de C.V.", "iluminacion pacifico"},
		{"Elektro Nowak Sp. z o.o.", "elektro nowak"},
		{"Anatolia Aydınlatma A.Ş.", "anatolia aydınlatma"},
		{"ООО «Светлый Дом»", "светлыи дом"},
		{"Lighting Supply Co.", ""}, // generic only
		{"LED Ltd", ""},
	}
	for _, tt := range tests {
		got := ""
		for i, tok := range companyCore(tt.in) {
			if i > 0 {
				got += " "
			}
			got += tok
		}
		if got != tt.want {
			t.Errorf("companyCore(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The robot check looks at whole words of the local part, both ways.
func TestIsRobot(t *testing.T) {
	for _, c := range []struct {
		local string
		robot bool
	}{
		{"noreply", true},
		{"no-reply", true},
		{"no_reply", true},
		{"do-not-reply", true},
		{"donotreply", true},
		{"mailer-daemon", true},
		{"postmaster", true},
		{"notifications", true},
		{"notification.service", true},
		{"rfq-noreply", true},
		{"exhibitor-noreply", true},
		{"noreply2", true},
		{"bounces+12345-john=example.com", true},
		{"bounce-mc.us1_1234.5678-li=acme.com", true},
		{"nao-responda", true},
		{"ne_pas_repondre", true},
		{"microsoftexchange329e71ec88ae4615bbc36ab6ce41109e", true},
		{"notifyme.john", false}, // a word that only contains a mark
		{"john.notifyme", false},
		{"bouncer.li", false},
		{"noreplyhelen", false},
		{"postmasters.guild", false},
		{"info", false},
		{"sales", false},
		{"no", false},
		{"reply", false},
		{"li.wei", false},
		{"microsoftexchangefan.bob", false},
	} {
		if got := isRobot(c.local); got != c.robot {
			t.Errorf("isRobot(%q) = %v, want %v", c.local, got, c.robot)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isRobot("do-not-reply.notifications") }); n != 0 {
		t.Errorf("isRobot allocates %v times", n)
	}
}
