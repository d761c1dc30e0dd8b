package metrics

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBLEUSentenceCounts(t *testing.T) {
	// cand: the cat sat on the mat (6 words)
	// ref1: the cat is on the mat (6), ref2: there is a cat on the mat (7)
	// 1-grams: the×2 (ref1 has 2) + cat + on + mat = 5 of 6 (sat misses)
	// 2-grams: "the cat", "on the", "the mat" = 3 of 5
	// 3-grams: "on the mat" = 1 of 4;  4-grams: 0 of 3
	// closest reference length: 6 (ref1, distance 0)
	got := bleuSentence(toks("the cat sat on the mat"), toksAll("the cat is on the mat", "there is a cat on the mat"))
	want := bleuStats{testLen: 6, refLen: 6, guess: [4]int{6, 5, 4, 3}, correct: [4]int{5, 3, 1, 0}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(bleuStats{})); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestBLEUClosestLengthTieTakesShorter(t *testing.T) {
	// |5-4| = |5-6| = 1: pycocoevalcap's min((|l-c|, l)) picks 4.
	got := bleuSentence(toks("a b c d e"), toksAll("a b c x y z", "a b c d"))
	if got.refLen != 4 {
		t.Errorf("refLen = %d, want 4", got.refLen)
	}
}

func TestBLEUClipsByLargestReferenceCount(t *testing.T) {
	// "the" appears 4 times; ref1 has it twice, ref2 once: clipped to 2.
	got := bleuSentence(toks("the the the the"), toksAll("the cat on the mat", "the dog"))
	if got.correct[0] != 2 {
		t.Errorf("correct unigrams = %d, want 2", got.correct[0])
	}
}

func TestCorpusBLEU(t *testing.T) {
	const small, tiny = 1e-9, 1e-15
	st := bleuSentence(toks("the cat sat on the mat"), toksAll("the cat is on the mat", "there is a cat on the mat"))
	got := corpusBLEU([]bleuStats{st})
	// ratio = (6+1e-15)/(6+1e-9) is a hair below 1, so the brevity penalty
	// is exp(1-1/ratio) ≈ 1 - 1.7e-10.
	bp := math.Exp(1 - (6+small)/(6+tiny))
	p := []float64{(5 + tiny) / (6 + small), (3 + tiny) / (5 + small), (1 + tiny) / (4 + small), tiny / (3 + small)}
	near(t, "BLEU-1", got[0], bp*p[0])                                 // 5/6
	near(t, "BLEU-2", got[1], bp*math.Sqrt(p[0]*p[1]))                 // √(5/6·3/5) = √0.5
	near(t, "BLEU-3", got[2], bp*math.Cbrt(p[0]*p[1]*p[2]))            // ∛(0.125) = 0.5
	near(t, "BLEU-4", got[3], bp*math.Pow(p[0]*p[1]*p[2]*p[3], 1.0/4)) // tiny: no 4-gram matched
	near(t, "BLEU-2 plain", got[1], math.Sqrt(0.5))
	near(t, "BLEU-3 plain", got[2], 0.5)
	if got[3] > 1e-4 {
		t.Errorf("BLEU-4 = %g, want ≈ 8e-5 (no matching 4-gram)", got[3])
	}
}

func TestCorpusBLEUBrevityPenalty(t *testing.T) {
	// "the cat" against a 6-word reference: every n-gram matches, but
	// ratio = 2/6 and the penalty is exp(1-3) = e^-2.
	got := corpusBLEU([]bleuStats{bleuSentence(toks("the cat"), toksAll("the cat is on the mat"))})
	near(t, "BLEU-1", got[0], math.Exp(-2))
	near(t, "BLEU-2", got[1], math.Exp(-2))
	// No trigram to guess: the precision is 1e-15/1e-9 = 1e-6, ∛(1e-6) = 0.01.
	near(t, "BLEU-3", got[2], 0.01*math.Exp(-2))
}

func TestCorpusBLEUSumsCountsBeforeDividing(t *testing.T) {
	// Image 1: "a b" vs "a b": 2/2 unigrams.  Image 2: "c d e f" vs "c x y z":
	// 1/4. Corpus BLEU-1 = (2+1)/(2+4) = 0.5, not the mean of 1 and 0.25.
	got := corpusBLEU([]bleuStats{
		bleuSentence(toks("a b"), toksAll("a b")),
		bleuSentence(toks("c d e f"), toksAll("c x y z")),
	})
	near(t, "BLEU-1", got[0], 0.5)
}
