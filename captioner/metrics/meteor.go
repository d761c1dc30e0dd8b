package metrics

import (
	"math"
	"slices"
	"sort"

	"github.com/kljensen/snowball/english"
)

// METEOR 1.5's default English parameters (task "default"): alpha weighs
// precision against recall, beta and gamma shape the fragmentation penalty,
// delta weighs content words against function words.
const (
	meteorAlpha = 0.85
	meteorBeta  = 0.20
	meteorGamma = 0.60
	meteorDelta = 0.75
	// meteorBeam is the aligner's beam width.
	meteorBeam = 40
)

// METEOR matching modules, in the order the aligner runs them.
const (
	moduleExact = iota
	moduleStem
	moduleSynonym
	numModules
)

var (
	// meteorModuleWeights weigh the matches of each module in the score.
	meteorModuleWeights = [numModules]float64{1.0, 0.6, 0.8}
	// alignModuleWeights rank candidate alignments (METEOR's "best weights
	// for evaluation": exact 1, every other module 0.5). METEOR adds them to
	// int counters with Java's +=, which truncates: a non-exact match adds 0
	// to the ranking (see addTruncated).
	alignModuleWeights = [numModules]float64{1.0, 0.5, 0.5}
)

// meteorStats are METEOR's sufficient statistics for one hypothesis and one
// reference; they add up over a corpus.
type meteorStats struct {
	testLen, refLen           int
	testFunction, refFunction int // function words in each sentence
	// Matched words by module, split into content and function words.
	testContentMatches, testFunctionMatches [numModules]int
	refContentMatches, refFunctionMatches   [numModules]int
	chunks                                  int
}

func (s *meteorStats) add(o meteorStats) {
	s.testLen += o.testLen
	s.refLen += o.refLen
	s.testFunction += o.testFunction
	s.refFunction += o.refFunction
	for m := range numModules {
		s.testContentMatches[m] += o.testContentMatches[m]
		s.testFunctionMatches[m] += o.testFunctionMatches[m]
		s.refContentMatches[m] += o.refContentMatches[m]
		s.refFunctionMatches[m] += o.refFunctionMatches[m]
	}
	s.chunks += o.chunks
}

// score is METEOR's formula:
//
//	P = Σ_m w_m (δ·content_m + (1-δ)·function_m) / (δ·|content| + (1-δ)·|function|)  (hypothesis)
//	R = the same over the reference
//	Fmean = P·R / (α·P + (1-α)·R)
//	frag = chunks / mean(matched words in hypothesis, in reference)
//	score = Fmean · (1 - γ·frag^β)
//
// with frag = 0 when every word of both sides is matched in one chunk, and 0
// for an undefined result (nothing matched).
func (s meteorStats) score() float64 {
	const d = meteorDelta
	testWeighted := d*float64(s.testLen-s.testFunction) + (1-d)*float64(s.testFunction)
	refWeighted := d*float64(s.refLen-s.refFunction) + (1-d)*float64(s.refFunction)
	var testMatched, refMatched float64
	var testTotal, refTotal int
	for m := range numModules {
		w := meteorModuleWeights[m]
		testMatched += w * (d*float64(s.testContentMatches[m]) + (1-d)*float64(s.testFunctionMatches[m]))
		refMatched += w * (d*float64(s.refContentMatches[m]) + (1-d)*float64(s.refFunctionMatches[m]))
		testTotal += s.testContentMatches[m] + s.testFunctionMatches[m]
		refTotal += s.refContentMatches[m] + s.refFunctionMatches[m]
	}
	p := testMatched / testWeighted
	r := refMatched / refWeighted
	fMean := 1 / ((1-meteorAlpha)/p + meteorAlpha/r)
	frag := 0.0
	if !(testTotal == s.testLen && refTotal == s.refLen && s.chunks == 1) {
		frag = float64(s.chunks) / (float64(testTotal+refTotal) / 2)
	}
	score := fMean * (1 - meteorGamma*math.Pow(frag, meteorBeta))
	if math.IsNaN(score) || score < 0 {
		return 0
	}
	return score
}

// meteorScorer aligns sentences; it caches per-word stems and synsets and is
// not safe for concurrent use.
type meteorScorer struct {
	wn       *WordNet // nil: no synonym module
	stems    map[string]string
	synonyms map[string]map[uint64]bool
}

func newMeteorScorer(wn *WordNet) *meteorScorer {
	return &meteorScorer{wn: wn, stems: map[string]string{}, synonyms: map[string]map[uint64]bool{}}
}

func (ms *meteorScorer) stem(w string) string {
	s, ok := ms.stems[w]
	if !ok {
		// Snowball's English (Porter2) stemmer, as METEOR 1.5's
		// englishStemmer; like the Java stemmer it stems stop words too.
		s = english.Stem(w, true)
		ms.stems[w] = s
	}
	return s
}

func (ms *meteorScorer) synsets(w string) map[uint64]bool {
	s, ok := ms.synonyms[w]
	if !ok {
		s = ms.wn.Synsets(w)
		ms.synonyms[w] = s
	}
	return s
}

// best scores the hypothesis against each reference and keeps the
// statistics of the best-scoring one (the first on ties), as METEOR does
// with several references.
func (ms *meteorScorer) best(test []string, refs [][]string) meteorStats {
	var best meteorStats
	bestScore := -1.0
	for _, ref := range refs {
		st := ms.align(test, ref)
		if sc := st.score(); sc > bestScore {
			best, bestScore = st, sc
		}
	}
	return best
}

// wordMatch links test word i to reference word j through a module.
type wordMatch struct{ module, i, j int }

// align finds METEOR's alignment between test and ref and counts its
// statistics. Every possible match of every module is listed first; matches
// that are the only option for both of their words are fixed; the rest is
// resolved by METEOR's left-to-right beam search over reference positions,
// preferring (1) more exact matches (non-exact ones add 0 to the ranking:
// METEOR 1.5 truncates their weight 0.5 into an int), (2) fewer chunks,
// (3) a smaller sum of position distances, counted as METEOR's Aligner
// counts it (on the path being extended).
func (ms *meteorScorer) align(test, ref []string) meteorStats {
	cands := make([][]wordMatch, len(ref))
	cov1 := make([]int, len(test))
	cov2 := make([]int, len(ref))
	add := func(module, i, j int) {
		cands[j] = append(cands[j], wordMatch{module, i, j})
		cov1[i]++
		cov2[j]++
	}
	for j := range ref {
		for i := range test {
			if test[i] == ref[j] {
				add(moduleExact, i, j)
			}
		}
	}
	// Identical sentences need only exact matches.
	if !slices.Equal(test, ref) {
		for j := range ref {
			for i := range test {
				if test[i] != ref[j] && ms.stem(test[i]) == ms.stem(ref[j]) {
					add(moduleStem, i, j)
				}
			}
		}
		if ms.wn != nil {
			for j := range ref {
				for i := range test {
					if test[i] != ref[j] && intersects(ms.synsets(test[i]), ms.synsets(ref[j])) {
						add(moduleSynonym, i, j)
					}
				}
			}
		}
	}

	start := newPartial(len(test), len(ref))
	for j, opts := range cands {
		if len(opts) == 1 && cov2[j] == 1 && cov1[opts[0].i] == 1 {
			m := opts[0]
			start.fixed[j] = true
			start.matches[j] = &m
			start.used1[m.i], start.used2[j] = true, true
		}
	}
	best := resolveAlignment(cands, start)

	st := meteorStats{testLen: len(test), refLen: len(ref)}
	for _, w := range test {
		if functionWords[w] {
			st.testFunction++
		}
	}
	for _, w := range ref {
		if functionWords[w] {
			st.refFunction++
		}
	}
	last := -1
	for _, m := range best.matches {
		if m == nil {
			if last != -1 {
				st.chunks++
				last = -1
			}
			continue
		}
		if functionWords[test[m.i]] {
			st.testFunctionMatches[m.module]++
		} else {
			st.testContentMatches[m.module]++
		}
		if functionWords[ref[m.j]] {
			st.refFunctionMatches[m.module]++
		} else {
			st.refContentMatches[m.module]++
		}
		if last != -1 && m.i != last {
			st.chunks++
		}
		last = m.i + 1
	}
	if last != -1 {
		st.chunks++
	}
	return st
}

func intersects(a, b map[uint64]bool) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

// partialAlignment is one path of the aligner's beam search.
type partialAlignment struct {
	matches      []*wordMatch // by reference position
	fixed        []bool       // matches[j] was fixed before the search
	used1, used2 []bool
	weighted     int // ranking weight of matched words on both sides (truncated)
	chunks       int // chunks closed so far
	lastEnd      int // test position after the last match, -1 if none open
	distance     int
}

func newPartial(n1, n2 int) *partialAlignment {
	return &partialAlignment{
		matches: make([]*wordMatch, n2), fixed: make([]bool, n2),
		used1: make([]bool, n1), used2: make([]bool, n2), lastEnd: -1,
	}
}

func (p *partialAlignment) clone() *partialAlignment {
	c := *p
	c.matches = slices.Clone(p.matches)
	c.fixed = slices.Clone(p.fixed)
	c.used1 = slices.Clone(p.used1)
	c.used2 = slices.Clone(p.used2)
	return &c
}

// addTruncated is Java's int += double: METEOR's PartialAlignment keeps
// matches1 and matches2 as ints, so n += 0.5 leaves n unchanged.
func addTruncated(n int, w float64) int { return int(float64(n) + w) }

// take records m as the match at the current reference position, without
// its distance (see resolveAlignment).
func (p *partialAlignment) take(m *wordMatch) {
	w := alignModuleWeights[m.module]
	p.weighted = addTruncated(addTruncated(p.weighted, w), w)
	if p.lastEnd != -1 && m.i != p.lastEnd {
		p.chunks++
	}
	p.lastEnd = m.i + 1
}

// betterPartial orders paths best first.
func betterPartial(a, b *partialAlignment) bool {
	if a.weighted != b.weighted {
		return a.weighted > b.weighted
	}
	if a.chunks != b.chunks {
		return a.chunks < b.chunks
	}
	return a.distance < b.distance
}

func resolveAlignment(cands [][]wordMatch, start *partialAlignment) *partialAlignment {
	next := []*partialAlignment{start}
	for cur := 0; cur <= len(cands); cur++ {
		paths := next
		next = nil
		sort.SliceStable(paths, func(a, b int) bool { return betterPartial(paths[a], paths[b]) })
		for _, p := range paths[:min(meteorBeam, len(paths))] {
			switch {
			case cur == len(cands):
				if p.lastEnd != -1 {
					p.chunks++
				}
				next = append(next, p)
			case p.used2[cur]:
				if p.fixed[cur] {
					p.take(p.matches[cur])
					p.distance += abs(p.matches[cur].j - p.matches[cur].i)
					next = append(next, p)
				}
				// else: taken by a multi-word match (never with our modules)
			default:
				for k := range cands[cur] {
					m := &cands[cur][k]
					if p.used1[m.i] {
						continue
					}
					np := p.clone()
					np.matches[cur] = m
					np.used1[m.i], np.used2[cur] = true, true
					np.take(m)
					// METEOR's Aligner adds the distance to the path
					// being extended, not to the new one (path.distance
					// +=): later siblings and the skip path inherit it.
					p.distance += abs(m.j - m.i)
					next = append(next, np)
				}
				// Or leave this reference word unmatched.
				if p.lastEnd != -1 {
					p.chunks++
					p.lastEnd = -1
				}
				next = append(next, p)
			}
		}
		if len(next) == 0 {
			next = append(next, paths[0])
		}
	}
	sort.SliceStable(next, func(a, b int) bool { return betterPartial(next[a], next[b]) })
	return next[0]
}
