package metrics

import (
	"math"
	"testing"
)

// meteorScore aligns one pair without synonyms and scores it.
func meteorScore(test, ref string) float64 {
	return newMeteorScorer(nil).align(toks(test), toks(ref)).score()
}

func TestMeteorHandComputed(t *testing.T) {
	cases := []struct {
		name, test, ref string
		want            float64
	}{{
		// Every word matched in one chunk: frag = 0, P = R = 1.
		name: "identical", test: "a dog runs", ref: "a dog runs", want: 1,
	}, {
		// Content words only, all matched exactly: P = R = 1. By reference
		// order the test positions are 2,1,0: three chunks, frag = 3/3 = 1,
		// penalty 0.6·1^0.2 = 0.6, score 0.4.
		name: "reversed", test: "dog chases cat", ref: "cat chases dog", want: 0.4,
	}, {
		// Stem matches only (dogs~dog, running~runs): each weighs 0.6, so
		// P = R = 0.6·(0.75·2)/(0.75·2) = 0.6; one chunk covering all: frag 0.
		name: "stems", test: "dogs running", ref: "dog runs", want: 0.6,
	}, {
		// Function words weigh 1-δ = 0.25, content words δ = 0.75.
		// test "a dog": weighted length 0.25+0.75 = 1, matched dog 0.75: P = 0.75.
		// ref "the dog runs": length 0.25+0.75·2 = 1.75: R = 0.75/1.75 = 3/7.
		// Fmean = 1/(0.15/0.75 + 0.85/(3/7)); one chunk of one match but not all
		// words matched: frag = 1/((1+1)/2) = 1, penalty 0.6.
		name: "function words", test: "a dog", ref: "the dog runs",
		want: 0.4 / (0.15/0.75 + 0.85/(3.0/7)),
	}, {
		// "the" is ambiguous (positions 0 and 3 on both sides). Linking
		// ref 0 -> test 3 and ref 3 -> test 0 gives the chunks [3,4] [2] [0,1]
		// (3) where the straight choice gives 4. All 5 words matched, P = R = 1,
		// frag = 3/5, score 1 - 0.6·0.6^0.2.
		name: "fewest chunks", test: "the dog and the cat", ref: "the cat and the dog",
		want: 1 - 0.6*math.Pow(0.6, 0.2),
	}, {
		name: "nothing matches", test: "a b", ref: "c d", want: 0,
	}, {
		name: "empty test", test: "", ref: "c d", want: 0,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			near(t, "METEOR", meteorScore(c.test, c.ref), c.want)
		})
	}
}

func TestMeteorChunks(t *testing.T) {
	st := newMeteorScorer(nil).align(toks("the dog and the cat"), toks("the cat and the dog"))
	if st.chunks != 3 {
		t.Errorf("chunks = %d, want 3", st.chunks)
	}
}

func TestMeteorBestReferenceAndCorpusAggregation(t *testing.T) {
	ms := newMeteorScorer(nil)
	// The best of several references is kept.
	best := ms.best(toks("a dog runs"), toksAll("cat chases dog", "a dog runs"))
	near(t, "best reference", best.score(), 1)

	// The corpus score comes from summed statistics, not a mean of scores.
	// Image 1: "dog chases cat" vs "cat chases dog": 3 content matches, 3 chunks.
	// Image 2: "a dog runs" vs itself: 2 content + 1 function match, 1 chunk.
	// Sum: lengths 6 (1 function word) on both sides, all matched: P = R = 1;
	// chunks 4: frag = 4/6, score 1 - 0.6·(2/3)^0.2 ≈ 0.4467 (the mean of the
	// two sentence scores would be 0.7).
	var total meteorStats
	total.add(ms.best(toks("dog chases cat"), toksAll("cat chases dog")))
	total.add(ms.best(toks("a dog runs"), toksAll("a dog runs")))
	near(t, "corpus", total.score(), 1-0.6*math.Pow(2.0/3, 0.2))
}

func TestMeteorSynonyms(t *testing.T) {
	wn := loadSystemWordNet(t)
	ms := newMeteorScorer(wn)
	// car and automobile share WordNet synset 02958343: a synonym match
	// weighs 0.8, one chunk covering everything: score 0.8.
	near(t, "car~automobile", ms.align(toks("car"), toks("automobile")).score(), 0.8)
	// "cars" reaches the same synset through its base form "car".
	near(t, "cars~automobile", ms.align(toks("cars"), toks("automobile")).score(), 0.8)
	// A pair matched exactly stays exact even when synonyms are on.
	near(t, "exact wins", ms.align(toks("car"), toks("car")).score(), 1)
	// Without WordNet the pair does not match.
	near(t, "no wordnet", newMeteorScorer(nil).align(toks("car"), toks("automobile")).score(), 0)
}

// METEOR 1.5 ranks alignments by int counters that a non-exact match's 0.5
// does not move, so an ambiguous stem match that only adds a chunk loses to
// leaving the word unmatched.
func TestMeteorAmbiguousStemMatchIsDropped(t *testing.T) {
	ms := newMeteorScorer(nil)
	// ref "dog" (position 1) stem-matches test 0 and test 2: not fixed.
	// Taking either adds 0 to the ranking and one chunk; skipping adds no
	// chunk and wins. Nothing is matched: score 0.
	st := ms.align(toks("dogs y dogs"), toks("x dog"))
	if got := st.testContentMatches[moduleStem] + st.refContentMatches[moduleStem]; got != 0 {
		t.Errorf("stem matches = %d, want 0 (METEOR drops the ambiguous stem match)", got)
	}
	near(t, "score", st.score(), 0)
	// A unique stem match is fixed before the search and kept: "dogs"~"dog"
	// weighs 0.6 on both sides, every word matched in one chunk: 0.6.
	near(t, "fixed stem", ms.align(toks("dogs"), toks("dog")).score(), 0.6)
}

// METEOR's Aligner adds a candidate's distance to the path it extends, so
// the first candidate (in test order) wins a tie even when a later one is
// nearer.
func TestMeteorDistanceAsMETEORCountsIt(t *testing.T) {
	ms := newMeteorScorer(nil)
	test, ref := toks("dog a b dog"), toks("x y dog")
	start := newPartial(len(test), len(ref))
	cands := [][]wordMatch{nil, nil, {{moduleExact, 0, 2}, {moduleExact, 3, 2}}}
	best := resolveAlignment(cands, start)
	if m := best.matches[2]; m == nil || m.i != 0 {
		t.Errorf("ref 2 linked to %+v, want test 0 (distance 2, but counted 0 by METEOR)", m)
	}
	// Either link gives one exact match in one chunk: P = 0.75/2.5 (test has
	// the function word "a"), R = 0.75/2.25, frag 1, penalty 0.6.
	near(t, "score", ms.align(test, ref).score(), 0.4/(0.15/0.3+0.85/(0.75/2.25)))
}

func TestSnowballStemmer(t *testing.T) {
	// Examples from Snowball's published English vocabulary, where Porter2
	// differs from Porter's original algorithm (e.g. "generously").
	for in, want := range map[string]string{
		"consign": "consign", "consigned": "consign", "consignment": "consign",
		"knack": "knack", "knackeries": "knackeri", "knives": "knive",
		"dying": "die", "skies": "sky", "news": "news", "generously": "generous",
		"running": "run", "the": "the", "is": "is", "riding": "ride",
	} {
		if got := newMeteorScorer(nil).stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}
