package message

import (
	"reflect"
	"strings"
	"testing"
)

// TestNewText cuts quoted history and forwarded blocks in each client's
// style. Each body is "new text", a marker, and history.
func TestNewText(t *testing.T) {
	const mine = "Hi Jim,\n\nPrice is USD 12.50/pc FOB Ningbo.\n\nBest regards,\nAmy"
	tests := []struct {
		name, history string
	}{
		{"gmail en", "On Mon, Jun 9, 2025 at 9:10 AM Jim Patterson <jim@example.com> wrote:\n> Please quote.\n>\n> Jim"},
		{"gmail en wrapped", "On Mon, Jun 9, 2025 at 9:10 AM Jim Patterson <\njim@example.com> wrote:\n\n> Please quote."},
		{"thunderbird", "On 09/06/2025 09:10, Jim Patterson wrote:\n> Please quote."},
		{"apple", "On Jun 9, 2025, at 09:10, Jim Patterson <jim@example.com> wrote:\n\n> Please quote."},
		{"outlook original message", "-----Original Message-----\nFrom: Jim Patterson [mailto:jim@example.com]\nSent: Monday, June 9, 2025 9:10 AM\nTo: Amy\nSubject: RFQ\n\nPlease quote."},
		{"outlook header block after rule", "________________________________\nFrom: Jim Patterson <jim@example.com>\nSent: Monday, June 9, 2025 9:10 AM\nTo: Amy Chen <amy@example.cn>\nSubject: RFQ\n\nPlease quote."},
		{"outlook header block", "From: Jim Patterson <jim@example.com>\nSent: Monday, June 9, 2025 9:10 AM\nTo: Amy Chen\nSubject: RFQ\n\nPlease quote."},
		{"outlook bold labels from html", "*From:* Jim Patterson <jim@example.com>\n*Sent:* Monday, June 9, 2025 9:10 AM\n*Subject:* RFQ"},
		{"outlook zh", "发件人: Jim Patterson <jim@example.com>\n发送时间: 2025年6月9日 9:10\n收件人: 王凯\n主题: 询价"},
		{"outlook zh full-width colon", "发件人：Jim Patterson <jim@example.com>\n发送时间：2025年6月9日 9:10\n主题：询价"},
		{"qq mail", "------------------ 原始邮件 ------------------\n发件人: \"Jim Patterson\"<jim@example.com>;\n发送时间: 2025年6月9日(星期一) 上午9:10\n收件人: \"Amy\"<amy@example.cn>;\n主题: 询价\n\nPlease quote."},
		{"foxmail en", "------------------ Original ------------------\nFrom: \"Jim Patterson\"<jim@example.com>;\nDate: Mon, Jun 9, 2025 09:10 AM\nTo: \"Amy\"<amy@example.cn>;\nSubject: RFQ"},
		{"gmail zh", "Jim Patterson <jim@example.com> 于2025年6月9日周一 09:10写道：\n> Please quote."},
		{"zh 在…写道", "在 2025年6月9日 09:10，\"Jim Patterson\"<jim@example.com> 写道：\n> 请报价。"},
		{"gmail zh-tw", "Jim Patterson <jim@example.com> 於 2025年6月9日 週一 上午9:10寫道：\n> 請報價。"},
		{"outlook zh-tw", "寄件者: 黃志豪 <jhhuang@example.com.tw>\n寄件日期: 2025年6月9日 上午 09:10\n收件者: Amy\n主旨: 詢價"},
		{"gmail es", "El lun, 9 jun 2025 a las 9:10, Jim Patterson (<jim@example.com>) escribió:\n> Cotización"},
		{"gmail de", "Am Mo., 9. Juni 2025 um 09:10 Uhr schrieb Hans Krüger <h@example.de>:\n> Anfrage"},
		{"gmail fr", "Le lun. 9 juin 2025 à 09:10, Jean Dupont <j@example.fr> a écrit :\n> Demande"},
		{"ru", "9 июня 2025 г., в 09:10, Иван Петров <i@example.ru> написал(а):\n> Запрос"},
		{"ru mail.ru", "Понедельник, 9 июня 2025, 9:10 +03:00 от Иван <i@example.ru>:\n> Запрос"},
		{"outlook ru", "От: Иван Петров <i@example.ru>\nОтправлено: 9 июня 2025 г. 9:10\nКому: Amy\nТема: Запрос"},
		{"gmail pt", "Em seg., 9 de jun. de 2025 às 09:10, João Silva <j@example.com.br> escreveu:\n> Cotação"},
		{"outlook es", "De: Jim Patterson <jim@example.com>\nEnviado el: lunes, 9 de junio de 2025 9:10\nPara: Amy\nAsunto: Cotización"},
		{"outlook de", "Von: Hans Krüger <h@example.de>\nGesendet: Montag, 9. Juni 2025 09:10\nAn: Amy\nBetreff: Anfrage"},
		{"gmail ja", "2025年6月9日(月) 9:10 山本 健一 <yamamoto@example.jp>:\n> 見積依頼"},
		{"ja wrote", "On 2025/06/09 9:10, Yamamoto Kenichi wrote:\n> 見積依頼"},
		{"ja 書きました", "山本さんは書きました:\n> 見積依頼"},
		{"outlook ja", "差出人: 山本 健一 <yamamoto@example.jp>\n送信日時: 2025年6月9日 9:10\n宛先: Amy\n件名: 見積依頼"},
		{"gmail ar", "في الاثنين، 9 يونيو 2025 في 9:10 ص كتب علي <ali@example.iq>:\n> طلب"},
		{"gmail forward", "---------- Forwarded message ---------\nFrom: Jim Patterson <jim@example.com>\nDate: Mon, Jun 9, 2025 at 9:10 AM\nSubject: RFQ\nTo: <amy@example.cn>"},
		{"thunderbird forward", "-------- Forwarded Message --------\nSubject: RFQ\nDate: Mon, 9 Jun 2025 09:10:13 +0800\nFrom: Jim Patterson <jim@example.com>"},
		{"netease forward", "-------- 转发邮件信息 --------\n发件人：\"Jim Patterson\" <jim@example.com>\n发送日期：2025-06-09 09:10:13\n主题：RFQ"},
		{"apple forward", "Begin forwarded message:\n\nFrom: Jim Patterson <jim@example.com>\nSubject: RFQ"},
		{"gmail zh forward", "---------- 已转发邮件 ---------\n发件人： Jim Patterson <jim@example.com>\n主题：RFQ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newText(mine + "\n\n" + tt.history); got != mine {
				t.Errorf("newText =\n%s\nwant\n%s", got, mine)
			}
		})
	}
}

func TestNewTextKeeps(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"signature", "Thanks.\n\n-- \nAmy Chen\nSales", "Thanks.\n\n-- \nAmy Chen\nSales"},
		{"interleaved reply", "See below.\n\n> What is the MOQ?\n500 pcs.\n> Lead time?\n15 days.", "See below.\n\n500 pcs.\n15 days."},
		{"freight route is not a header block", "Rates:\nFrom: Ningbo\nTo: Hamburg\nUSD 1200/40HQ", "Rates:\nFrom: Ningbo\nTo: Hamburg\nUSD 1200/40HQ"},
		{"a colon at the end is not an attribution", "Dear Sir:\nPlease find our price list as follows:\n1. Panel", "Dear Sir:\nPlease find our price list as follows:\n1. Panel"},
		{"arabic office is not كتب", "عنوان مكتبنا:\nدبي", "عنوان مكتبنا:\nدبي"},
		{"plain rule", "Price list\n----------\nPanel 12.50", "Price list\n----------\nPanel 12.50"},
		{"all quoted", "On Mon, Jim wrote:\n> hi", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newText(tt.text); got != tt.want {
				t.Errorf("newText =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestForwardedInline(t *testing.T) {
	tests := []struct {
		name, subject, body string
		want                []Forward
	}{
		{
			"gmail en", "Fwd: Complaint - order PO1196",
			"Kevin - FYI, your customer, please handle.\n\n---------- Forwarded message ---------\nFrom: Brian Walsh <bwalsh@nsl-lighting.com>\nDate: Mon, Jun 9, 2025 at 9:10 AM\nSubject: Complaint - order PO1196\nTo: <mia@nblumiway.cn>\n\n\nDear Sir/Madam,\nWe received the goods.\n\nOn Sun, Mia wrote:\n> old",
			[]Forward{{From: []Address{{"Brian Walsh", "bwalsh@nsl-lighting.com"}}, Subject: "Complaint - order PO1196", Text: "Dear Sir/Madam,\nWe received the goods."}},
		},
		{
			"outlook FW with original message and mailto", "FW: Запрос цены",
			"Mia - FYI, your customer, please handle.\n\n-----Original Message-----\nFrom: Dmitry Sokolov [mailto:d.sokolov@svet-ural.ru]\nSent: Monday, June 9, 2025 9:10 AM\nTo: Jason\nSubject: Запрос цены\n\nДобрый день!",
			[]Forward{{From: []Address{{"Dmitry Sokolov", "d.sokolov@svet-ural.ru"}}, Subject: "Запрос цены", Text: "Добрый день!"}},
		},
		{
			"outlook FW header block only", "FW: RFQ",
			"Please follow up.\n\n________________________________\nFrom: Jim Patterson <jim@example.com>\nSent: Monday, June 9, 2025 9:10 AM\nTo: info\nSubject: RFQ\n\nPlease quote.\n\nFrom: Amy <amy@example.cn>\nSent: Sunday\nSubject: older",
			[]Forward{{From: []Address{{"Jim Patterson", "jim@example.com"}}, Subject: "RFQ", Text: "Please quote."}},
		},
		{
			"qq mail 转发", "Fw:Pls quote LED bulb",
			"Jason，这个客户询价，请跟进一下。\n\n------------------ 原始邮件 ------------------\n发件人: \"Cape Lumens\"<orders@capelumens.co.za>;\n发送时间: 2025年6月9日(星期一) 上午9:10\n收件人: \"info\"<info@lumiway-lighting.com>;\n主题: Pls quote LED bulb\n\nDear Sirs,\npls quote.",
			[]Forward{{From: []Address{{"Cape Lumens", "orders@capelumens.co.za"}}, Subject: "Pls quote LED bulb", Text: "Dear Sirs,\npls quote."}},
		},
		{
			"netease 转发邮件信息", "转发：询价",
			"请跟进。\n\n-------- 转发邮件信息 --------\n发件人：\"陈志明\" <tanlim@example.my>\n发送日期：2025-06-09 09:10:13\n收件人：info@lumiway-lighting.com\n主题：询价\n\n你好，请报价。",
			[]Forward{{From: []Address{{"陈志明", "tanlim@example.my"}}, Subject: "询价", Text: "你好，请报价。"}},
		},
		{
			"thunderbird, From not first", "Fwd: RFQ",
			"-------- Forwarded Message --------\nSubject: \tRFQ\nDate: \tMon, 9 Jun 2025 09:10:13 +0800\nFrom: \tJim <jim@example.com>\nTo: \tinfo@example.cn\n\nPlease quote.",
			[]Forward{{From: []Address{{"Jim", "jim@example.com"}}, Subject: "RFQ", Text: "Please quote."}},
		},
		{
			"apple", "Fwd: RFQ",
			"Begin forwarded message:\n\nFrom: Jim <jim@example.com>\nSubject: RFQ\nDate: 9 June 2025 at 09:10:13 GMT+8\nTo: info@example.cn\n\nPlease quote.",
			[]Forward{{From: []Address{{"Jim", "jim@example.com"}}, Subject: "RFQ", Text: "Please quote."}},
		},
		{
			"von/de/от labels", "WG: Anfrage",
			"---------- Weitergeleitete Nachricht ---------\nVon: Hans Krüger <h@example.de>\nDatum: Mo., 9. Juni 2025 um 09:10\nBetreff: Anfrage\nAn: <info@example.cn>\n\nBitte um Angebot.",
			[]Forward{{From: []Address{{"Hans Krüger", "h@example.de"}}, Subject: "Anfrage", Text: "Bitte um Angebot."}},
		},
		{
			"a reply's history is not a forward", "Re: RFQ",
			"Thanks.\n\nFrom: Jim <jim@example.com>\nSent: Monday\nSubject: RFQ\n\nPlease quote.",
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(rawMail(tt.body, "From: info@lumiway-lighting.com", "Subject: "+tt.subject, "Content-Type: text/plain; charset=utf-8"))
			if !reflect.DeepEqual(m.Forwarded, tt.want) {
				t.Errorf("Forwarded =\n%#v\nwant\n%#v", m.Forwarded, tt.want)
			}
			if m.Malformed {
				t.Errorf("Problems = %q", m.Problems)
			}
		})
	}
}

func TestForwardedAttached(t *testing.T) {
	inner := "From: =?utf-8?Q?Javier_Mart=C3=AD?= <javier.marti@iluminacioneslevante.es>\n" +
		"Subject: New order plan\nContent-Type: text/plain; charset=iso-8859-1\n\n" +
		"Estimados se\xf1ores,\nplease quote.\n\nOn Mon, Amy wrote:\n> old\n"
	raw := rawMail("--b\nContent-Type: text/plain\n\nFYI.\n--b\nContent-Type: message/rfc822; name=\"New order plan.eml\"\nContent-Disposition: attachment\n\n"+
		inner+"\n--b--\n", "From: sophia@lumiway-lighting.com", "Subject: FW: New order plan", "Content-Type: multipart/mixed; boundary=b")
	m := Parse(raw)
	want := []Forward{{
		From:    []Address{{"Javier Martí", "javier.marti@iluminacioneslevante.es"}},
		Subject: "New order plan",
		Text:    "Estimados señores,\nplease quote.",
	}}
	if !reflect.DeepEqual(m.Forwarded, want) {
		t.Errorf("Forwarded =\n%#v\nwant\n%#v", m.Forwarded, want)
	}
	if m.Text != "FYI." || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "message/rfc822" ||
		m.Attachments[0].Filename != "New order plan.eml" {
		t.Errorf("Text=%q Attachments=%#v", m.Text, m.Attachments)
	}
	if m.Malformed {
		t.Errorf("Problems = %q", m.Problems)
	}
}

func TestForwardedBounce(t *testing.T) {
	raw := rawMail(`--r
Content-Type: text/plain

This is the mail system at host mx.example.cn.
I'm sorry to have to inform you that your message could not be delivered.

From: Amy <amy@example.cn>
Sent: Monday
Subject: not a forward marker in a report

--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.cn
Final-Recipient: rfc822; gone@example.com
Action: failed
Status: 5.1.1

--r
Content-Type: message/rfc822

From: Amy Chen <amy@example.cn>
To: gone@example.com
Subject: Quotation QT-1
Content-Type: text/plain

Dear Sir, please find our quotation.
--r--
`, "From: MAILER-DAEMON@example.cn (Mail Delivery System)", "Subject: Undelivered Mail Returned to Sender",
		`Content-Type: multipart/report; report-type=delivery-status; boundary="r"`)
	m := Parse(raw)
	want := []Forward{{From: []Address{{"Amy Chen", "amy@example.cn"}}, Subject: "Quotation QT-1", Text: "Dear Sir, please find our quotation."}}
	if !reflect.DeepEqual(m.Forwarded, want) {
		t.Errorf("Forwarded =\n%#v\nwant\n%#v", m.Forwarded, want)
	}
	if len(m.Attachments) != 0 {
		t.Errorf("a report adds no attachments: %#v", m.Attachments)
	}
	if !strings.HasPrefix(m.Text, "This is the mail system") || strings.Contains(m.Text, "Reporting-MTA") {
		t.Errorf("Text = %q", m.Text)
	}
	if m.ContentType != "multipart/report" || m.From[0].Name != "Mail Delivery System" {
		t.Errorf("ContentType=%q From=%#v", m.ContentType, m.From)
	}

	// text/rfc822-headers: only the header of the original.
	raw = rawMail("--r\nContent-Type: text/plain\n\nfailed\n--r\nContent-Type: text/rfc822-headers\n\nFrom: amy@example.cn\nSubject: Hello\n--r--\n",
		`Content-Type: multipart/report; report-type=delivery-status; boundary=r`)
	m = Parse(raw)
	if len(m.Forwarded) != 1 || m.Forwarded[0].Subject != "Hello" || m.Forwarded[0].From[0].Email != "amy@example.cn" {
		t.Errorf("rfc822-headers: Forwarded = %#v", m.Forwarded)
	}
}

// headerLabelWholeLine is headerLabel as first written, which looked for
// the colon in the whole line: headerLabel must read the same.
func headerLabelWholeLine(line string) (label, value string, ok bool) {
	t := strings.TrimLeft(strings.TrimSpace(line), "*")
	return splitLabel(t, strings.IndexAny(t, ":："))
}

var labelSeeds = []string{
	"From: a@x", "*From:* a", "发件人：张三", "  Subject : hi", strings.Repeat("x", 38) + "：y", strings.Repeat("x", 39) + "：y",
	strings.Repeat("x", 40) + ":y", strings.Repeat("x", 41) + ":y", strings.Repeat("é", 20) + "：", ":x", "", "**",
	strings.Repeat("x", 39) + "\xef\xbc" + "：", "From\xff: x", strings.Repeat("From: long line ", 100),
	"发件人\xe3：x", "\xe3\xef\xbc\x9a", "发\xef\xbc件人：x", "\xef\xbc\x9a\xbc:", "Von:：x", "Von：:x",
}

func FuzzHeaderLabel(f *testing.F) {
	for _, s := range labelSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := firstColon(s), strings.IndexAny(s, ":："); got != want {
			t.Errorf("firstColon(%q) = %d, want %d", s, got, want)
		}
		l, v, ok := headerLabel(s)
		if wl, wv, wok := headerLabelWholeLine(s); l != wl || v != wv || ok != wok {
			t.Errorf("headerLabel(%q) = %q, %q, %v; want %q, %q, %v", s, l, v, ok, wl, wv, wok)
		}
	})
}
