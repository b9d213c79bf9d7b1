package timeline

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// replyPrefixRE matches one reply or forward prefix at the start of a
// subject, as mail clients write them in the languages we meet: "Re:",
// "RE :", "Re[2]:", "Re^2:", "Fw:", "Fwd:", "AW:", "WG:", "SV:", "VS:",
// "Antw:", "Odp:", "RES:", "ENC:", "RV:", "TR:", "Rif:", "R:", "I:",
// "回复:", "答复:", "转发:", "回覆:", "轉寄:", "返信:", "転送:", "Ответ:",
// "Пересл:", "رد:", "YNT:", "회신:", "전달:", plus "[EXT]"-style tags that
// some gateways put before them. It runs on width-folded text, so the
// full-width colon of Chinese clients ("回复：") is an ASCII colon here.
var replyPrefixRE = regexp.MustCompile(`(?i)^\s*(?:\[(?:ext|external|外部邮件)\]\s*)*` +
	`(re|aw|sv|vs|antw|antwort|odp|res|rif|r|fw|fwd|wg|tr|rv|enc|i|doorst|ynt|ilt|` +
	`回复|回覆|答复|答覆|转发|轉發|轉寄|转寄|返信|転送|ответ|отв|пересл|رد|إعادة توجيه|회신|답장|전달)` +
	`\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*:\s*`)

// SubjectKey folds a subject for thread grouping: reply and forward
// prefixes are stripped (repeatedly: "Re: AW: Fw: x" is "x"), full-width
// characters are narrowed, white space is collapsed and letters are
// lower-cased. isReply tells whether any prefix was there. A subject made
// of prefixes only gives "".
func SubjectKey(subject string) (key string, isReply bool) {
	s := width.Fold.String(subject)
	for {
		loc := replyPrefixRE.FindStringIndex(s)
		if loc == nil || loc[1] == 0 {
			break
		}
		s = s[loc[1]:]
		isReply = true
	}
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	if utf8.RuneCountInString(s) > maxSubjectKey {
		s = string([]rune(s)[:maxSubjectKey])
	}
	return strings.ToLower(s), isReply
}

// maxSubjectKey bounds a subject key in runes: it is indexed, and an index
// entry holds at most 2,704 bytes. Two subjects alike in their first 200
// characters are one subject.
const maxSubjectKey = 200
