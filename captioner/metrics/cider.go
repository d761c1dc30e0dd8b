package metrics

import (
	"maps"
	"math"
	"slices"
)

// CIDEr-D parameters: n-grams up to ciderN, Gaussian length penalty sigma.
const (
	ciderN     = 4
	ciderSigma = 6.0
)

// ciderVec is one sentence's TF-IDF vectors, one per n-gram order.
type ciderVec struct {
	// grams lists each order's n-grams in sorted order: sums over them
	// (norms, dot products) then add in the same order on every run, so a
	// score is the same to the last bit. Go's map order is random, and
	// floating-point addition is not associative.
	grams [ciderN][]string
	vec   [ciderN]map[string]float64
	norm  [ciderN]float64
	// length counts the sentence's bigrams: pycocoevalcap's CiderScorer
	// takes the length from n-gram order index 1, and we keep its numbers.
	length int
}

// ciderD scores every candidate (cands[i] against refs[i]) with CIDEr-D as
// pycocoevalcap computes it: document frequencies come from the evaluated
// images' references (an n-gram counts once per image), idf = log(images) -
// log(max(1, df)), the candidate's TF-IDF weights are clipped by the
// reference's, each order's cosine is multiplied by exp(-δ²/2σ²) where δ is
// the length difference, and the mean over orders and references is ×10.
func ciderD(cands [][]string, refs [][][]string) []float64 {
	df := map[string]float64{}
	refCounts := make([][]map[string]int, len(refs))
	for i, rs := range refs {
		seen := map[string]bool{}
		refCounts[i] = make([]map[string]int, len(rs))
		for j, r := range rs {
			refCounts[i][j] = ngramCounts(r, ciderN)
			for g := range refCounts[i][j] {
				seen[g] = true
			}
		}
		for g := range seen {
			df[g]++
		}
	}
	logN := math.Log(float64(len(refs)))
	toVec := func(counts map[string]int) ciderVec {
		var v ciderVec
		for n := range ciderN {
			v.vec[n] = map[string]float64{}
		}
		for _, g := range slices.Sorted(maps.Keys(counts)) {
			tf := counts[g]
			n := ngramOrder(g) - 1
			w := float64(tf) * (logN - math.Log(max(1, df[g])))
			v.grams[n] = append(v.grams[n], g)
			v.vec[n][g] = w
			v.norm[n] += w * w
			if n == 1 {
				v.length += tf
			}
		}
		for n := range ciderN {
			v.norm[n] = math.Sqrt(v.norm[n])
		}
		return v
	}
	scores := make([]float64, len(cands))
	for i, cand := range cands {
		hyp := toVec(ngramCounts(cand, ciderN))
		var sum float64
		for _, rc := range refCounts[i] {
			ref := toVec(rc)
			delta := float64(hyp.length - ref.length)
			penalty := math.Exp(-delta * delta / (2 * ciderSigma * ciderSigma))
			for n := range ciderN {
				if hyp.norm[n] == 0 || ref.norm[n] == 0 {
					continue
				}
				var dot float64
				for _, g := range hyp.grams[n] {
					w, r := hyp.vec[n][g], ref.vec[n][g]
					dot += min(w, r) * r
				}
				sum += dot / (hyp.norm[n] * ref.norm[n]) * penalty
			}
		}
		if len(refCounts[i]) > 0 {
			scores[i] = sum / ciderN / float64(len(refCounts[i])) * 10
		}
	}
	return scores
}
