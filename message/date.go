package message

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// parseDate parses a Date header leniently. RFC 5322 3.3 dates (with the
// obsolete forms of 4.3) go through net/mail; anything else is read token
// by token: a month name, a day, a year, hh:mm[:ss], an optional AM/PM and
// a zone (numeric, "GMT+8", or a name). That covers asctime, ISO 8601,
// "2025/06/09 09:10", missing weekdays or seconds, two-digit years and
// localised weekday names. A date that cannot be made sense of, or one
// before 1900 or after 2200, gives the zero time.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	// "GMT+8" means UTC+8 in Chinese clients' headers; net/mail reads it
	// as GMT and drops the offset.
	if !gmtOffsetRe.MatchString(v) {
		if t, err := mail.ParseDate(v); err == nil && plausible(t) {
			return fixZoneName(t)
		}
	}
	if t, ok := parseDateTokens(stripComments(v)); ok && plausible(t) {
		return t
	}
	return time.Time{}
}

var gmtOffsetRe = regexp.MustCompile(`(?i)\b(gmt|utc|ut)\s*[+-]\s*\d`)

// fixZoneName gives a time parsed with a zone name unknown to net/mail
// ("JST", "HKT"), which time.Parse leaves at offset zero, its real offset.
func fixZoneName(t time.Time) time.Time {
	name, off := t.Zone()
	if off != 0 || name == "" {
		return t
	}
	o, ok := zoneOffsets[strings.ToLower(name)]
	if !ok || o == 0 {
		return t
	}
	if o > 24 || o < -24 {
		o *= 60
	} else {
		o *= 3600
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone("", o))
}

func plausible(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1900 && y <= 2200
}

// monthNames holds English abbreviations and full month names in the
// languages whose clients write localised Date headers. A word only counts
// as a month when it is one of these exactly, so that "martes" (Tuesday) is
// not March.
var monthNames = func() map[string]int {
	m := map[string]int{}
	for i, names := range [12]string{
		"jan january ene enero janeiro januar janvier janv",
		"feb february febrero fevereiro februar février févr fev fév",
		"mar march marzo março märz mär mrz mars",
		"apr april abr abril avril avr",
		"may mayo maio mai",
		"jun june junio junho juni juin",
		"jul july julio julho juli juillet juil",
		"aug august ago agosto août aout",
		"sep sept september septiembre setiembre set setembro septembre",
		"oct october octubre out outubro okt oktober octobre",
		"nov november noviembre novembro novembre",
		"dec december dic diciembre dez dezembro dezember déc décembre",
	} {
		for _, n := range strings.Fields(names) {
			m[n] = i + 1
		}
	}
	return m
}()

// zoneOffsets are the named zones of RFC 5322 4.3 plus common ones.
// Ambiguous names (IST, CST) follow RFC 5322 where it defines them.
var zoneOffsets = map[string]int{
	"ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0,
	"est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
	"bst": 1, "cet": 1, "cest": 2, "met": 1, "mest": 2, "eet": 2, "eest": 3, "msk": 3,
	"ist": 5*60 + 30, "hkt": 8, "sgt": 8, "awst": 8, "jst": 9, "kst": 9, "aest": 10, "aedt": 11,
	"nzst": 12, "nzdt": 13, "wib": 7, "ict": 7, "pht": 8,
}

type dateParts struct {
	year, month, day, hour, min, sec int
	haveTime, haveZone               bool
	offset                           int // seconds east of UTC
	pm, am                           bool
}

func parseDateTokens(v string) (time.Time, bool) {
	var d dateParts
	var nums []int
	toks := tokenizeDate(v)
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		lt := strings.ToLower(tok)
		switch {
		case strings.Count(tok, ":") >= 1 && isDigitsColons(tok) && !d.haveTime:
			p := strings.Split(tok, ":")
			d.hour, _ = strconv.Atoi(p[0])
			d.min, _ = strconv.Atoi(p[1])
			if len(p) > 2 {
				d.sec, _ = strconv.Atoi(strings.SplitN(p[2], ".", 2)[0])
			}
			d.haveTime = true
		case (tok[0] == '+' || tok[0] == '-') && len(tok) > 1 && d.haveTime && !d.haveZone:
			if off, ok := parseOffset(tok[1:]); ok {
				if tok[0] == '-' {
					off = -off
				}
				d.offset += off
				d.haveZone = true
			}
		case isDateLike(tok):
			y, m, dd, ok := splitNumericDate(tok)
			if ok && d.year == 0 {
				d.year, d.month, d.day = y, m, dd
			}
		case isDigits(tok):
			n, _ := strconv.Atoi(tok)
			nums = append(nums, n)
			if len(tok) == 4 && d.year == 0 {
				d.year = n
				nums = nums[:len(nums)-1]
			}
		case lt == "am" || lt == "a.m.":
			d.am = true
		case lt == "pm" || lt == "p.m.":
			d.pm = true
		default:
			if m, ok := monthFromWord(lt); ok && d.month == 0 {
				d.month = m
				continue
			}
			if off, ok := zoneOffsets[lt]; ok && !d.haveZone {
				if off > 24 || off < -24 {
					d.offset = off * 60
				} else {
					d.offset = off * 3600
				}
				d.haveZone = true
				// "GMT+8", "UTC+08:00": the sign follows.
				if i+1 < len(toks) && (toks[i+1][0] == '+' || toks[i+1][0] == '-') && len(toks[i+1]) > 1 {
					if o2, ok := parseOffset(toks[i+1][1:]); ok {
						if toks[i+1][0] == '-' {
							o2 = -o2
						}
						d.offset = o2
						i++
					}
				}
			}
		}
	}
	// Distribute the bare numbers: day first, then a two-digit year.
	for _, n := range nums {
		switch {
		case d.day == 0 && n >= 1 && n <= 31:
			d.day = n
		case d.year == 0:
			d.year = n
		case d.month == 0 && n >= 1 && n <= 12:
			d.month = n
		}
	}
	if d.year > 0 && d.year < 100 {
		// RFC 5322 4.3: 00-49 is 2000-2049, 50-99 is 1950-1999.
		if d.year < 50 {
			d.year += 2000
		} else {
			d.year += 1900
		}
	}
	if d.pm && d.hour < 12 {
		d.hour += 12
	}
	if d.am && d.hour == 12 {
		d.hour = 0
	}
	if d.year == 0 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 ||
		d.hour > 23 || d.min > 59 || d.sec > 60 {
		return time.Time{}, false
	}
	if d.sec == 60 {
		d.sec = 59
	}
	loc := time.UTC
	if d.haveZone && d.offset != 0 {
		loc = time.FixedZone("", d.offset)
	}
	t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.min, d.sec, 0, loc)
	if t.Day() != d.day {
		return time.Time{}, false // 31 June and the like
	}
	return t, true
}

// tokenizeDate splits at spaces and commas, and splits a zone glued to a
// time or to "GMT" ("09:10:13+0800", "GMT+8").
func tokenizeDate(v string) []string {
	var toks []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ' ' || r == ',' || r == '\t' || r == '\r' || r == '\n'
	}) {
		// "2025-06-09T09:10:13+08:00"
		if t := strings.IndexByte(f, 'T'); t == 10 && isDateLike(f[:10]) {
			toks = append(toks, f[:10])
			f = f[11:]
			if strings.HasSuffix(f, "Z") {
				toks = append(toks, f[:len(f)-1], "Z")
				continue
			}
		}
		for {
			k := strings.IndexAny(f[1:], "+-")
			if k < 0 || isDateLike(f) {
				break
			}
			k++
			toks = append(toks, f[:k])
			f = f[k:]
		}
		if f != "" {
			toks = append(toks, f)
		}
	}
	return toks
}

func monthFromWord(w string) (int, bool) {
	w = strings.TrimSuffix(w, ".")
	if m, ok := monthNames[w]; ok {
		return m, true
	}
	// Chinese and Japanese "6月".
	if strings.HasSuffix(w, "月") {
		if n, err := strconv.Atoi(strings.TrimSuffix(w, "月")); err == nil && n >= 1 && n <= 12 {
			return n, true
		}
	}
	return 0, false
}

// parseOffset reads "0800", "08:00", "8", "08" into seconds.
func parseOffset(s string) (int, bool) {
	s = strings.ReplaceAll(s, ":", "")
	if !isDigits(s) {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	var h, m int
	switch len(s) {
	case 1, 2:
		h = n
	case 3, 4:
		h, m = n/100, n%100
	default:
		return 0, false
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	return h*3600 + m*60, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDigitsColons(s string) bool {
	if s[0] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != ':' && s[i] != '.' {
			return false
		}
	}
	return true
}

// isDateLike matches 2025-06-09, 2025/6/9, 09.06.2025, 9/6/2025.
func isDateLike(s string) bool {
	seps := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '-' || c == '/' || c == '.':
			seps++
		default:
			return false
		}
	}
	return seps == 2 && len(s) >= 6
}

func splitNumericDate(s string) (y, m, d int, ok bool) {
	p := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(p) != 3 {
		return 0, 0, 0, false
	}
	a, _ := strconv.Atoi(p[0])
	b, _ := strconv.Atoi(p[1])
	c, _ := strconv.Atoi(p[2])
	switch {
	case len(p[0]) == 4: // y-m-d
		return a, b, c, true
	case len(p[2]) == 4 && strings.Contains(s, "."): // d.m.y (German, Russian)
		return c, b, a, true
	case len(p[2]) == 4 && a > 12: // d/m/y
		return c, b, a, true
	case len(p[2]) == 4: // m/d/y
		return c, a, b, true
	}
	return 0, 0, 0, false
}
