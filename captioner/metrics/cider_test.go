package metrics

import (
	"math"
	"testing"
)

func TestCIDErDIdenticalAndDisjoint(t *testing.T) {
	// Two images, so idf = ln 2 - ln df. "a" is in both images' references:
	// df 2, idf 0. Every other n-gram has idf ln 2.
	// Image A: "a dog" vs "a dog": orders 1 and 2 have cosine 1, orders 3-4
	// are empty (0); vs "a cat": only "a" is shared and weighs 0, so 0.
	// (1+1+0+0)/4 = 0.5 for the first reference, 0 for the second; mean over
	// the two references 0.25, ×10 = 2.5.
	// Image B: "a bird" vs "a bird": (1+1)/4 ×10 = 5.
	got := ciderD(toksAll("a dog", "a bird"), [][][]string{toksAll("a dog", "a cat"), toksAll("a bird")})
	near(t, "image A", got[0], 2.5)
	near(t, "image B", got[1], 5)
}

func TestCIDErDLengthPenalty(t *testing.T) {
	// Image A: "a dog" vs "a dog runs fast". Unigram vectors: cand {dog: ln2}
	// (a weighs 0), ref {dog, runs, fast: ln2 each}: cosine 1/√3; bigrams
	// likewise {a dog} vs {a dog, dog runs, runs fast}: 1/√3. Lengths (in
	// bigrams, as pycocoevalcap counts) 1 and 3: δ = -2, penalty
	// exp(-4/72). Score = (2/√3)·exp(-1/18)/4 ×10.
	got := ciderD(toksAll("a dog", "a bird"), [][][]string{toksAll("a dog runs fast"), toksAll("a bird")})
	near(t, "image A", got[0], 10*(2/math.Sqrt(3))*math.Exp(-1.0/18)/4)
}

func TestCIDErDClipsCandidateCounts(t *testing.T) {
	// Image A: "dog dog" vs "dog": unigram weights cand 2·ln2, ref ln2;
	// clipped dot min(2ln2, ln2)·ln2 over norms 2ln2·ln2 = 0.5 (1.0 without
	// clipping). The bigram "dog dog" has no reference bigram: 0. δ = 1 - 0:
	// penalty exp(-1/72). Score = 0.5·exp(-1/72)/4 ×10.
	got := ciderD(toksAll("dog dog", "cat"), [][][]string{toksAll("dog"), toksAll("cat")})
	near(t, "image A", got[0], 10*0.5*math.Exp(-1.0/72)/4)
	near(t, "image B", got[1], 10*1.0/4)
}

func TestCIDErDIsReproducible(t *testing.T) {
	// Floating-point sums depend on their order: summed in Go's random map
	// order, a corpus CIDEr-D changed in its last digit between runs.
	cands, refs := readGolden(t)
	want, err := Evaluator{}.Evaluate(cands, refs)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		got, err := Evaluator{}.Evaluate(cands, refs)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("same input, different scores:\n%+v\n%+v", want, got)
		}
	}
}
