package message

import (
	"bytes"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// enmime's cost grows with the MIME structure, not only with the size
// (all measured here):
//
//   - its boundary reader copies each byte once per enclosing multipart,
//     byte by byte, so nesting costs depth × size: 10,000 closed levels in
//     0.7 MB took 94 s and 392 MB;
//   - nested multiparts that are never closed (a truncated message) cost
//     about twice as much per level: 18 levels in 1 KB took 0.3 to 0.6 s,
//     30 levels would take hours;
//   - every part costs a 4 KB bufio.Reader and a header map, so 25 MB of
//     "--x" lines would make millions of parts.
//
// prepareMIME and newMIMEParser bound all three, without trusting our own
// reading of the structure alone, which enmime's leniency (a delimiter
// found mid-line, an RFC 2047-encoded "boundary" parameter name) would let
// a crafted message evade:
//
//   - parts: every part but the first of a multipart starts at a line that
//     begins with "--", so countDashLines bounds the number of parts;
//   - unclosed multiparts: prepareMIME appends the missing close delimiter
//     of every declared boundary that opens a part and is never closed,
//     which also lets enmime end those parts properly;
//   - nesting: enmime only descends into a part whose Content-Type it
//     parsed, through our media type callback, as multipart with a
//     boundary. The callback counts those and, past a budget, reports
//     application/octet-stream instead, so that the rest is kept as data.
//     Multiparts whose boundary prepareMIME saw closed share a budget of
//     maxMIMEWork bytes of copying (maxMIMEWork / len(raw) multiparts,
//     within [minMultiparts, maxMultiparts]); any other multipart counts
//     against maxUnclosed, which keeps the doubling small.
const (
	maxMIMEParts  = 10000    // lines starting with "--"
	maxMIMEWork   = 32 << 20 // bytes copied, summed over nesting levels
	minMultiparts = 4
	maxMultiparts = 100
	maxUnclosed   = 12
)

// countDashLines counts the lines of raw that start with "--".
func countDashLines(raw []byte) int {
	n := 0
	for i := nextDashLine(raw, 0); i >= 0; i = nextDashLine(raw, i+2) {
		n++
	}
	return n
}

// nextDashLine returns the start of the first line starting with "--" at
// or after i, or -1. Such lines (boundary delimiters) are looked for three
// times in every message, which is mostly base64 and so has no "-" at
// all: IndexByte for "-" skips it in one call, where a search for "\n--"
// stops at every line.
func nextDashLine(raw []byte, i int) int {
	for i < len(raw) {
		j := bytes.IndexByte(raw[i:], '-')
		if j < 0 {
			break
		}
		i += j
		if (i == 0 || raw[i-1] == '\n') && i+1 < len(raw) && raw[i+1] == '-' {
			return i
		}
		for i++; i < len(raw) && raw[i] == '-'; i++ {
			// The rest of a run of "-" cannot start a line.
		}
	}
	return -1
}

// multipartBudget is the number of multiparts enmime may descend into for
// a message of size n.
func multipartBudget(n int) int {
	if n <= 0 {
		return maxMultiparts
	}
	return min(max(maxMIMEWork/n, minMultiparts), maxMultiparts)
}

// prepareMIME returns raw with close delimiters appended for every
// declared boundary that opens a part and is never closed, innermost
// first, the set of boundaries that are closed in the result, and how many
// were appended. (A boundary that opens no part, such as one declared in
// the quoted header of a bounce, is left alone.)
// raw is copied only when something is appended.
func prepareMIME(raw []byte) ([]byte, map[string]bool, int) {
	bounds := declaredBoundaries(raw)
	if len(bounds) == 0 {
		return raw, nil, 0
	}
	opened, present := delimiterLines(raw)
	closed := make(map[string]bool, len(bounds))
	var missing []string
	for _, b := range bounds {
		switch {
		case closed[b]:
		case present[b]:
			closed[b] = true
		case opened[b]:
			// Opened and never closed: a truncated message.
			closed[b] = true
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return raw, closed, 0
	}
	out := make([]byte, 0, len(raw)+len(missing)*80)
	out = append(out, raw...)
	for i := len(missing) - 1; i >= 0; i-- {
		out = append(out, "\r\n--"...)
		out = append(out, missing[i]...)
		out = append(out, "--\r\n"...)
	}
	return out, closed, len(missing)
}

// delimiterLines returns the boundaries that open a part in raw (a line
// "--boundary") and those closed (a line "--boundary--"), trailing white
// space allowed (RFC 2046 5.1.1).
func delimiterLines(raw []byte) (opened, closed map[string]bool) {
	opened, closed = map[string]bool{}, map[string]bool{}
	i := nextDashLine(raw, 0)
	if i == 1 {
		// A delimiter on the second line, after an empty first line (no
		// header at all), has never been seen here: what prepareMIME
		// appends, and so the parse, depends on it, so it stays so.
		i = nextDashLine(raw, 2)
	}
	for ; i >= 0; i = nextDashLine(raw, i+2) {
		addDelimiter(raw, i, opened, closed)
	}
	return opened, closed
}

// addDelimiter notes the "--" line at raw[i:]: as an opening delimiter,
// and, ending in "--", as a closing one.
func addDelimiter(raw []byte, i int, opened, closed map[string]bool) {
	end := bytes.IndexByte(raw[i:], '\n')
	if end < 0 {
		end = len(raw) - i
	}
	line := bytes.TrimRight(raw[i+2:i+end], " \t\r")
	if len(line) <= 202 {
		opened[string(line)] = true
		if b, ok := bytes.CutSuffix(line, []byte("--")); ok {
			closed[string(b)] = true
		}
	}
}

// declaredBoundaries returns every boundary parameter value in raw, in
// order, quoted or not, in any letter case of "boundary".
//
// It looks for the "=" of each "boundary=" and reads back, rather than
// for each "b" or "B": "=" is rare in a large body (base64 has it only at
// the end), so IndexByte skips most of raw many bytes at a time, where a
// search for either letter stopped at every word.
func declaredBoundaries(raw []byte) []string {
	var bounds []string
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '=')
		if j < 0 {
			break
		}
		eq := i + j
		i = eq + 1
		k := eq // "boundary" and blanks before the "="
		for k > 0 && (raw[k-1] == ' ' || raw[k-1] == '\t') {
			k--
		}
		if k < len("boundary") || !equalFoldASCII(raw[k-len("boundary"):k], "boundary") {
			continue
		}
		if v, ok := boundaryValue(raw, eq+1); ok {
			bounds = append(bounds, v)
		}
	}
	return bounds
}

// boundaryValue reads the value of a boundary parameter whose "=" ends
// at k, quoted or not, blanks before it skipped; ok is false for none or
// one over 200 bytes.
func boundaryValue(raw []byte, k int) (string, bool) {
	for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t') {
		k++
	}
	var v []byte
	if k < len(raw) && raw[k] == '"' {
		e := bytes.IndexByte(raw[k+1:min(len(raw), k+1+200)], '"')
		if e < 0 {
			return "", false
		}
		v = raw[k+1 : k+1+e]
	} else {
		e := k
		for e < len(raw) && e-k <= 200 && raw[e] > ' ' && raw[e] != ';' && raw[e] != '"' {
			e++
		}
		v = raw[k:e]
	}
	if v = bytes.TrimRight(v, " \t"); len(v) > 0 && len(v) <= 200 {
		return string(v), true
	}
	return "", false
}

// equalFoldASCII tells whether b is lower, a word of lower-case ASCII
// letters, in any letter case: setting bit 0x20 maps exactly a letter and
// its upper case onto the letter. (bytes.EqualFold also folds the Kelvin
// sign onto "k" and the long s onto "s": no matter for "boundary".)
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// newMIMEParser returns enmime configured with mimeOptions and a media type
// callback that stops descending into multiparts past the budgets above.
// *exceeded is set when it did.
func newMIMEParser(size int, closed map[string]bool, exceeded *bool) *enmime.Parser {
	// enmime parses a multipart's Content-Type about twice (its header,
	// then a text/data check), so the callback counts calls.
	var closedCalls, otherCalls int
	maxClosed, maxOther := 2*multipartBudget(size)+2, 2*maxUnclosed+2
	parseType := func(v string) (string, map[string]string, []string, error) {
		mt, params, invalid, err := passThroughCharset(v)
		if b := params["boundary"]; b != "" && strings.HasPrefix(mt, "multipart/") {
			over := false
			if closed[b] {
				closedCalls++
				over = closedCalls > maxClosed
			} else {
				otherCalls++
				over = otherCalls > maxOther
			}
			if over {
				*exceeded = true
				delete(params, "boundary")
				mt = "application/octet-stream"
			}
		}
		return mt, params, invalid, err
	}
	opts := append(mimeOptions[:len(mimeOptions):len(mimeOptions)], enmime.SetCustomParseMediaType(parseType))
	return enmime.NewParser(opts...)
}

// passThroughCharset parses a Content-Type or Content-Disposition value
// with enmime's tolerant parser, falling back to ours when even that fails
// (enmime would drop the part), and sets charset=utf-8 on text parts so
// that enmime leaves their bytes alone.
func passThroughCharset(v string) (string, map[string]string, []string, error) {
	mt, params, invalid, err := mediatype.ParseWithOptions(v, mediatype.ParseOptions{StripMediaTypeInvalidCharacters: true})
	if err != nil {
		mp := parseMediaParams(decodeHeaderBytes(v))
		mt, params, invalid = mp.value, mp.params, nil
	}
	if params == nil {
		params = map[string]string{}
	}
	if strings.HasPrefix(mt, "text/") {
		params["charset"] = "utf-8"
	}
	return mt, params, invalid, nil
}
