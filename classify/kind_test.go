package classify

import (
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/message"
)

// kindCase is one message for Kind: own text, subject, attachment names.
type kindCase struct {
	name    string
	dir     string
	subject string
	text    string
	atts    []string
	want    string
	rule    string // expected Verdict.Rule when set
}

func (c kindCase) message() *message.Message {
	m := &message.Message{Subject: c.subject, Text: c.text, NewText: c.text}
	for _, a := range c.atts {
		m.Attachments = append(m.Attachments, message.Attachment{Filename: a, ContentType: "application/octet-stream"})
	}
	return m
}

// Phrases here are written for the tests, not copied from the corpus: each
// family of rules gets a positive case and the negatives that look like it.
var kindCases = []kindCase{
	// English
	{name: "en please quote", dir: "in", text: "Hi, please quote your best price for 2,000 pcs of 18W tubes, CIF Lagos.", want: KindInquiry},
	{name: "en price list request", dir: "in", text: "Could you send us your latest price list? We are a distributor in Kenya.", want: KindInquiry},
	{name: "en best price question", dir: "in", text: "What is your best price for 500 sets? We need them by March.", want: KindInquiry, rule: "inquiry.en.price_question"},
	{name: "en rfq subject and file", dir: "in", subject: "RFQ 2026/114 warehouse lighting", text: "Dear sir, see attached list.", atts: []string{"RFQ_2026_114.xlsx"}, want: KindInquiry},
	{name: "en first contact", dir: "in", subject: "New supplier enquiry", text: "We found you at the Canton Fair. Please send your catalogue and price list.", want: KindInquiry},
	{name: "en quotation attached", dir: "out", text: "Dear Tom, please find attached our quotation QT-2026-0501.", atts: []string{"Quotation_QT-2026-0501.pdf"}, want: KindQuote},
	{name: "en per unit price in body", dir: "out", text: "Our best price is USD 2.35/pc FOB Ningbo, MOQ 1000 pcs.", want: KindQuote},
	{name: "en proforma", dir: "out", subject: "PI for PO 5512", text: "Please find attached the proforma invoice for your PO 5512.", want: KindQuote},
	{name: "en price list to many", dir: "out", subject: "New price list 2027", text: "Dear customers, attached is our new price list, valid until 31 Dec.", atts: []string{"Price List 2027.pdf"}, want: KindQuote},
	{name: "en revised quotation", dir: "out", text: "As discussed, attached is the revised quotation with the new packing.", atts: []string{"QT-2026-0501_rev2.xlsx"}, want: KindQuote},
	{name: "en will quote tomorrow", dir: "out", subject: "RE: RFQ 2026/114", text: "Well noted. We will send you the quotation tomorrow.", want: KindEmail, rule: "email.en.will_quote"},
	{name: "en will quote no object", dir: "out", text: "Thanks for your inquiry, we will quote within 2 days.", want: KindEmail},
	{name: "en ack asks details", dir: "out", text: "Could you confirm the CCT and beam angle first? Then I will send you the price.", want: KindEmail},
	{name: "en buyer thanks for quote", dir: "in", subject: "Re: Quotation QT-2026-0501", text: "Thank you for your quotation. We will review it with our client.", want: KindEmail, rule: "email.en.quote_reply"},
	{name: "en counter offer", dir: "in", text: "Your price is too high. Our target price is USD 2.10/pc.", want: KindEmail},
	{name: "en purchase order", dir: "in", text: "Please find attached our purchase order 4471 and send us the PI.", atts: []string{"PO4471.pdf"}, want: KindEmail},
	{name: "en sample request", dir: "in", text: "Could you send 2 samples for testing? We pay the courier.", want: KindEmail, rule: DefaultRule},
	{name: "en catalogue only", dir: "out", text: "Attached is our 2027 catalogue for your reference.", atts: []string{"Catalogue_2027.pdf"}, want: KindEmail},
	{name: "en inherited rfq subject", dir: "in", subject: "Re: RFQ - LED tubes", text: "Goods received in good order, thanks.", want: KindEmail, rule: DefaultRule},
	{name: "en inherited quotation subject", dir: "out", subject: "RE: Quotation needed", text: "Samples were sent today by DHL.", want: KindEmail, rule: DefaultRule},
	{name: "en payment reminder with amount", dir: "out", text: "Kindly arrange the balance payment of USD 12,400.00 so we can book the vessel.", want: KindEmail},
	{name: "en follow-up on quote", dir: "out", subject: "Following up - quotation", text: "Did you have a chance to review our quotation? Any feedback from your client?", want: KindEmail},

	// Chinese, simplified
	{name: "zh inquiry", dir: "in", text: "您好，我们需要LED面板灯2000只，请报个最优惠的价格，谢谢。", want: KindInquiry},
	{name: "zh inquiry subject", dir: "in", subject: "询价：LED投光灯", text: "见附件清单。", want: KindInquiry},
	{name: "zh quote", dir: "out", text: "您好，报价如下：LED面板灯 单价USD 6.50，FOB宁波。", want: KindQuote},
	{name: "zh quote attachment", dir: "out", text: "王总您好，详见附件报价单。", atts: []string{"报价单-2026.xlsx"}, want: KindQuote},
	{name: "zh will quote", dir: "out", text: "收到，我们明天报价。", want: KindEmail, rule: "email.zh.will_quote"},
	{name: "zh full-width colon and letters", dir: "in", text: "请给我们发一下最新价格表：ＬＥＤ灯带", want: KindInquiry},
	{name: "zh buyer counter", dir: "in", text: "报价收到了，价格有点高，我们的目标价是USD 5.8。", want: KindEmail},

	// Chinese, traditional
	{name: "zh_tw inquiry", dir: "in", text: "您好，請報以下產品的價格：LED筒燈 3000個。", want: KindInquiry},
	{name: "zh_tw quote", dir: "out", text: "感謝您的詢價，報價如下：LED筒燈 單價 USD 2.10。", want: KindQuote},
	{name: "zh_tw will quote", dir: "out", text: "收到，我們明天報價給您。", want: KindEmail},
	{name: "zh_tw buyer reply", dir: "in", text: "報價收到了，謝謝。我們評估後再跟您聯絡。", want: KindEmail},

	// Japanese
	{name: "ja inquiry", dir: "in", text: "下記製品のお見積りをお願いいたします。数量：500個", want: KindInquiry},
	{name: "ja unit price question", dir: "in", text: "LEDパネルの単価を教えていただけますか。", want: KindInquiry},
	{name: "ja quote", dir: "out", text: "ご依頼の件、お見積書を添付いたします。", atts: []string{"見積書_2026-031.pdf"}, want: KindQuote},
	{name: "ja buyer thanks", dir: "in", text: "お見積りありがとうございます。社内で検討いたします。", want: KindEmail},
	{name: "ja will quote", dir: "out", text: "明日お見積りをお送りします。", want: KindEmail},

	// Spanish
	{name: "es inquiry", dir: "in", text: "Buenos días, ¿nos pueden enviar su lista de precios para reflectores LED 50W?", want: KindInquiry},
	{name: "es quote", dir: "out", text: "Le adjuntamos nuestra cotización. El precio unitario es USD 3,20.", want: KindQuote},
	{name: "es will quote", dir: "out", text: "Recibido. Le enviaremos la cotización mañana.", want: KindEmail},
	{name: "es buyer thanks", dir: "in", subject: "RE: Cotización 118", text: "Gracias por su cotización, la revisaremos con nuestro cliente.", want: KindEmail},

	// Portuguese
	{name: "pt inquiry", dir: "in", text: "Por favor, enviem a cotação para 5.000 lâmpadas LED.", want: KindInquiry},
	{name: "pt quote", dir: "out", text: "Segue em anexo a nossa cotação. Preço unitário USD 0,48.", want: KindQuote},
	{name: "pt will quote", dir: "out", text: "Recebido, enviaremos a cotação amanhã.", want: KindEmail},
	{name: "pt buyer thanks", dir: "in", text: "Obrigado pela cotação, vamos analisar com o cliente.", want: KindEmail},

	// Russian
	{name: "ru inquiry", dir: "in", text: "Добрый день! Просим прислать цены на светодиодные панели, 2 000 шт.", want: KindInquiry},
	{name: "ru quote", dir: "out", text: "Направляем наше коммерческое предложение во вложении. Цена за шт. — USD 6,10.", want: KindQuote},
	{name: "ru will quote", dir: "out", text: "Спасибо за запрос, подготовим КП завтра.", want: KindEmail},
	{name: "ru buyer thanks", dir: "in", text: "Спасибо, предложение получили, обсудим с руководством.", want: KindEmail},
	{name: "ru follow-up", dir: "out", text: "Удалось ли рассмотреть наше предложение?", want: KindEmail},

	// German
	{name: "de inquiry", dir: "in", text: "Könnten Sie uns bitte ein Angebot für 800 Stück LED-Strahler senden?", want: KindInquiry},
	{name: "de quote", dir: "out", text: "Anbei erhalten Sie unser Angebot Nr. 2026-118. Stückpreis EUR 4,10.", want: KindQuote},
	{name: "de will quote", dir: "out", text: "Vielen Dank, wir werden Ihnen morgen ein Angebot senden.", want: KindEmail},
	{name: "de buyer thanks", dir: "in", text: "Vielen Dank für Ihr Angebot, wir prüfen es intern.", want: KindEmail},
	{name: "de sample request", dir: "in", subject: "Musteranfrage", text: "Für die Freigabe benötigen wir zwei Muster.", want: KindEmail},

	// French
	{name: "fr inquiry", dir: "in", text: "Bonjour, pourriez-vous nous envoyer votre meilleur prix pour 1000 pièces ?", want: KindInquiry},
	{name: "fr quote", dir: "out", text: "Veuillez trouver ci-joint notre devis. Prix unitaire : 3,50 EUR.", want: KindQuote},
	{name: "fr will quote", dir: "out", text: "Bien reçu, nous vous enverrons le devis demain.", want: KindEmail},
	{name: "fr buyer thanks", dir: "in", text: "Merci pour votre devis, nous revenons vers vous.", want: KindEmail},

	// Arabic: with and without hamza and harakat
	{name: "ar inquiry", dir: "in", text: "نرجو إرسال أفضل سعر لـ 1000 قطعة من كشاف LED", want: KindInquiry},
	{name: "ar inquiry price list", dir: "in", text: "نرغب في الحصول على قائمة الأسعار الخاصة بكم.", want: KindInquiry},
	{name: "ar quote", dir: "out", text: "مرفق عرض السعر، سعر الوحدة 5 دولار.", want: KindQuote},
	{name: "ar buyer thanks", dir: "in", text: "شُكْراً على عرض السعر، سندرسه.", want: KindEmail},
	{name: "ar will quote", dir: "out", text: "سنرسل لكم عرض السعر غدا.", want: KindEmail},
}

func TestKind(t *testing.T) {
	r := Default()
	for _, c := range kindCases {
		t.Run(c.name, func(t *testing.T) {
			v := r.Kind(c.message(), c.dir, false)
			if v.Kind != c.want || (c.rule != "" && v.Rule != c.rule) {
				t.Errorf("got %+v, want kind %s rule %q", v, c.want, c.rule)
			}
			if v.Confidence <= 0 || v.Confidence >= 1 {
				t.Errorf("confidence %v out of (0, 1)", v.Confidence)
			}
			if !strings.HasPrefix(v.Rule, v.Kind+".") {
				t.Errorf("rule %q does not name kind %s", v.Rule, v.Kind)
			}
		})
	}
}

// Quoted history and forwarded text must not decide: a buyer's "thanks"
// quoting our price table is no quote, our quote quoting his RFQ is no
// inquiry, and an internal forward is judged on the original.
func TestKindOwnText(t *testing.T) {
	r := Default()
	quotedTable := "Thanks, received. We will check with our end user.\n\n" +
		"On Mon, Feb 2, 2026 at 10:00, Amy <amy@example.cn> wrote:\n" +
		"> Please find our quotation below:\n> No. | Item | Qty | Unit Price | Amount\n> 1 | Panel | 500 | USD 7.10 | USD 3,550.00\n"
	tests := []struct {
		name      string
		m         *message.Message
		dir       string
		forwarded bool
		want      string
	}{
		{"reply quoting our table, parser left it in", &message.Message{Subject: "Re: Quotation", Text: quotedTable, NewText: quotedTable}, "in", false, KindEmail},
		{"reply quoting our table, NewText empty", &message.Message{Text: quotedTable}, "in", false, KindEmail},
		{"outlook separator", &message.Message{NewText: "Samples sent today.\n________________________________\nFrom: Bob\nSent: Monday\nSubject: RFQ\nPlease quote 500 pcs."}, "out", false, KindEmail},
		{"internal forward of an RFQ, parsed", &message.Message{
			Subject: "FW: Price request", NewText: "Kevin, your customer, please handle.",
			Forwarded: []message.Forward{{Subject: "Price request", Text: "Dear Sirs, please quote 3,000 pcs T8 tubes FOB Ningbo."}},
		}, "out", true, KindInquiry},
		{"internal forward of an RFQ, inline only", &message.Message{
			Subject: "Fw: Price request",
			Text:    "Please follow up.\n\n------------------ 原始邮件 ------------------\n发件人: \"Dan\"<dan@buyer.com>;\n发送时间: 2026年08月01日\n主题: Price request\n\nDear Sir, could you tell me the current price for 1,000 pcs?",
		}, "out", true, KindInquiry},
		{"internal forward of a complaint", &message.Message{
			Subject:   "Fwd: Complaint",
			Forwarded: []message.Forward{{Text: "We received the goods but 30 pcs are not working."}},
		}, "out", true, KindEmail},
		{"forward flag with nothing forwarded: own price list", &message.Message{
			Subject: "Price list update", NewText: "Dear valued customer, please find attached our price list.",
			Attachments: []message.Attachment{{Filename: "Price List 2026.pdf"}},
		}, "out", true, KindQuote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := r.Kind(tt.m, tt.dir, tt.forwarded); v.Kind != tt.want {
				t.Errorf("got %+v, want %s", v, tt.want)
			}
		})
	}
}

func BenchmarkKind(b *testing.B) {
	r := Default()
	msgs := make([]*message.Message, len(kindCases))
	for i, c := range kindCases {
		msgs[i] = c.message()
	}
	// A realistic quote: greeting, table, terms, signature, quoted RFQ.
	long := strings.Repeat("No. | Item | Qty | Unit Price | Amount\n1 | LED panel 600x600 40W | 1,500 | USD 7.50 | USD 11,250.00\n", 6) +
		"Price term: FOB Ningbo\nPayment: 30% T/T deposit\nBest regards,\nAmy Chen\nSales Manager\nTel: +86-574-8812 6630\n" +
		"------------------ Original ------------------\nFrom: buyer\n" + strings.Repeat("> please quote the items below\n", 20)
	msgs = append(msgs, &message.Message{Subject: "RE: RFQ", Text: long, NewText: long})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i%len(msgs)]
		r.Kind(m, []string{"in", "out"}[i%2], false)
	}
}

// Plausible buyer and rep sentences that mention prices or quotations but
// are neither an inquiry nor a quote.
var kindFalseFriends = []kindCase{
	{name: "check price on invoice", dir: "in", text: "Please check the price on invoice PI-2211, it does not match the PO.", want: KindEmail},
	{name: "appreciate your offer", dir: "in", text: "Appreciate your offer, we will revert after the meeting.", want: KindEmail},
	{name: "forward your quotation", dir: "in", text: "I will forward your quotation to our client and come back to you.", want: KindEmail},
	{name: "quote our PO number", dir: "in", text: "Please quote our PO number 7781 on all documents and cartons.", want: KindEmail},
	{name: "here is tracking", dir: "out", text: "Here is the tracking number, the price of the courier is on us.", want: KindEmail},
	{name: "balance with amount", dir: "out", text: "Total amount USD 32,886.00, balance USD 23,020.20 due before shipment.", want: KindEmail},
}

func TestKindFalseFriends(t *testing.T) {
	r := Default()
	for _, c := range kindFalseFriends {
		if v := r.Kind(c.message(), c.dir, false); v.Kind != c.want {
			t.Errorf("%s: got %+v, want %s", c.name, v, c.want)
		}
	}
}

// One Mail answers Noise and then Kind, in both directions and as a
// forward, exactly as fresh calls do: what it keeps is only a cache.
func TestMailSharesText(t *testing.T) {
	r := Default()
	cases := append(kindCases, kindFalseFriends...)
	for i, c := range cases {
		m := c.message()
		other := cases[(i+1)%len(cases)] // forwarded, and judged otherwise
		m.Forwarded = []message.Forward{{Text: other.text + "\n> quoted", Subject: other.subject}}
		ml := r.Prepare(m)
		if reason, rule := ml.Noise(); reason != "" {
			t.Errorf("%s: noise %s", c.name, rule)
		}
		for _, dir := range []string{"in", "out"} {
			for _, fwd := range []bool{false, true} {
				if got, want := ml.Kind(dir, fwd), r.Kind(m, dir, fwd); got != want {
					t.Errorf("%s, %s, forwarded %v: shared %+v, fresh %+v", c.name, dir, fwd, got, want)
				}
			}
		}
	}
}

func TestHasColon(t *testing.T) {
	for _, l := range []string{"", "From:", "发件人：张三", "no colon", "全角冒号", "\xef\xbc", ":\xff", "\xff\xef\xbc\x9a"} {
		if got, want := hasColon(l), strings.ContainsAny(l, ":："); got != want {
			t.Errorf("hasColon(%q) = %v, want %v", l, got, want)
		}
	}
}
