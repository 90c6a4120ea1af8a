package push

import (
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// Glob matching (appendices, "Glob-style matching"): '*' matches zero or more
// characters, '?' exactly one; there is no escape. Matching is by Unicode code
// point and case-insensitive (simple case folding, see fold).
//
// A pattern is run as a bit-parallel NFA whose state k means "the first k
// tokens have matched", so a match costs O(len(text) × active states) with no
// backtracking at all, whatever the pattern. Patterns are limited to
// maxGlobTokens tokens so that the state set fits in a fixed-size bitset.

// maxSteps bounds the glob work of one evaluation, in automaton state
// updates (some tens of milliseconds); once it is spent, further globs (and
// literal patterns) do not match, so later rules may decide instead. Only
// huge rulesets of pathological patterns against long bodies get there.
const maxSteps = 1 << 22

const (
	maxPatternBytes = 1024
	maxGlobTokens   = 255 // states 0..255 fit in a [4]uint64
)

const (
	tokLit  byte = iota
	tokAny       // '?'
	tokStar      // '*'
)

type glob struct {
	src      string // the pattern as given
	toks     []rune // folded literal rune (tokLit) or 0
	kinds    []byte
	stars    stateSet // bit k set when token k is '*'
	literal  bool     // no wildcards: anchored matching is a folded compare
	tooLarge bool     // over the limits: never matches
}

func compileGlob(p string) glob {
	g := glob{src: p, literal: true}
	if len(p) > maxPatternBytes {
		g.tooLarge = true
		return g
	}
	for _, r := range p {
		switch r {
		case '*':
			g.literal = false
			if n := len(g.kinds); n > 0 && g.kinds[n-1] == tokStar {
				continue // "**" is "*"
			}
			g.kinds = append(g.kinds, tokStar)
			g.toks = append(g.toks, 0)
		case '?':
			g.literal = false
			g.kinds = append(g.kinds, tokAny)
			g.toks = append(g.toks, 0)
		default:
			g.kinds = append(g.kinds, tokLit)
			g.toks = append(g.toks, fold(r))
		}
		if len(g.kinds) > maxGlobTokens {
			g.tooLarge = true
			return g
		}
	}
	for k, kind := range g.kinds {
		if kind == tokStar {
			g.stars.set(k)
		}
	}
	return g
}

// compileLiteral builds a glob that matches s literally ('*' and '?' are
// ordinary characters), for contains_display_name.
func compileLiteral(s string) glob {
	g := glob{src: s, literal: true}
	if len(s) > maxPatternBytes {
		g.tooLarge = true
		return g
	}
	for _, r := range s {
		g.kinds = append(g.kinds, tokLit)
		g.toks = append(g.toks, fold(r))
		if len(g.kinds) > maxGlobTokens {
			g.tooLarge = true
			return g
		}
	}
	return g
}

// fold maps a rune to a case-insensitive representative.
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// isWordChar reports whether r is in [A-Za-z0-9_]; every other character is
// a word boundary (push.md, content rules and event_match on content.body).
func isWordChar(r rune) bool {
	return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

// matchAll reports whether the pattern matches the whole of s, spending
// from the budget.
func (g *glob) matchAll(s string, budget *int) bool {
	if g.tooLarge || *budget <= 0 {
		return false
	}
	if g.literal {
		*budget -= 1 + len(g.toks)
		i := 0
		for _, r := range s {
			if i >= len(g.toks) || fold(r) != g.toks[i] {
				return false
			}
			i++
		}
		return i == len(g.toks)
	}
	var cur stateSet
	cur.set(0)
	g.closeStars(&cur)
	for _, r := range s {
		cur = g.step(&cur, fold(r), budget)
		if cur.empty() || *budget <= 0 {
			return false
		}
	}
	return cur.has(len(g.kinds))
}

// matchWords reports whether the pattern matches some substring of s that
// starts and ends at a word boundary: it is preceded by the start of s or a
// non-word character, and followed by the end of s or a non-word character.
func (g *glob) matchWords(s string, budget *int) bool {
	if g.tooLarge || *budget <= 0 {
		return false
	}
	final := len(g.kinds)
	var cur stateSet
	boundary := true // the position before the current rune starts a word
	for _, r := range s {
		*budget--
		if *budget <= 0 {
			return false
		}
		if boundary {
			cur.set(0)
			g.closeStars(&cur)
		}
		word := isWordChar(r)
		if !word && cur.has(final) {
			return true // a match ends right before this non-word character
		}
		if !cur.empty() {
			cur = g.step(&cur, fold(r), budget)
			if *budget <= 0 {
				return false
			}
		}
		boundary = !word
	}
	if boundary {
		cur.set(0)
		g.closeStars(&cur)
	}
	return cur.has(final)
}

// step consumes one folded rune, charging one unit per active state.
func (g *glob) step(cur *stateSet, r rune, budget *int) stateSet {
	var next stateSet
	final := len(g.kinds)
	*budget -= 1 + bits.OnesCount64(cur[0]) + bits.OnesCount64(cur[1]) + bits.OnesCount64(cur[2]) + bits.OnesCount64(cur[3])
	for w := range cur {
		word := cur[w]
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			k := w*64 + b
			if k >= final {
				continue
			}
			switch g.kinds[k] {
			case tokStar:
				next.set(k)
			case tokAny:
				next.set(k + 1)
			default:
				if g.toks[k] == r {
					next.set(k + 1)
				}
			}
		}
	}
	g.closeStars(&next)
	return next
}

// closeStars adds the states reachable by letting an active '*' match
// nothing. Stars are never adjacent, so one shift suffices.
func (g *glob) closeStars(s *stateSet) {
	var t stateSet
	var carry uint64
	for w := range s {
		v := s[w] & g.stars[w]
		t[w] = v<<1 | carry
		carry = v >> 63
	}
	for w := range s {
		s[w] |= t[w]
	}
}

type stateSet [4]uint64

func (s *stateSet) set(k int)      { s[k>>6] |= 1 << (k & 63) }
func (s *stateSet) has(k int) bool { return s[k>>6]&(1<<(k&63)) != 0 }
func (s *stateSet) empty() bool    { return s[0]|s[1]|s[2]|s[3] == 0 }
