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
