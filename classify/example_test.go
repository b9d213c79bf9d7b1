package classify_test

import (
	"fmt"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/message"
)

func ExampleRules_Kind() {
	r := classify.Default()
	rfq := &message.Message{
		Subject: "Price request LED panel 600x600",
		NewText: "Dear Sirs, please quote your best FOB price for 2,000 pcs.",
	}
	ack := &message.Message{
		Subject: "RE: Price request LED panel 600x600",
		NewText: "Well received, we will send you the quotation tomorrow.",
	}
	fmt.Println(r.Kind(rfq, "in", false).Rule)
	fmt.Println(r.Kind(ack, "out", false).Rule)
	// Output:
	// inquiry.en.please_quote
	// email.en.will_quote
}

func ExampleRules_Noise() {
	r := classify.Default()
	ooo := &message.Message{
		Subject: "Automatic reply: RE: Quotation QT-2026-0133",
		Header:  map[string]string{"Auto-Submitted": "auto-replied"},
	}
	fmt.Println(r.Noise(ooo))
	// Output:
	// auto_reply auto_reply.auto_submitted
}

// A pipeline that asks both verdicts prepares the message once: Noise and
// Kind then share its folded own text.
func ExampleRules_Prepare() {
	r := classify.Default()
	m := r.Prepare(&message.Message{
		Subject: "RFQ: LED high bay 150W",
		NewText: "Hello, please send us your price list.\n\n> On Monday you wrote:\n> Our price is USD 25/pc.",
	})
	if reason, _ := m.Noise(); reason == "" {
		fmt.Println(m.Kind("in", false).Kind)
	}
	// Output:
	// inquiry
}
