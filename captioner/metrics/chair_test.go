package metrics

import (
	"math"
	"testing"
)

func TestCHAIR(t *testing.T) {
	refs := map[string][]string{
		"1.jpg": {"A man walks his dog on the beach .", "A person and a puppy by the sea ."},
		"2.jpg": {"Two girls play soccer .", "Children kick a ball in a field ."},
	}
	cands := map[string]string{
		"1.jpg": "a woman and a dog are playing with a ball", // ball hallucinated; woman is a person
		"2.jpg": "two children are playing with a ball",      // all supported
	}
	got := ComputeCHAIR(cands, refs)
	// Mentions: person, dog, sports ball; person, sports ball = 5, one hallucinated.
	if got.Mentions != 5 || math.Abs(got.Sentences-0.5) > 1e-9 || math.Abs(got.Instances-0.2) > 1e-9 {
		t.Errorf("ComputeCHAIR = %+v, want 5 mentions, CHAIRs 0.5, CHAIRi 0.2", got)
	}
	if got := ComputeCHAIR(map[string]string{"1.jpg": "a photo"}, refs); got.Sentences != 0 || got.Instances != 0 {
		t.Errorf("a caption naming nothing: %+v, want zeros", got)
	}
}
