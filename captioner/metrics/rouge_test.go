package metrics

import "testing"

func TestLCS(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"the cat sat on the mat", "the cat is on the mat", 5},
		{"a b c", "c b a", 1},
		{"a b c", "", 0},
		{"a x b y c", "a b c", 3},
	} {
		if got := lcsLen(toks(c.a), toks(c.b)); got != c.want {
			t.Errorf("lcs(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestRougeL(t *testing.T) {
	// LCS("the cat sat on the mat", "the cat is on the mat") = 5: P = R = 5/6,
	// F = (1+1.44)·P·R/(R+1.44·P) = 5/6.
	near(t, "same P and R", rougeL(toks("the cat sat on the mat"), toksAll("the cat is on the mat")), 5.0/6)

	// Max precision and max recall come from different references:
	// ref "a b": LCS 2, P = 2/4, R = 1; ref "a b c x y z w v": LCS 3, P = 3/4,
	// R = 3/8. P = 0.75, R = 1: F = 2.44·0.75/(1+1.44·0.75) = 1.83/2.08.
	near(t, "separate maxima", rougeL(toks("a b c d"), toksAll("a b", "a b c x y z w v")), 1.83/2.08)

	near(t, "no overlap", rougeL(toks("a b"), toksAll("c d")), 0)
	near(t, "empty candidate", rougeL(nil, toksAll("c d")), 0)
}
