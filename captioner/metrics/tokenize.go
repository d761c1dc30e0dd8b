package metrics

import (
	"strings"
	"unicode"
)

// Tokenize lowercases s, deletes punctuation and symbol characters and splits
// the rest on white space. Deleting (not splitting at) punctuation keeps
// "dog's" as one token "dogs" and "t-shirt" as "tshirt", which is what the
// training text cleaning does, so candidates and references share a
// vocabulary.
func Tokenize(s string) []string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			// dropped
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.Fields(b.String())
}

// ngramCounts counts the n-grams of toks for n = 1..maxN; an n-gram's key is
// its words joined by single spaces (tokens never contain spaces).
func ngramCounts(toks []string, maxN int) map[string]int {
	counts := make(map[string]int, len(toks)*maxN)
	for n := 1; n <= maxN; n++ {
		for i := 0; i+n <= len(toks); i++ {
			counts[strings.Join(toks[i:i+n], " ")]++
		}
	}
	return counts
}

// ngramOrder returns n for an n-gram key made by ngramCounts.
func ngramOrder(key string) int { return strings.Count(key, " ") + 1 }
