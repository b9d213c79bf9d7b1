package handover

import (
	"strings"
	"unicode"
)

// replyPrefixes are the reply and forward markers mail clients put before
// a subject, lower-case, without their colon: English, German (AW, WG),
// Nordic (SV, VS), Dutch (Antw, Doorst), Spanish/Portuguese (RV, Enc),
// French (TR), Chinese (回复, 回覆, 答复, 转发, 轉寄, 转) and Japanese.
var replyPrefixes = []string{
	"re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "doorst", "rv", "enc", "tr", "odp", "ynt",
	"回复", "回覆", "答复", "答覆", "转发", "轉發", "轉寄", "转", "返信", "転送",
}

// ThreadKey returns the subject a thread is grouped under: the subject
// without leading reply/forward markers ("Re:", "RE[2]:", "Fwd:", "回复：",
// "[EXT]"-style tags), with runs of space folded and letters lower-cased.
// "Re: Fwd: RFQ  LED panel" and "rfq led panel" give the same key.
// Threads are grouped by the store's thread id; this key serves mail
// saved without one.
func ThreadKey(subject string) string {
	return strings.ToLower(strings.Join(strings.Fields(stripPrefixes(subject)), " "))
}

// DisplaySubject is the subject without reply/forward markers, as typed.
func DisplaySubject(subject string) string {
	s := strings.Join(strings.Fields(stripPrefixes(subject)), " ")
	if s == "" {
		return "(no subject)"
	}
	return s
}

func stripPrefixes(s string) string {
	for {
		t := strings.TrimLeftFunc(s, unicode.IsSpace)
		// A leading [tag] such as [EXT] or [External].
		if strings.HasPrefix(t, "[") {
			if end := strings.IndexByte(t, ']'); end > 0 && end < 20 {
				t = t[end+1:]
				s = t
				continue
			}
		}
		cut := prefixLen(t)
		if cut == 0 {
			return t
		}
		s = t[cut:]
	}
}

// prefixLen returns the length of a reply marker at the start of s
// ("Re:", "RE[3]:", "Re(2):", "回复："), or 0.
func prefixLen(s string) int {
	lower := strings.ToLower(s)
	for _, p := range replyPrefixes {
		if !strings.HasPrefix(lower, p) {
			continue
		}
		rest := s[len(p):]
		// An optional counter: [2] or (2).
		if len(rest) > 0 && (rest[0] == '[' || rest[0] == '(') {
			if end := strings.IndexAny(rest, "])"); end > 0 && end < 6 {
				rest = rest[end+1:]
			}
		}
		rest = strings.TrimLeft(rest, " ")
		switch {
		case strings.HasPrefix(rest, ":"):
			return len(s) - len(rest) + 1
		case strings.HasPrefix(rest, "："): // full-width colon
			return len(s) - len(rest) + len("：")
		}
	}
	return 0
}
