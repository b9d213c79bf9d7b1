package message

import (
	"bytes"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// enmime's cost grows with the MIME structure, not only the size:
//
//   - its boundary reader copies each byte once per enclosing multipart,
//     byte by byte, so nesting costs depth × size: 10,000 levels in 0.7 MB
//     took 94 s and 392 MB (measured);
//   - every part costs a 4 KB bufio.Reader and a header map, so 25 MB of
//     "--x" lines would make millions of parts.
//
// Both are bounded without trusting our own reading of the structure,
// which enmime's leniency (a delimiter found mid-line, an RFC 2047-encoded
// "boundary" parameter name) would let a crafted message evade:
//
//   - parts: every part but the first of a multipart starts at a line that
//     begins with "--", so countDashLines bounds the number of parts;
//   - nesting: enmime only descends into a part whose Content-Type it
//     parsed, through our media type callback, as multipart with a
//     boundary. The callback counts those and, past a budget, reports
//     application/octet-stream instead, so the rest is kept as data. The
//     budget allows maxMIMEWork bytes of copying: maxMIMEWork / len(raw)
//     multiparts, at least minMultiparts and at most maxMultiparts.
const (
	maxMIMEParts  = 10000     // lines starting with "--"
	maxMIMEWork   = 256 << 20 // bytes copied summed over nesting levels
	minMultiparts = 8
	maxMultiparts = 500
)

// countDashLines counts the lines of raw that start with "--".
func countDashLines(raw []byte) int {
	n := 0
	if bytes.HasPrefix(raw, []byte("--")) {
		n++
	}
	return n + bytes.Count(raw, []byte("\n--"))
}

// multipartBudget is the number of multiparts enmime may descend into for
// a message of size n.
func multipartBudget(n int) int {
	if n <= 0 {
		return maxMultiparts
	}
	return min(max(maxMIMEWork/n, minMultiparts), maxMultiparts)
}

// newMIMEParser returns enmime configured as described at mimeParser
// options, with a media type callback that stops descending after budget
// multiparts. *exceeded is set when it did.
func newMIMEParser(budget int, exceeded *bool) *enmime.Parser {
	// enmime parses a multipart's Content-Type about twice (its header,
	// then a text/data check), so the callback counts calls.
	calls, maxCalls := 0, 2*budget+2
	parseType := func(v string) (string, map[string]string, []string, error) {
		mt, params, invalid, err := passThroughCharset(v)
		if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
			if calls++; calls > maxCalls {
				*exceeded = true
				delete(params, "boundary")
				mt = "application/octet-stream"
			}
		}
		return mt, params, invalid, err
	}
	return enmime.NewParser(append(mimeOptions[:len(mimeOptions):len(mimeOptions)], enmime.SetCustomParseMediaType(parseType))...)
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
