package prompts

import (
	"strings"
	"testing"
)

func TestWeightedLength(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"café naïve", 10},
		{"Привет", 6},           // Cyrillic weighs 1
		{"日本語", 6},              // CJK weighs 2
		{"한국어", 6},              // Hangul weighs 2
		{"ひらがな", 8},             // kana weighs 2
		{"dog 🐶", 6},            // emoji weighs 2
		{"👍🏽", 2},               // skin tone modifier: one emoji
		{"👨‍👩‍👧‍👦", 2},          // ZWJ family: one emoji
		{"🇯🇵🇫🇷", 4},             // two flags
		{"❤️", 2},               // text symbol + VS16
		{"1️⃣", 2},              // keycap
		{"wait…", 6},            // U+2026 is outside the light ranges
		{"“quoted” – dash", 15}, // U+201C/D and U+2013 weigh 1
		{"see https://example.com/a/very/long/path?q=1 now", 4 + 23 + 4},
		{"www.example.org.", 23 + 1}, // trailing full stop is not the URL's
		{"a https://x.io b https://y.io", 2 + 23 + 3 + 23},
	} {
		if got := WeightedLength(tc.in); got != tc.want {
			t.Errorf("WeightedLength(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNetworkLength(t *testing.T) {
	x, _ := Lookup("x")
	ig, _ := Lookup("instagram")
	s := strings.Repeat("猫", 140)
	if got := x.Length(s); got != 280 {
		t.Errorf("x.Length(140 CJK) = %d, want 280", got)
	}
	if got := ig.Length(s); got != 140 {
		t.Errorf("instagram.Length(140 CJK) = %d, want 140", got)
	}
}

func FuzzWeightedLength(f *testing.F) {
	for _, s := range []string{"hello", "日本語 🐶", "👨‍👩‍👧‍👦", "http://a.b", "\xff\xfe", "🇯"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := WeightedLength(s)
		runes := len([]rune(s))
		if n < 0 || n > 2*runes+urlWeight*len(urlPattern.FindAllStringIndex(s, -1)) {
			t.Fatalf("WeightedLength(%q) = %d for %d runes", s, n, runes)
		}
	})
}

func BenchmarkWeightedLength(b *testing.B) {
	s := strings.Repeat("A dog runs 🐶 through the grass 草 https://example.com ", 5)
	for b.Loop() {
		WeightedLength(s)
	}
}

func TestStripEmoji(t *testing.T) {
	for in, want := range map[string]string{
		"Great day 🎉 at the beach 🏖️!": "Great day at the beach!",
		"Team 👨‍👩‍👧‍👦\nFlags 🇯🇵":       "Team\nFlags",
		"No emoji here, café 日本":       "No emoji here, café 日本",
	} {
		if got := StripEmoji(in); got != want {
			t.Errorf("StripEmoji(%q) = %q, want %q", in, got, want)
		}
	}
}
