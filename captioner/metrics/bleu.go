package metrics

import "math"

// maxBLEUOrder is the longest n-gram BLEU counts.
const maxBLEUOrder = 4

// bleuStats are one caption's BLEU sufficient statistics.
type bleuStats struct {
	testLen, refLen int
	guess, correct  [maxBLEUOrder]int
}

// bleuSentence counts cand's n-grams against refs the way pycocoevalcap's
// BleuScorer does: n-gram counts are clipped by their largest count in any
// one reference, and the reference length is the 'closest' one (on a tie,
// the shorter).
func bleuSentence(cand []string, refs [][]string) bleuStats {
	st := bleuStats{testLen: len(cand)}
	maxRef := map[string]int{}
	bestDiff := -1
	for _, ref := range refs {
		for g, c := range ngramCounts(ref, maxBLEUOrder) {
			if c > maxRef[g] {
				maxRef[g] = c
			}
		}
		d := abs(len(ref) - len(cand))
		if bestDiff < 0 || d < bestDiff || (d == bestDiff && len(ref) < st.refLen) {
			bestDiff, st.refLen = d, len(ref)
		}
	}
	for k := 0; k < maxBLEUOrder; k++ {
		st.guess[k] = max(0, len(cand)-k)
	}
	for g, c := range ngramCounts(cand, maxBLEUOrder) {
		st.correct[ngramOrder(g)-1] += min(c, maxRef[g])
	}
	return st
}

// corpusBLEU sums the statistics of every caption and returns BLEU-1..4 with
// pycocoevalcap's conventions: precisions are (correct+1e-15)/(guess+1e-9),
// BLEU-n is the geometric mean of the first n of them, and the brevity
// penalty exp(1-1/ratio) applies when ratio = (testLen+1e-15)/(refLen+1e-9)
// is below 1.
func corpusBLEU(all []bleuStats) [maxBLEUOrder]float64 {
	const small, tiny = 1e-9, 1e-15
	var total bleuStats
	for _, st := range all {
		total.testLen += st.testLen
		total.refLen += st.refLen
		for k := range maxBLEUOrder {
			total.guess[k] += st.guess[k]
			total.correct[k] += st.correct[k]
		}
	}
	ratio := (float64(total.testLen) + tiny) / (float64(total.refLen) + small)
	var out [maxBLEUOrder]float64
	prod := 1.0
	for k := range maxBLEUOrder {
		prod *= (float64(total.correct[k]) + tiny) / (float64(total.guess[k]) + small)
		out[k] = math.Pow(prod, 1/float64(k+1))
		if ratio < 1 {
			out[k] *= math.Exp(1 - 1/ratio)
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
