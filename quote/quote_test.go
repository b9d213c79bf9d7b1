package quote

import (
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/message"
)

func TestRead(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		files []string
		want  Details
	}{
		{"stated total, ref in text", "Le adjunto la cotización QT-2025-0116. El precio es USD 29.37 por unidad. Total: USD 11,748.00.",
			nil, Details{"QT-2025-0116", "USD", "11748.00"}},
		{"total for your quantity", "Total for your quantity: USD 82,421.00.\nPlease see the attached quotation sheet.",
			[]string{"Quotation_QT-2025-0250.pdf"}, Details{"QT-2025-0250", "USD", "82421.00"}},
		{"chinese total, ref from file", "您好，LED投光灯 100W IP65的价格是USD 12.88/只，总金额USD 35,364.00。详细请见附件报价单。",
			[]string{"报价单-QT-2026-0187.xlsx"}, Details{"QT-2026-0187", "USD", "35364.00"}},
		{"table summed", "No. | Item | Qty | Unit Price | Amount\n1 | LED panel | 1,500 | USD 7.50 | USD 11,250.00\n" +
			"2 | LED bulb | 15,000 | USD 0.40 | USD 6,000.00\n3 | LED strip | 2,000 | USD 0.91 | USD 1,820.00\n",
			nil, Details{"", "USD", "19070.00"}},
		{"table in two currencies is not summed", "1 | a | 10 | USD 1.00 | USD 10.00\n2 | b | 10 | EUR 1.00 | EUR 10.00\n",
			nil, Details{"", "USD", ""}},
		{"deposit is not a total", "Attached is the PI for your PO PO1876. Please arrange the deposit of AUD 1,539.00.",
			[]string{"Proforma Invoice PI-20251107.pdf"}, Details{"PI-20251107", "AUD", ""}},
		{"labelled number, german total with comma decimals", "Angebot Nr. 2025-118\nGesamtbetrag: 9.876,50 EUR netto",
			nil, Details{"2025-118", "EUR", "9876.50"}},
		{"russian", "Коммерческое предложение № КП-45/2025\nИтого: 1 250,00 EUR",
			nil, Details{"КП-45/2025", "EUR", "1250.00"}},
		{"full-width chinese label", "报价单号：QT2026-0301\n合计：￥ 12,000", nil, Details{"QT2026-0301", "CNY", "12000.00"}},
		{"yen in japanese", "お見積書番号: Q-778\n合計金額 ¥1,250,000（税込）", nil, Details{"Q-778", "JPY", "1250000.00"}},
		{"later total wins", "Subtotal: USD 100.00\nFreight: USD 20.00\nGrand total: USD 120.00", nil, Details{"", "USD", "120.00"}},
		{"nothing", "Thanks, we will quote tomorrow.", nil, Details{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &message.Message{Text: c.text, NewText: c.text}
			for _, f := range c.files {
				m.Attachments = append(m.Attachments, message.Attachment{Filename: f})
			}
			if got := Read(m); got != c.want {
				t.Errorf("Read = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestQuotedHistoryIgnored(t *testing.T) {
	m := &message.Message{
		Text:    "Thanks for the order.\n\n> Quotation QT-2025-0001\n> Total: USD 5,000.00",
		NewText: "Thanks for the order.",
	}
	if got := Read(m); got != (Details{}) {
		t.Errorf("Read = %+v, want nothing from quoted history", got)
	}
}

func TestNormalizeAmount(t *testing.T) {
	for in, want := range map[string]string{
		"11,250.00": "11250.00", "11.250,00": "11250.00", "11 250,5": "11250.50", "1'250.50": "1250.50",
		"11250": "11250.00", "1,250": "1250.00", "0.40": "0.40", "007": "7.00",
	} {
		if got, ok := normalizeAmount(in); !ok || got != want {
			t.Errorf("normalizeAmount(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// tokenRefWhole is tokenRef as first written, on the whole text at once:
// tokenRef, line by line, must find the same.
func tokenRefWhole(s string) string {
	if m := refTokenRE.FindStringSubmatch(s); m != nil {
		return strings.Replace(m[1], " ", "-", 1)
	}
	return ""
}

var tokenSeeds = []string{
	"", "QT-2025-0315", "see QT 2025-0315 attached", "xQT12 and PI-20251107\n", "a\nQT12\nb", "QT1\n2", "QT 12\n34",
	"PI_12/34-AB\r\nQUOT/99", "\u212AP-12 and kp12", "qtn2025031.", "PI-2025-\nPFI-77", "OFF12x ANG-33", "1\n2\n33 PI-44",
	"QT-12-ABCDEFGHI", "ПИ-12 QT-12", "QT-12_", "_QT-12", "line1\n\nline3 PI99",
	"x\u212AP12", "\u212Ap-12", "flood light 100W", "gross weight 18 kg", "qUoT/2025", "Quo 12", "pfi_33", "aNg44", "Qtn 55",
	"OFF-", "PI-1", "é\u212AP12", "\xe2\x84\xaaP12", "\x84\xaaP12",
}

func FuzzTokenRef(f *testing.F) {
	long := strings.Repeat("We confirm the order of 2,000 pcs at 25 days.\n", 400) + "Our ref: QT-2026-0099\n"
	for _, s := range append(tokenSeeds, long) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tokenRef(s), tokenRefWhole(s); got != want {
			t.Errorf("tokenRef(%q) = %q, want %q", s, got, want)
		}
	})
}

// refInAlways is refIn as first written, which ran refLabelRE on lines
// with no digit too: refIn must read the same.
func refInAlways(lines, text string) string {
	for _, m := range refLabelRE.FindAllStringSubmatch(lines, -1) {
		if r := strings.TrimRight(m[1], "./-_"); strings.ContainsAny(r, "0123456789") && len(r) >= 3 {
			return r
		}
	}
	return tokenRefWhole(text)
}

func FuzzRefIn(f *testing.F) {
	for _, s := range []string{"Quotation No.: QT-2025-0315", "thank you for the offer.\n", "PI No. ABC\nPI No. 123", "Angebot Nr. 2025-118",
		"Коммерческое предложение № КП-45/2025", "报价单号：QT2026-0301", "quote #\nABC-1", "offer no XYZ", "Quotation No: Q１２３"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, lines, text string) {
		if got, want := refIn(lines, text), refInAlways(lines, text); got != want {
			t.Errorf("refIn(%q, %q) = %q, want %q", lines, text, got, want)
		}
	})
}
