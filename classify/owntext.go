package classify

import (
	"regexp"
	"strings"
)

// The message parser already splits a body into the writer's own text and
// quoted history, but it works from heuristics and mail clients keep
// inventing new reply headers. Kind must never judge from quoted history
// (a buyer's "thanks" quoting our price table would look like a quote), so
// the own text is cut again here at the first reply or forward header. Both
// cuts agreeing is the normal case; this one only ever removes text.

// Each line is tested on its own, lower-cased, and only when a cheap check
// (it starts with "--"/"__", ends with ":", or holds a colon) lets it be a
// header at all: multi-line regexps over the whole body cost more than all
// the classification rules together.
//
// separatorRE matches a line that opens quoted or forwarded mail on its own:
// "-----Original Message-----" and its translations, and the Outlook rule.
var separatorRE = regexp.MustCompile(`^[ \t]*(?:-{2,}[ \t]*(?:original message|forwarded message|original|原始邮件|原始郵件|转发邮件|轉寄郵件|mensaje original|mensaje reenviado|mensagem original|mensagem encaminhada|ursprüngliche nachricht|weitergeleitete nachricht|message d'origine|message transféré|исходное сообщение|пересылаемое сообщение|元のメッセージ|転送されたメッセージ|الرسالة الأصلية)[ \t]*-*|_{8,})[ \t]*$`)

// wroteRE matches an attribution line: "On Mon, ... <a@b> wrote:", "Am ...
// schrieb ...:", "... написал(а):", "在 ...，X 写道：".
var wroteRE = regexp.MustCompile(`(?:wrote|schrieb|escribió|escreveu|a écrit|ha scritto|schreef|написал\(а\)|написала|написал|写道|寫道|كتب)[ \t]*[:：][ \t]*$`)

// fromLineRE and headerLineRE find an inline header block: a "From:" line
// followed within a few lines by "Sent:"/"To:"/"Subject:" (or their
// translations). A lone "From:" in prose is not enough.
var (
	fromLineRE   = regexp.MustCompile(`^[ \t*]*(?:from|von|de|от|发件人|發件人|寄件者|差出人|من)[ \t*]*[:：]`)
	headerLineRE = regexp.MustCompile(`^[ \t*]*(?:from|sent|date|to|cc|subject|gesendet|datum|an|betreff|von|enviado|fecha|para|asunto|de|envoyé|à|objet|от|отправлено|дата|кому|тема|发件人|發件人|发送时间|發送時間|日期|时间|收件人|抄送|主题|主旨|寄件者|送信日時|差出人|宛先|件名|من|التاريخ|إلى|الموضوع)[ \t*]*[:：]`)
)

// hasColon is strings.ContainsAny(l, ":：") without its rune-by-rune loop,
// which a non-ASCII set costs and which was most of ownText's time.
func hasColon(l string) bool { return strings.IndexByte(l, ':') >= 0 || strings.Contains(l, "：") }

func isSeparator(l string) bool {
	t := strings.TrimSpace(l)
	return (strings.HasPrefix(t, "--") || strings.HasPrefix(t, "__")) && separatorRE.MatchString(strings.ToLower(t))
}

func isWrote(l string) bool {
	t := strings.TrimSpace(l)
	return (strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：")) && len(t) < 400 && wroteRE.MatchString(strings.ToLower(t))
}

func isHeaderLine(l string) bool {
	return hasColon(l) && headerLineRE.MatchString(strings.ToLower(l))
}

// ownText returns s up to the first quoted-history marker, without lines
// quoted with ">". Text with no marker is returned whole.
func ownText(s string) string {
	if cut := firstSeparator(s, true); cut >= 0 {
		s = s[:cut]
	}
	if !strings.Contains(s, ">") {
		return s
	}
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// forwardedBody returns the text below the first forward separator or inline
// header block, without the header lines themselves and cut at its own
// quoted history: the forwarded original's own text. It is the fallback for
// an internal forward the parser did not split into Message.Forwarded.
func forwardedBody(s string) string {
	cut := firstSeparator(s, false)
	if cut < 0 {
		return ""
	}
	lines := strings.Split(s[cut:], "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || isSeparator(l) || isHeaderLine(l) {
			continue
		}
		break
	}
	return ownText(strings.Join(lines[i:], "\n"))
}

// firstSeparator returns the byte offset of the earliest line that starts
// quoted or forwarded mail, or -1. Attribution lines ("... wrote:") only
// count when withWrote is set: they introduce replies, not forwards.
func firstSeparator(s string, withWrote bool) int {
	lines := strings.Split(s, "\n")
	off := 0
	for i, l := range lines {
		if isSeparator(l) || (withWrote && isWrote(l)) {
			return off
		}
		if hasColon(l) && fromLineRE.MatchString(strings.ToLower(l)) {
			for j := i + 1; j < len(lines) && j <= i+4; j++ {
				if isHeaderLine(lines[j]) {
					return off
				}
			}
		}
		off += len(l) + 1
	}
	return -1
}
