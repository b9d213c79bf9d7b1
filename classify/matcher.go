package classify

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A matcher is one rule field's patterns compiled for speed. Go's regexp
// runs in linear time but slowly on long alternations (tens of µs per
// hundred bytes), and a message meets a hundred rules. Two things keep Kind
// in the low tens of µs:
//
//   - the input is lower-cased once (foldText) and the patterns are
//     rewritten to lower-case literals, instead of compiling with (?i),
//     which turns every letter into a class;
//   - most patterns start with a small set of words ("please|kindly|...",
//     "请|麻烦"): a match must begin with one of them, so when none occurs in
//     the text the regexp is not run at all. Russian rules cost nothing on
//     English mail this way. A message's text is scanned once for the
//     words of all rules (triggerIndex); shorter fields (subject, header
//     values) ask strings.Contains.
type matcher struct {
	re       *regexp.Regexp
	triggers []string // lower-case; nil means "always run re"
	// starts are the triggers none of which begins with another: every
	// match begins at an occurrence of one (nil: unknown). at0 and at1 are
	// re anchored at the start of the text and one rune in; maxLen is the
	// longest match in bytes (-1: no bound).
	starts   []string
	at0, at1 *regexp.Regexp
	maxLen   int
	// triggerIDs and startIDs are the ids of triggers and starts in the
	// Rules' triggerIndex; nil when mt is not in it (not a text matcher).
	triggerIDs, startIDs []int32
}

// match reports whether s, already folded by foldText, matches. found,
// when not nil, is the Rules' triggerIndex scan of s, and mt must be in
// that index.
func (mt *matcher) match(s string, found triggerSet) bool {
	if mt.triggers != nil {
		hit := false
		for i, t := range mt.triggers {
			if found != nil {
				hit = found.has(mt.triggerIDs[i])
			} else {
				hit = strings.Contains(s, t)
			}
			if hit {
				break
			}
		}
		if !hit {
			return false
		}
		if mt.starts != nil && len(s) > anchorFrom {
			return mt.matchAtStarts(s, found)
		}
	}
	return mt.re.MatchString(s)
}

// anchorFrom is the text length from which matchAtStarts replaces one run
// of the regexp over the whole text. Most of a long text is words no rule
// is about, yet the unanchored regexp (dozens of alternatives) reads all
// of it: that was a fifth of a sync's CPU.
const anchorFrom = 512

// matchAtStarts is re.MatchString(s), tried only where a match can begin:
// at each occurrence of a start, with re anchored there (at1 reads the
// rune before, so \b is judged as in the whole text) and given at most
// maxLen bytes and one rune more (so \b and $ at the match's end are too).
//
// found, as in match, saves looking for starts that do not occur.
func (mt *matcher) matchAtStarts(s string, found triggerSet) bool {
	for k, t := range mt.starts {
		if found != nil && !found.has(mt.startIDs[k]) {
			continue
		}
		for off := 0; off < len(s); {
			j := strings.Index(s[off:], t)
			if j < 0 {
				break
			}
			i := off + j
			end := len(s)
			if mt.maxLen >= 0 {
				end = min(len(s), i+mt.maxLen+utf8.UTFMax)
			}
			if i == 0 {
				if mt.at0.MatchString(s[:end]) {
					return true
				}
			} else if _, n := utf8.DecodeLastRuneInString(s[:i]); mt.at1.MatchString(s[i-n : end]) {
				return true
			}
			off = i + len(t)
		}
	}
	return false
}

// anchor fills in the fields of mt that matchAtStarts uses, from the
// source of re and all its triggers; starts stays nil when a match may
// begin elsewhere.
func (mt *matcher) anchor(src string, all []string) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return
	}
	mt.maxLen = maxLen(re)
	mt.starts = prefixMinimal(dedupe(all))
	mt.at0 = regexp.MustCompile(`^(?:` + src + `)`)
	mt.at1 = regexp.MustCompile(`^(?s:.)(?:` + src + `)`)
}

// maxLen is the most bytes a match of re can span, -1 for no bound.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return utf8.UTFMax * len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		if n := maxLen(re.Sub[0]); n >= 0 && re.Max >= 0 {
			return n * re.Max
		}
		return -1
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n := maxLen(sub)
			if n < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total
	}
	return 0 // empty-width assertions
}

// prefixMinimal drops every trigger that begins with a shorter one: a
// match at the longer's occurrence begins at the shorter's too.
func prefixMinimal(set []string) []string {
	sort.Slice(set, func(i, j int) bool { return len(set[i]) < len(set[j]) })
	var out []string
	for _, t := range set {
		if !slices.ContainsFunc(out, func(k string) bool { return strings.HasPrefix(t, k) }) {
			out = append(out, t)
		}
	}
	return out
}

// lowerPattern parses p case-insensitively and returns an equivalent source
// for lower-cased input, with its trigger words (nil if none can be told).
func lowerPattern(p string) (string, []string, error) {
	re, err := syntax.Parse(p, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return "", nil, err
	}
	lowerLiterals(re)
	return re.String(), triggersOf(re), nil
}

func lowerLiterals(re *syntax.Regexp) {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
		for i, r := range re.Rune {
			re.Rune[i] = unicode.ToLower(r)
		}
		re.Flags &^= syntax.FoldCase
	}
	for _, s := range re.Sub {
		lowerLiterals(s)
	}
}

// maxTriggers bounds a trigger set: past it, scanning costs more than the
// regexp it would save.
const maxTriggers = 64

// triggersOf returns strings one of which starts every match of re, or nil
// when no such small set is known (re may match the empty string, or starts
// with "." or a large class).
func triggersOf(re *syntax.Regexp) []string {
	set, _ := lits(re)
	for _, s := range set {
		if s == "" {
			return nil
		}
	}
	return dedupe(set)
}

// minimal drops every trigger that contains a shorter one: a text holding
// the longer holds the shorter, so checking the shorter suffices.
func minimal(set []string) []string {
	sort.Slice(set, func(i, j int) bool { return len(set[i]) < len(set[j]) })
	var out []string
	for _, t := range set {
		implied := false
		for _, k := range out {
			if strings.Contains(t, k) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, t)
		}
	}
	return out
}

// lits returns the prefixes of re's matches: when exact, re matches exactly
// these strings; otherwise every match starts with one of them. nil means
// unknown. Concatenations multiply out ("(le|les) (adjunto|enviamos)" gives
// four triggers, not "le" and "les"), which keeps triggers selective.
func lits(re *syntax.Regexp) (set []string, exact bool) {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(set) >= maxTriggers {
					return nil, false
				}
				set = append(set, string(unicode.ToLower(r)))
			}
		}
		return dedupe(set), true
	case syntax.OpCapture:
		return lits(re.Sub[0])
	case syntax.OpAlternate:
		exact = true
		for _, sub := range re.Sub {
			s, e := lits(sub)
			if s == nil || len(set)+len(s) > maxTriggers {
				return nil, false
			}
			set, exact = append(set, s...), exact && e
		}
		return set, exact
	case syntax.OpQuest:
		s, e := lits(re.Sub[0])
		if s == nil || len(s) >= maxTriggers {
			return nil, false
		}
		return append(s, ""), e
	case syntax.OpStar:
		if s, _ := lits(re.Sub[0]); s != nil && len(s) < maxTriggers {
			return append(s, ""), false
		}
		return nil, false
	case syntax.OpPlus, syntax.OpRepeat:
		s, e := lits(re.Sub[0])
		if re.Op == syntax.OpRepeat && re.Min == 0 {
			if s == nil || len(s) >= maxTriggers {
				return nil, false
			}
			return append(s, ""), false
		}
		return s, e && re.Op == syntax.OpRepeat && re.Min == 1 && re.Max == 1
	case syntax.OpConcat:
		set, exact = []string{""}, true
		for _, sub := range re.Sub {
			s, e := lits(sub)
			if s == nil || len(set)*len(s) > maxTriggers {
				return set, false // what we have so far is a prefix
			}
			var next []string
			for _, a := range set {
				for _, b := range s {
					next = append(next, a+b)
				}
			}
			set = dedupe(next)
			if set == nil { // only zero-width so far
				set = []string{""}
			}
			if !e {
				return set, false
			}
		}
		return set, exact
	}
	return nil, false
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
