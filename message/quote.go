package message

import (
	"regexp"
	"strings"
)

// Quoted history and forwarded blocks are found line by line, with the
// markers mail clients write. Each marker is tied to a client style in the
// tests (quote_test.go).

type markKind int

const (
	markNone    markKind = iota
	markReply            // the start of quoted history
	markForward          // the start of a forwarded message
)

// separator lines: "-----Original Message-----", "---------- Forwarded
// message ---------", "------------------ 原始邮件 ------------------".
var separatorRe = regexp.MustCompile(`^[-_=*—–\s]{2,}\s*([^-_=*—–].*?)\s*[-_=*—–\s]{2,}$`)

var replySeparators = setOf(
	"original message", "original", "原始邮件", "原始郵件", "原邮件", "mensaje original",
	"ursprüngliche nachricht", "originalnachricht", "message d'origine", "message original",
	"исходное сообщение", "mensagem original", "元のメッセージ", "الرسالة الأصلية",
	"oorspronkelijk bericht", "messaggio originale", "reply message", "回复邮件",
)

var forwardSeparators = setOf(
	"forwarded message", "forwarded message follows", "forward message", "forwarded",
	"转发邮件信息", "转发邮件", "已转发邮件", "转发的邮件", "转发信息", "轉寄郵件", "轉寄的郵件",
	"已轉寄郵件", "轉寄郵件資訊", "mensaje reenviado", "weitergeleitete nachricht",
	"message transféré", "пересылаемое сообщение", "пересланное сообщение",
	"переадресованное сообщение", "mensagem encaminhada", "mensagem reencaminhada",
	"転送メッセージ", "転送されたメッセージ", "الرسالة المعاد توجيهها", "رسالة معاد توجيهها",
	"doorgestuurd bericht", "messaggio inoltrato",
)

// Apple Mail and others introduce a forward with a sentence.
var forwardIntros = setOf(
	"begin forwarded message", "début du message réexpédié", "anfang der weitergeleiteten nachricht",
	"inicio del mensaje reenviado", "início da mensagem reencaminhada", "início da mensagem encaminhada",
	"начало переадресованного сообщения", "以下是转发的邮件", "转发的邮件", "转发的邮件开始",
	"以下為轉寄的郵件", "転送されたメッセージ", "بداية الرسالة المعاد توجيهها",
)

// separatorKind classifies a separator or forward-intro line.
func separatorKind(line string) markKind {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(t, ">") {
		return markNone
	}
	if !isRuleEdge(t, strings.HasPrefix) || !isRuleEdge(t, strings.HasSuffix) {
		// Not a separator; maybe a forward intro, which ends in a colon.
		if !endsWithColon(t) {
			return markNone
		}
	}
	low := strings.ToLower(t)
	if intro := strings.TrimRight(low, " :：."); forwardIntros[intro] && len(intro) < len(low) {
		return markForward
	}
	m := separatorRe.FindStringSubmatch(low)
	if m == nil {
		return markNone
	}
	inner := strings.Join(strings.Fields(strings.Trim(m[1], " :：")), " ")
	switch {
	case forwardSeparators[inner]:
		return markForward
	case replySeparators[inner]:
		return markReply
	}
	return markNone
}

// isRuleEdge reports whether t starts (or ends, with strings.HasSuffix)
// with a character separator lines are drawn with.
func isRuleEdge(t string, has func(string, string) bool) bool {
	for _, c := range []string{"-", "_", "=", "*", "—", "–"} {
		if has(t, c) {
			return true
		}
	}
	return false
}

// Attribution lines that introduce quoted history, one per client style.
// Each has a keyword that must occur in the line before the regexp runs.
var attributionRes = []struct {
	keyword string
	re      *regexp.Regexp
}{
	{"wrote", regexp.MustCompile(`(?i)^on\b.{4,}\bwrote\s*:$`)},                                 // Gmail, Apple, Thunderbird (en)
	{"wrote", regexp.MustCompile(`(?i)^.{0,200}(\d|@).{0,200}\bwrote\s*:$`)},                    // "2025/06/09 John <j@x> wrote:" (ja, others)
	{"写道", regexp.MustCompile(`写道\s*[：:]$`)},                                                    // Gmail zh: "… 于2025年6月9日周一 09:10写道："
	{"寫道", regexp.MustCompile(`寫道\s*[：:]$`)},                                                    // Gmail zh-TW
	{"在", regexp.MustCompile(`^在.{2,}(写道|寫道|wrote)`)},                                           // "在 2025年6月9日，John 写道："
	{"escrib", regexp.MustCompile(`(?i)^el\b.{4,}\bescribi[óo]\s*:$`)},                          // es
	{"schrieb", regexp.MustCompile(`(?i)^am\b.{4,}\bschrieb\b.*:$`)},                            // de
	{"crit", regexp.MustCompile(`(?i)^le\b.{4,}\ba\s+[ée]crit\s*:$`)},                           // fr
	{"пиш", regexp.MustCompile(`пишет\s*:$`)},                                                   // ru (Yandex)
	{"написал", regexp.MustCompile(`(написал|написала|написал\(а\))\s*:$`)},                     // ru
	{"escreveu", regexp.MustCompile(`(?i)^em\b.{4,}\bescreveu\s*:$`)},                           // pt
	{"scritto", regexp.MustCompile(`(?i)^il\b.{4,}\bha scritto\s*:$`)},                          // it
	{"schreef", regexp.MustCompile(`(?i)^op\b.{4,}\bschreef\b.*:$`)},                            // nl
	{"書きました", regexp.MustCompile(`書きました\s*[：:]$`)},                                              // ja: "…さんは書きました:"
	{"كتب", regexp.MustCompile(`(^|\s)كتب\s.{0,200}(\d|@).{0,200}[:：]$`)},                       // ar: "في … كتب John <j@x>:"
	{">", regexp.MustCompile(`^[^<>].{0,200}\d{1,2}:\d{2}.{0,200}<[^<>\s]+@[^<>\s]+>\s*[:：]$`)}, // Gmail ja/ko/ar: "2025年6月9日(月) 9:10 Taro <t@x>:"
}

func isAttribution(s string) bool {
	for _, a := range attributionRes {
		if strings.Contains(s, a.keyword) && a.re.MatchString(s) {
			return true
		}
	}
	return false
}

// attributionStart reports the starts of attributions that may wrap onto
// the next lines: "On", "El", "Am", "Le", "Em", "Il", "Op", "在", "于", "於".
func attributionStart(t string) bool {
	if len(t) >= 3 && (t[2] == ' ' || t[2] == '\t') {
		switch strings.ToLower(t[:2]) {
		case "on", "el", "am", "le", "em", "il", "op":
			return true
		}
	}
	return strings.HasPrefix(t, "在") || strings.HasPrefix(t, "于") || strings.HasPrefix(t, "於")
}

// attributionAt reports whether an attribution starts at lines[i],
// possibly wrapped over up to three lines.
func attributionAt(lines []string, i int) bool {
	t := strings.TrimSpace(lines[i])
	if t == "" || strings.HasPrefix(t, ">") || len(t) > 400 {
		return false
	}
	// Every attribution ends in a colon: a cheap test before the regexps.
	if endsWithColon(t) && isAttribution(t) {
		return true
	}
	if !attributionStart(t) {
		return false
	}
	joined := t
	for k := i + 1; k < len(lines) && k <= i+2; k++ {
		n := strings.TrimSpace(lines[k])
		if n == "" {
			return false
		}
		joined += " " + n
		if endsWithColon(n) && isAttribution(joined) {
			return true
		}
	}
	return false
}

func endsWithColon(s string) bool {
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")
}

// Header labels of quoted and forwarded header blocks, lower-case.
var fromLabels = setOf(
	"from", "发件人", "寄件者", "寄件人", "發件人", "de", "von", "от", "差出人", "送信者", "من", "van", "da", "od",
	"från", "fra",
)

// directFromLabels start a header block by themselves: Chinese and
// Japanese clients' reply headers.
var directFromLabels = setOf("发件人", "寄件者", "寄件人", "發件人", "差出人")

// strongLabels (date, sent, subject) make a From line a header block;
// weakLabels (to, cc) only when the From value holds an address, so that
// "From: Ningbo / To: Hamburg" in a freight quote is not taken for one.
var strongLabels = setOf(
	"sent", "date", "subject", "sent on",
	"发送时间", "时间", "日期", "主题", "发送日期", "寄件日期", "主旨", "傳送時間", "主題",
	"enviado", "enviado el", "fecha", "asunto",
	"gesendet", "datum", "betreff",
	"envoyé", "envoyé le", "objet", "date d'envoi",
	"отправлено", "дата", "тема",
	"enviada em", "enviado em", "data", "assunto",
	"送信日時", "件名", "日時", "送信日",
	"تاريخ الإرسال", "الموضوع", "التاريخ", "أرسلت",
	"verzonden", "onderwerp", "inviato", "oggetto",
)

var weakLabels = setOf(
	"to", "cc", "bcc", "reply-to", "收件人", "抄送", "收件者", "副本", "para", "cc/cco", "an", "kopie",
	"à", "кому", "копия", "宛先", "إلى", "نسخة", "aan", "a",
)

var subjectLabels = setOf("subject", "主题", "主旨", "主題", "asunto", "betreff", "objet", "тема", "assunto", "件名", "الموضوع", "onderwerp", "oggetto")

// headerLabel splits "From: x" / "发件人：x" / "*From:* x" into the
// lower-case label and the value. ok is false when the line is not a label
// line.
func headerLabel(line string) (label, value string, ok bool) {
	t := strings.TrimSpace(line)
	t = strings.TrimLeft(t, "*")
	// A label's colon is within the first 40 bytes: look no further, as
	// newText asks this of every line, some of them whole paragraphs.
	return splitLabel(t, firstColon(t[:min(len(t), 40+len("："))]))
}

// splitLabel reads a label line t (trimmed, leading "*" gone) whose colon
// is at i (-1: none).
func splitLabel(t string, i int) (label, value string, ok bool) {
	if i <= 0 || i > 40 {
		return "", "", false
	}
	label = strings.ToLower(strings.TrimSpace(strings.Trim(t[:i], "* \t")))
	rest := t[i:]
	if strings.HasPrefix(rest, "：") {
		rest = rest[len("："):]
	} else {
		rest = rest[1:]
	}
	value = strings.TrimSpace(strings.TrimLeft(rest, "* \t"))
	if fromLabels[label] || strongLabels[label] || weakLabels[label] {
		return label, value, true
	}
	return "", "", false
}

// firstColon is strings.IndexAny(s, ":：") without decoding s rune by
// rune: neither ":" nor the bytes of "：" can be part of another
// character, even in invalid UTF-8.
func firstColon(s string) int {
	i := strings.IndexByte(s, ':')
	if j := strings.Index(s, "："); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	return i
}

// headerBlockAt reports whether a quoted header block ("From: … Sent: …")
// starts at lines[i]: a From label followed within a few lines by another
// header label, or one of the Chinese/Japanese From labels on its own.
func headerBlockAt(lines []string, i int) bool {
	label, value, ok := headerLabel(lines[i])
	if !ok || !fromLabels[label] {
		return false
	}
	if directFromLabels[label] && value != "" {
		return true
	}
	seen := 0
	for k := i + 1; k < len(lines) && seen < 6; k++ {
		if strings.TrimSpace(lines[k]) == "" {
			continue
		}
		seen++
		if l, _, ok := headerLabel(lines[k]); ok && (strongLabels[l] || weakLabels[l] && strings.Contains(value, "@")) {
			return true
		}
	}
	return false
}

// cutAt reports whether quoted history or a forwarded message starts at
// lines[i].
func cutAt(lines []string, i int) bool {
	return separatorKind(lines[i]) != markNone || attributionAt(lines, i) || headerBlockAt(lines, i)
}

// newText returns the message's own text: everything before the first
// marker of quoted history or a forwarded message, without lines quoted
// with ">" (interleaved replies keep their new lines). Signatures stay.
func newText(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i := range lines {
		if cutAt(lines, i) {
			cut = i
			break
		}
	}
	kept := make([]string, 0, cut)
	for _, l := range lines[:cut] {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			continue
		}
		kept = append(kept, l)
	}
	// Drop trailing blank lines and rules ("________", "-----") that
	// belonged to the cut block.
	for len(kept) > 0 && isRule(kept[len(kept)-1]) {
		kept = kept[:len(kept)-1]
	}
	return strings.TrimSpace(collapseBlankLines(strings.Join(kept, "\n")))
}

func isRule(l string) bool {
	return strings.Trim(l, " \t-_=*—–") == ""
}

// collapseBlankLines turns runs of blank lines into one.
func collapseBlankLines(s string) string {
	if !strings.Contains(s, "\n\n\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
