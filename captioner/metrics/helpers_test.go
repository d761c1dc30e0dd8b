package metrics

import (
	"math"
	"strings"
	"testing"
)

// toks splits a test sentence on spaces.
func toks(s string) []string { return strings.Fields(s) }

// toksAll splits each sentence.
func toksAll(ss ...string) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = toks(s)
	}
	return out
}

// near fails the test when got and want differ by more than 1e-9.
func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 || math.IsNaN(got) {
		t.Errorf("%s = %.12f, want %.12f", name, got, want)
	}
}
