package message

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// charsetKind tells how a declared charset label is to be decoded.
type charsetKind int

const (
	csUndeclared charsetKind = iota // no label: us-ascii by RFC 2045, 8-bit data is guessed
	csUTF8
	csASCII   // us-ascii: 8-bit data means a mislabel, guessed like csUndeclared
	csLegacy  // a known non-Unicode charset (GB18030, Big5, KOI8-R, ...)
	csUnknown // a label we cannot map: best effort plus a Problem
)

type charset struct {
	kind  charsetKind
	enc   encoding.Encoding // for csLegacy (and UTF-16 variants)
	label string            // normalised label, for Problems
}

// overrides maps labels that need a different decoder than the WHATWG
// table in htmlindex gives. GBK and GB2312 labels are decoded as GB18030,
// their superset: real mail declares gb2312 and then uses GBK or GB18030
// characters. ISO-8859-1 and US-ASCII are decoded as windows-1252 by
// htmlindex already (WHATWG), which is what mislabelled mail needs.
var overrides = map[string]encoding.Encoding{
	"gb2312": simplifiedchinese.GB18030, "gb_2312": simplifiedchinese.GB18030,
	"gb_2312-80": simplifiedchinese.GB18030, "gb-2312": simplifiedchinese.GB18030,
	"csgb2312": simplifiedchinese.GB18030, "x-gb2312": simplifiedchinese.GB18030,
	"gbk": simplifiedchinese.GB18030, "x-gbk": simplifiedchinese.GB18030,
	"cp936": simplifiedchinese.GB18030, "ms936": simplifiedchinese.GB18030,
	"windows-936": simplifiedchinese.GB18030, "euc-cn": simplifiedchinese.GB18030,
	"x-euc-cn": simplifiedchinese.GB18030, "chinese": simplifiedchinese.GB18030,
	"iso-ir-58": simplifiedchinese.GB18030, "csiso58gb231280": simplifiedchinese.GB18030,
	"gb18030": simplifiedchinese.GB18030, "gb-18030": simplifiedchinese.GB18030,
	"gb18030-2000": simplifiedchinese.GB18030, "gb18030-2005": simplifiedchinese.GB18030,
	"hz-gb-2312": simplifiedchinese.HZGB2312,
	"big5":       traditionalchinese.Big5, "big-5": traditionalchinese.Big5,
	"cp950": traditionalchinese.Big5, "ms950": traditionalchinese.Big5,
	"x-big5": traditionalchinese.Big5, "big5-hkscs": traditionalchinese.Big5,
	"csbig5": traditionalchinese.Big5, "windows-950": traditionalchinese.Big5,
	"shift-jis": japanese.ShiftJIS, "sjis": japanese.ShiftJIS, "x-sjis": japanese.ShiftJIS,
	"cp932": japanese.ShiftJIS, "windows-932": japanese.ShiftJIS,
	"iso-2022-jp": japanese.ISO2022JP, "csiso2022jp": japanese.ISO2022JP,
	"iso-2022-jp-2": japanese.ISO2022JP, "iso-2022-jp-3": japanese.ISO2022JP,
	"ks_c_5601-1987": korean.EUCKR, "ks_c_5601": korean.EUCKR, "cp949": korean.EUCKR,
	"iso-8859-1": charmap.Windows1252, "latin1": charmap.Windows1252,
	"iso8859-1": charmap.Windows1252, "iso_8859-1": charmap.Windows1252,
	"iso-8859-15": charmap.ISO8859_15, "latin9": charmap.ISO8859_15,
	"cp850": charmap.CodePage850, "ibm850": charmap.CodePage850,
	"cp437": charmap.CodePage437, "ibm437": charmap.CodePage437,
	"cp1252": charmap.Windows1252, "cp1251": charmap.Windows1251,
	"cp1250": charmap.Windows1250, "cp1256": charmap.Windows1256,
	"koi8r": charmap.KOI8R, "koi8_r": charmap.KOI8R,
	"tis-620": charmap.Windows874, "x-mac-roman": charmap.Macintosh,
	"macintosh": charmap.Macintosh, "mac": charmap.Macintosh,
}

// lookupCharset maps a charset label from a Content-Type parameter, an
// RFC 2047 encoded-word or an RFC 2231 parameter to a decoder.
func lookupCharset(label string) charset {
	l := normLabel(label)
	switch l {
	case "":
		return charset{kind: csUndeclared}
	case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", "utf-8-sig":
		return charset{kind: csUTF8, label: l}
	case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "iso-ir-6", "cp367", "ibm367", "7bit", "8bit":
		return charset{kind: csASCII, label: l}
	}
	if e, ok := overrides[l]; ok {
		return charset{kind: csLegacy, enc: e, label: l}
	}
	if e, err := htmlindex.Get(l); err == nil && e != nil {
		if e == unicode.UTF8 {
			return charset{kind: csUTF8, label: l}
		}
		return charset{kind: csLegacy, enc: e, label: l}
	}
	for _, idx := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA} {
		if e, err := idx.Encoding(l); err == nil && e != nil {
			if e == unicode.UTF8 {
				return charset{kind: csUTF8, label: l}
			}
			return charset{kind: csLegacy, enc: e, label: l}
		}
	}
	return charset{kind: csUnknown, label: l}
}

// normLabel lower-cases a label and strips what broken mailers wrap it in:
// quotes, spaces, an RFC 2231 language suffix ("utf-8*en"), a repeated
// "charset=" prefix.
func normLabel(label string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	l = strings.TrimPrefix(l, "charset=")
	if i := strings.IndexByte(l, '*'); i >= 0 {
		l = l[:i]
	}
	return strings.Trim(l, " \t\"';,")
}

// decodeText turns bytes in the given charset into valid UTF-8. It never
// fails: what it had to guess or could not decode is returned as a problem
// ("" when the result is exact).
func decodeText(b []byte, label string) (string, string) {
	cs := lookupCharset(label)
	// A byte-order mark is stronger evidence than any label.
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		cs, b = charset{kind: csUTF8, label: "utf-8"}, b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		cs = charset{kind: csLegacy, enc: unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), label: "utf-16"}
	}
	switch cs.kind {
	case csUTF8:
		if utf8.Valid(b) {
			return string(b), ""
		}
		if s, ok := tryGB18030(b); ok {
			return s, "declared utf-8 but not valid UTF-8: decoded as gb18030"
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), "invalid UTF-8 bytes replaced"
	case csUndeclared, csASCII:
		if isASCII(b) || utf8.Valid(b) {
			return string(b), ""
		}
		s, how := guess8bit(b)
		if cs.kind == csASCII {
			return s, fmt.Sprintf("8-bit data labelled %s: decoded as %s", cs.label, how)
		}
		return s, ""
	case csUnknown:
		if isASCII(b) || utf8.Valid(b) {
			if isASCII(b) {
				return string(b), ""
			}
			return string(b), fmt.Sprintf("unknown charset %q: decoded as utf-8", cs.label)
		}
		s, how := guess8bit(b)
		return s, fmt.Sprintf("unknown charset %q: decoded as %s", cs.label, how)
	}
	if isASCII(b) && !isStateful(cs.enc) && !isWide(cs.label) {
		return string(b), ""
	}
	// A legacy label on bytes that are valid UTF-8 with multi-byte
	// sequences is a mislabel: GBK, Big5, KOI8-R or cp125x text almost never
	// forms valid UTF-8 by chance.
	if !isASCII(b) && utf8.Valid(b) && !isStateful(cs.enc) {
		return string(b), ""
	}
	out, err := cs.enc.NewDecoder().Bytes(b)
	if err != nil {
		s, how := guess8bit(b)
		return s, fmt.Sprintf("charset %s: %v: decoded as %s", cs.label, err, how)
	}
	if n := bytes.Count(out, []byte("\uFFFD")); n > 0 {
		// Japanese mail is often labelled with the wrong one of its three
		// charsets (iso-2022-jp on EUC-JP bytes): try its siblings.
		if siblings := japaneseSiblings[cs.enc]; siblings != nil {
			for _, alt := range siblings {
				if o, err := alt.enc.NewDecoder().Bytes(b); err == nil && !bytes.Contains(o, []byte("\uFFFD")) {
					return strings.ToValidUTF8(string(o), "\uFFFD"), fmt.Sprintf("labelled %s, decoded as %s", cs.label, alt.name)
				}
			}
		}
		return strings.ToValidUTF8(string(out), "\uFFFD"), fmt.Sprintf("charset %s: %d undecodable byte sequences", cs.label, n)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), ""
}

type namedEncoding struct {
	name string
	enc  encoding.Encoding
}

var japaneseSiblings = map[encoding.Encoding][]namedEncoding{
	japanese.ISO2022JP: {{"euc-jp", japanese.EUCJP}, {"shift_jis", japanese.ShiftJIS}},
	japanese.EUCJP:     {{"shift_jis", japanese.ShiftJIS}},
	japanese.ShiftJIS:  {{"euc-jp", japanese.EUCJP}},
}

// isStateful reports encodings whose 7-bit escape sequences make UTF-8
// validity meaningless as a signal.
func isStateful(e encoding.Encoding) bool {
	return e == japanese.ISO2022JP || e == simplifiedchinese.HZGB2312
}

// guess8bit decodes 8-bit text that carries no usable label. Our mail is
// mostly Chinese: UTF-8 first, then GB18030 when it decodes cleanly, and
// windows-1252 (which maps every byte) as the last resort.
func guess8bit(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "utf-8"
	}
	if s, ok := tryGB18030(b); ok {
		return s, "gb18030"
	}
	s, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return strings.ToValidUTF8(string(s), "\uFFFD"), "windows-1252"
}

// tryGB18030 decodes b as GB18030 and reports whether every byte sequence
// was valid.
func tryGB18030(b []byte) (string, bool) {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || bytes.Contains(out, []byte("\uFFFD")) || !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// isWide reports the UTF-16 and UTF-32 labels, whose ASCII text is not
// byte-for-byte ASCII.
func isWide(label string) bool {
	return strings.HasPrefix(label, "utf-16") || strings.HasPrefix(label, "utf-32") ||
		strings.HasPrefix(label, "ucs") || strings.HasPrefix(label, "unicode")
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// decodeHeaderBytes turns a raw header value into UTF-8. Headers should be
// 7-bit (RFC 5322 2.2) but real mail carries raw UTF-8 (RFC 6532) and raw
// GBK: try UTF-8, then GB18030, then windows-1252.
func decodeHeaderBytes(s string) string {
	return decodeRawHeader(s, "")
}

// decodeRawHeader is decodeHeaderBytes with a hint: the charset the
// message declares for its text, which the software that wrote raw 8-bit
// headers most likely used for them too (Big5, KOI8-R and EUC-JP headers
// would otherwise be read as GB18030). The hint is tried after UTF-8 and
// only kept when it decodes every byte.
func decodeRawHeader(s, hint string) string {
	if utf8.ValidString(s) {
		return s
	}
	if cs := lookupCharset(hint); cs.kind == csLegacy && !isStateful(cs.enc) {
		if out, err := cs.enc.NewDecoder().String(s); err == nil && !strings.ContainsRune(out, '\uFFFD') && utf8.ValidString(out) {
			return out
		}
	}
	out, _ := guess8bit([]byte(s))
	return out
}

// charsetHint finds the charset a message declares: the top-level
// Content-Type's, else the first charset parameter in the first 64 KB
// (a multipart's first text part). "" when none or not a legacy charset.
func charsetHint(fields []field, raw []byte) string {
	if v, ok := firstValue(fields, "Content-Type"); ok {
		if cs := parseMediaParams(decodeHeaderBytes(v)).params["charset"]; cs != "" {
			return legacyOnly(cs)
		}
	}
	head := raw[:min(len(raw), 64<<10)]
	for i := 0; ; {
		j := bytes.Index(head[i:], []byte("harset="))
		if j < 0 {
			return ""
		}
		i += j + len("harset=")
		if i-len("harset=")-1 < 0 || head[i-len("harset=")-1]|0x20 != 'c' {
			continue
		}
		end := i
		for end < len(head) && end-i < 40 && head[end] > ' ' && head[end] != ';' {
			end++
		}
		return legacyOnly(string(head[i:end]))
	}
}

func legacyOnly(label string) string {
	if lookupCharset(label).kind == csLegacy {
		return normLabel(label)
	}
	return ""
}

var metaCharsetRe = regexp.MustCompile(`(?i)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

// htmlCharset finds a charset declared in an HTML document's <meta> tags,
// for text/html parts whose Content-Type names none.
func htmlCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	if m := metaCharsetRe.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}
