package matcher_test

import (
	"fmt"

	"github.com/mailtrail/mailtrail/matcher"
)

func Example() {
	m := matcher.New(matcher.Directory{
		CompanyDomains: []string{"lumiway-lighting.com", "nblumiway.cn"},
		RepAddresses:   []string{"amy@nblumiway.cn"},
		Suppliers:      []matcher.Supplier{{Name: "Ledix", Domains: []string{"ledix-driver.com"}}},
		Customers: []matcher.Customer{
			{ID: 1, Name: "Sunrise Trading LLC", Domains: []string{"sunrise-trading.ae"}},
			{ID: 2, Name: "Tan & Lim Lighting", Emails: []matcher.Contact{{Email: "tanlim.lighting@qq.com"}}},
		},
		// FreeMail left zero: the embedded list (gmail.com, qq.com, ...).
	})

	// A price list Bcc'd to buyers: one party per buyer.
	res := m.Match(matcher.Envelope{
		From: []matcher.Addr{{Name: "Amy Chen", Email: "amy@nblumiway.cn"}},
		To:   []matcher.Addr{{Email: "amy@nblumiway.cn"}},
		Bcc: []matcher.Addr{
			{Email: "Rashid@Sales.Sunrise-Trading.ae"},
			{Email: "tanlim.lighting@qq.com"},
			{Email: "someone.new@gmail.com"},
			{Email: "buyer@shopfitsydney.com.au"},
		},
	})
	fmt.Println("direction:", res.Direction)
	for _, p := range res.Buyers() {
		r := p.Resolution
		switch r.Class {
		case matcher.ClassCustomer:
			fmt.Println("customer", r.CustomerID, m.CustomerName(r.CustomerID), "by", map[matcher.Via]string{matcher.ViaEmail: "address", matcher.ViaDomain: "domain " + r.MatchedDomain}[r.Via])
		default:
			fmt.Println(r.Key())
		}
	}

	// A spoofed display name on a look-alike domain is never a buyer.
	r := m.Resolve(matcher.Addr{Name: "Sunrise Trading LLC", Email: "accounts@sunrise-tradlng.com"})
	fmt.Println(r.Class, r.Suspicion, r.Detail)

	// Output:
	// direction: out
	// customer 1 Sunrise Trading LLC by domain sunrise-trading.ae
	// customer 2 Tan & Lim Lighting by address
	// new:email:someone.new@gmail.com
	// new:domain:shopfitsydney.com.au
	// suspicious look_alike_domain domain sunrise-tradlng.com looks like sunrise-trading.ae of Sunrise Trading LLC
}
