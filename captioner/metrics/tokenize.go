package metrics

import (
	"strings"
	"unicode"
)

// Tokenize lowercases s, turns punctuation and symbol characters into
// spaces and splits on white space: "dog's" gives "dog", "s" and "t-shirt"
// gives "t", "shirt". This is the training text cleaning's rule
// (models/train/data.py), so references are cut into the words the decoder
// learnt. Unlike the training cleaning, tokens with digits are kept (as
// pycocoevalcap keeps them): a reference's "2" is a word the model cannot
// produce, which is the model's loss.
func Tokenize(s string) []string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r):
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
