package metrics

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenize(t *testing.T) {
	for in, want := range map[string][]string{
		"A dog runs across the grass .":       {"a", "dog", "runs", "across", "the", "grass"},
		"The dog's ball, a T-shirt; \"wow\"!": {"the", "dog", "s", "ball", "a", "t", "shirt", "wow"},
		"one,two.three":                       {"one", "two", "three"},
		"  two\tdogs\n":                       {"two", "dogs"},
		"ÉCOLE café":                          {"école", "café"},
		"... !!!":                             {},
		"3 kids + $5":                         {"3", "kids", "5"},
	} {
		if diff := cmp.Diff(want, Tokenize(in)); diff != "" {
			t.Errorf("Tokenize(%q) (-want +got):\n%s", in, diff)
		}
	}
}
