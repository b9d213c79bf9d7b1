// Package quote reads what a quotation or proforma invoice states about
// itself from a parsed message: its number (QT-2025-0315, PI-20251107),
// its currency and its total. It reads the rep's own text (never quoted
// history) and the attachment names, and nothing it is unsure of: a field
// it cannot read is left empty.
package quote

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/width"

	"github.com/mailtrail/mailtrail/message"
)

// Details is what a quote states. Amount is a plain decimal with a dot
// ("11250.00"); Currency an ISO 4217 code.
type Details struct {
	Ref      string
	Currency string
	Amount   string
}

// Read returns the details stated in m's own text and attachment names:
//   - Ref: a number after a label ("Quotation No.: X", "PI No. X",
//     "报价单号：X", "№ X") or a token shaped like one (QT-2025-0315,
//     PI-20251107, QTN2025031) in the text, else in an attachment name;
//   - Currency and Amount: a stated total ("Total: USD 11,748.00", "总金额
//     USD 35,364.00", "Итого: 1 250,00 EUR", "Gesamtbetrag 9.876,50 €");
//     without one, the sum of the line amounts of a price table whose rows
//     all end in an amount of one currency; else only the currency that the
//     prices are in.
func Read(m *message.Message) Details {
	text := m.NewText
	if strings.TrimSpace(text) == "" {
		text = m.Text
	}
	d := readText(text)
	if d.Ref == "" {
		for _, a := range m.Attachments {
			if r := tokenRef(width.Fold.String(strings.ReplaceAll(a.Filename, "_", " "))); r != "" {
				d.Ref = r
				break
			}
		}
	}
	return d
}

// FromMessage is Read, completed from the XLSX and PDF attachments that
// the parser kept (message.Attachment.Content) when the text leaves a
// field empty (a quotation sheet or a PI states its number and total in
// cells). PDFs are read for their text only: a scanned PI says nothing.
func FromMessage(m *message.Message) Details {
	d := Read(m)
	for _, a := range m.Attachments {
		if d.Ref != "" && d.Amount != "" {
			break
		}
		var read func([]byte) (Details, error)
		switch message.DocumentKind(a.Filename, a.ContentType) {
		case message.DocXLSX:
			read = ReadXLSX
		case message.DocPDF:
			// ReadPDF turns down a file that is no PDF by its first
			// bytes: look at those before decoding megabytes.
			if !hasPDFHeader(a.ContentPrefix(pdfHeaderSpan)) {
				continue
			}
			read = ReadPDF
		default:
			continue
		}
		content := a.Content()
		if content == nil {
			continue
		}
		if x, err := read(content); err == nil {
			d.fill(x)
		}
	}
	return d
}

// readText applies the text rules of Read to text (a message's own text,
// or the cells of a spreadsheet, one row per line).
func readText(text string) Details {
	text = width.Fold.String(text)
	l := splitLines(text)
	var d Details
	d.Ref = refIn(l.with(refLabelWords, true), text)
	d.Currency, d.Amount = totalIn(l.with(totalWords, false), text)
	prices := l.with(currencyWords, false)
	if d.Amount == "" {
		d.Currency, d.Amount = tableTotal(prices, text)
	}
	if d.Currency == "" {
		d.Currency = firstCurrency(prices, text)
	}
	return d
}

// fill sets the fields of d that are empty from o; the amount and the
// currency go together.
func (d *Details) fill(o Details) {
	if d.Ref == "" {
		d.Ref = o.Ref
	}
	if d.Amount == "" && o.Amount != "" {
		d.Amount, d.Currency = o.Amount, o.Currency
	}
	if d.Currency == "" {
		d.Currency = o.Currency
	}
}

// refLabelRE is a label that announces a quotation or PI number, and the
// number: it must hold a digit (checked after the match).
var refLabelRE = regexp.MustCompile(`(?i)(?:quotation|quote|offer|proforma(?: invoice)?|pro-forma(?: invoice)?|\bpi|\bqtn|cotizaci[oó]n|cota[cç][aã]o|or[cç]amento|angebot|devis|offre|` +
	`коммерческое предложение|предложение|счет|счёт|报价单|報價單|报价|報價|形式发票|形式發票|見積書|見積|عرض السعر|عرض سعر|فاتورة مبدئية)` +
	`\s*(?:no\.?|nr\.?|num(?:ber|ero|éro)?\.?|n[°º]\.?|#|№|номер|编号|編號|号码|號碼|单号|單號|号|號|番号|رقم)\s*[:.]?\s*` +
	`([A-Z0-9\p{Cyrillic}][A-Z0-9\p{Cyrillic}\-/_.]*[A-Z0-9\p{Cyrillic}])`)

// The words that must be on a line (lower-cased) for the regular
// expressions to be run on it, taken from them: refLabelWords from
// refLabelRE's labels, totalWords from totalLabels, currencyWords from
// currencyAlt.
var (
	refLabelWords = []string{"quot", "offer", "proforma", "pro-forma", "pi", "qtn", "cotiz", "cota", "orçamento", "orcamento",
		"angebot", "devis", "offre", "предложение", "счет", "счёт", "报价", "報價", "形式发票", "形式發票", "見積", "عرض", "فاتورة"}
	totalWords = []string{"total", "amount due", "合计", "合計", "总", "總", "金额合计", "総額", "итого", "всего", "сумма",
		"gesamt", "endbetrag", "summe", "montant", "importe", "valor", "precio", "الإجمالي", "الاجمالي", "المجموع"}
	currencyWords = []string{"$", "usd", "aud", "cad", "nzd", "hkd", "sgd", "brl", "eur", "€", "gbp", "£", "rmb", "cny", "jpy",
		"¥", "円", "chf", "rub", "руб", "₽", "aed", "sar", "inr", "₹", "mxn", "pln", "zł", "try", "₺", "krw", "₩", "thb", "฿", "vnd", "zar"}
)

// textLines are the lines of a text and their lower-case forms, so that
// the regular expressions below, slow on long text (tens of case-folded
// alternatives: a third of a sync's CPU when they ran on whole texts),
// run only on the lines that can match: a stated total or a price is on
// one line with a digit and its label or currency.
type textLines struct{ orig, lower []string }

func splitLines(text string) textLines {
	orig := strings.Split(text, "\n")
	lower := make([]string, len(orig))
	for i, l := range orig {
		lower[i] = strings.ToLower(l)
	}
	return textLines{orig, lower}
}

// with joins the lines that hold a digit and one of words. With next, a
// line with one of words needs no digit and the line after it is kept
// too: a label's number may be on the next line.
func (l textLines) with(words []string, next bool) string {
	var b strings.Builder
	keepNext := false
	for i, low := range l.lower {
		keep := keepNext
		keepNext = false
		if next || strings.ContainsAny(low, "0123456789") {
			for _, w := range words {
				if strings.Contains(low, w) {
					keep, keepNext = true, next
					break
				}
			}
		}
		if keep {
			b.WriteString(l.orig[i])
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// refTokenRE is a document number shaped like a quotation or PI number.
var refTokenRE = regexp.MustCompile(`(?i)\b((?:QT|QTN|QUO|QUOT|PI|PFI|OFF|ANG|KP)[-_/ ]?\d{2,}(?:[-_/]\d+)*(?:-[A-Z]{1,8})?)\b`)

// refIn reads a labelled number in lines (the lines of text that may hold
// one), else a number-shaped token in text.
//
// A labelled number must hold a digit: lines without one are not given to
// refLabelRE, whose tens of case-folded labels in three scripts cost
// about 3 µs a byte, even on a few short lines.
func refIn(lines, text string) string {
	if strings.ContainsAny(lines, "0123456789") {
		for _, m := range refLabelRE.FindAllStringSubmatch(lines, -1) {
			if r := strings.TrimRight(m[1], "./-_"); strings.ContainsAny(r, "0123456789") && len(r) >= 3 {
				return r
			}
		}
	}
	return tokenRef(text)
}

// tokenRef returns the first token of s that refTokenRE matches. The
// expression runs line by line, and only on lines where mayHoldToken
// finds what it needs: a token never spans lines, and \b sees a line's
// edge as it sees a line break, so the first match is the same. Run on a
// whole long text, the expression was most of quote.Read's CPU: Go's
// regexp falls back to its slowest matcher on long input.
func tokenRef(s string) string {
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		if !mayHoldToken(line) {
			continue
		}
		if m := refTokenRE.FindStringSubmatch(line); m != nil {
			// "QT 2025-0315" in a file name is "QT-2025-0315".
			return strings.Replace(m[1], " ", "-", 1)
		}
	}
	return ""
}

// mayHoldToken tells whether s has what every match of refTokenRE has:
// one of its prefixes, perhaps a separator, then two digits.
func mayHoldToken(s string) bool {
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) || !isDigit(s[i-1]) {
			continue
		}
		e := i - 1 // where the prefix, or the separator after it, ends
		if endsWithRefPrefix(s[:e]) || (e > 0 && strings.IndexByte("-_/ ", s[e-1]) >= 0 && endsWithRefPrefix(s[:e-1])) {
			return true
		}
	}
	return false
}

// refPrefixes are refTokenRE's prefixes; its (?i) also reads "K" in the
// Kelvin sign, the one letter of theirs with a non-ASCII case fold.
var refPrefixes = []string{"QT", "QTN", "QUO", "QUOT", "PI", "PFI", "OFF", "ANG", "KP", "\u212AP"}

func endsWithRefPrefix(s string) bool {
	for _, p := range refPrefixes {
		if len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// currencyAlt matches a currency as written next to an amount.
const currencyAlt = `(US\$|USD|U\.S\.\$|A\$|AUD|C\$|CAD|NZ\$|NZD|HK\$|HKD|S\$|SGD|R\$|BRL|EUR|€|GBP|£|RMB|CNY|JPY|¥|円|CHF|RUB|руб\.?|₽|AED|SAR|INR|₹|MXN|PLN|zł|TRY|₺|KRW|₩|THB|฿|VND|ZAR|\$)`

// amountAlt matches an amount with its thousands and decimal separators.
const amountAlt = `(\d{1,3}(?:[,. '\x{00a0}\x{202f}]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)`

// totalLabels announce the total in the languages of the rules.
const totalLabels = `(?:grand total|total amount|total value|total price|total for your quantity|total|amount due|` +
	`合计|合計|总计|總計|总金额|總金額|总价|總價|总额|總額|金额合计|合计金额|総額|合計金額|` +
	`итого|всего|общая сумма|сумма|gesamtbetrag|gesamtsumme|gesamtpreis|gesamt|endbetrag|summe|` +
	`montant total|total général|total ht|total ttc|importe total|valor total|precio total|` +
	`الإجمالي|الاجمالي|المجموع|المبلغ الإجمالي)`

var (
	totalCurFirstRE = regexp.MustCompile(`(?i)` + totalLabels + `[^\d\n]{0,30}?` + currencyAlt + `\s?` + amountAlt)
	totalCurLastRE  = regexp.MustCompile(`(?i)` + totalLabels + `[^\d\n]{0,30}?` + amountAlt + `\s?` + currencyAlt)
	priceRE         = regexp.MustCompile(`(?i)` + currencyAlt + `\s?` + amountAlt)
)

// totalIn returns the currency and amount of a stated total: the last one
// in the text (a revised total comes after the first).
func totalIn(lines, text string) (cur, amount string) {
	best := -1
	for _, re := range []*regexp.Regexp{totalCurFirstRE, totalCurLastRE} {
		for _, m := range re.FindAllStringSubmatchIndex(lines, -1) {
			if m[0] <= best {
				continue
			}
			c, a := lines[m[2]:m[3]], lines[m[4]:m[5]]
			if re == totalCurLastRE {
				c, a = a, c
			}
			if code := currencyCode(c, text); code != "" {
				if n, ok := normalizeAmount(a); ok {
					best, cur, amount = m[0], code, n
				}
			}
		}
	}
	return cur, amount
}

// tableTotal sums the last amount of each line of a price table ("1 | LED
// panel | 1,500 | USD 7.50 | USD 11,250.00"): lines with two amounts or
// more, all in one currency, at least one line.
func tableTotal(priceLines, text string) (cur, amount string) {
	var cents int64
	lines := 0
	for _, line := range strings.Split(priceLines, "\n") {
		ms := priceRE.FindAllStringSubmatch(line, -1)
		if len(ms) < 2 {
			continue
		}
		last := ms[len(ms)-1]
		code := currencyCode(last[1], text)
		if code == "" || (cur != "" && code != cur) {
			return "", ""
		}
		n, ok := normalizeAmount(last[2])
		if !ok {
			return "", ""
		}
		c, ok := toCents(n)
		if !ok {
			return "", ""
		}
		cur, cents, lines = code, cents+c, lines+1
	}
	if lines == 0 {
		return "", ""
	}
	return cur, centsString(cents)
}

func firstCurrency(priceLines, text string) string {
	for _, m := range priceRE.FindAllStringSubmatch(priceLines, -1) {
		if code := currencyCode(m[1], text); code != "" {
			return code
		}
	}
	return ""
}

var kanaRE = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}]`)

// currencyCode maps a written currency to ISO 4217. "¥" is yen in
// Japanese text (kana or 円) and renminbi otherwise; a bare "$" is USD.
func currencyCode(s, text string) string {
	switch strings.ToUpper(strings.TrimSuffix(s, ".")) {
	case "US$", "USD", "U.S.$", "$":
		return "USD"
	case "A$", "AUD":
		return "AUD"
	case "C$", "CAD":
		return "CAD"
	case "NZ$", "NZD":
		return "NZD"
	case "HK$", "HKD":
		return "HKD"
	case "S$", "SGD":
		return "SGD"
	case "R$", "BRL":
		return "BRL"
	case "EUR", "€":
		return "EUR"
	case "GBP", "£":
		return "GBP"
	case "RMB", "CNY":
		return "CNY"
	case "JPY", "円":
		return "JPY"
	case "¥":
		if strings.Contains(text, "円") || strings.Contains(strings.ToUpper(text), "JPY") || kanaRE.MatchString(text) {
			return "JPY"
		}
		return "CNY"
	case "CHF":
		return "CHF"
	case "RUB", "РУБ", "₽":
		return "RUB"
	case "AED":
		return "AED"
	case "SAR":
		return "SAR"
	case "INR", "₹":
		return "INR"
	case "MXN":
		return "MXN"
	case "PLN", "ZŁ":
		return "PLN"
	case "TRY", "₺":
		return "TRY"
	case "KRW", "₩":
		return "KRW"
	case "THB", "฿":
		return "THB"
	case "VND":
		return "VND"
	case "ZAR":
		return "ZAR"
	}
	return ""
}

// normalizeAmount turns "11,250.00", "11.250,00", "11 250,00", "1'250.50"
// or "11250" into "11250.00"-style plain decimals. The separator followed
// by one or two digits at the end is the decimal one; any other is a
// thousands separator.
func normalizeAmount(s string) (string, bool) {
	s = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(strings.TrimSpace(s))
	intPart, frac := s, ""
	if i := strings.LastIndexAny(s, ".,"); i >= 0 && len(s)-i-1 <= 2 && len(s)-i-1 >= 1 {
		intPart, frac = s[:i], s[i+1:]
	}
	intPart = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ',' || r == '.' || r == ' ' || r == '\'' {
			return -1
		}
		return 'x'
	}, intPart)
	if intPart == "" || strings.Contains(intPart, "x") || len(intPart) > 15 {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	switch len(frac) {
	case 0:
		frac = "00"
	case 1:
		frac += "0"
	}
	return intPart + "." + frac, true
}

func toCents(n string) (int64, bool) {
	var c int64
	for _, r := range strings.Replace(n, ".", "", 1) {
		if r < '0' || r > '9' {
			return 0, false
		}
		c = c*10 + int64(r-'0')
	}
	return c, true
}

func centsString(c int64) string {
	s := strconv.FormatInt(c, 10)
	s = strings.Repeat("0", max(0, 3-len(s))) + s
	return s[:len(s)-2] + "." + s[len(s)-2:]
}
