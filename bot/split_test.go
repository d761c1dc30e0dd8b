package bot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		limit   int
		measure bot.Measure
		want    []string
	}{
		{"fits", "short post", 20, bot.RuneUnits, []string{"short post"}},
		{"exact", strings.Repeat("a", 10), 10, bot.RuneUnits, []string{strings.Repeat("a", 10)}},
		{"blank", "  ", 20, bot.RuneUnits, nil},
		{"paragraph", "first paragraph here\n\nsecond one", 25, bot.RuneUnits, []string{"first paragraph here", "second one"}},
		{"line", "line one is long\nline two", 20, bot.RuneUnits, []string{"line one is long", "line two"}},
		{"word", "aaaa bbbb cccc dddd", 10, bot.RuneUnits, []string{"aaaa bbbb", "cccc dddd"}},
		{"no break", strings.Repeat("x", 25), 10, bot.RuneUnits, []string{strings.Repeat("x", 10), strings.Repeat("x", 10), strings.Repeat("x", 5)}},
		{"runes not bytes", strings.Repeat("é", 15), 10, bot.RuneUnits, []string{strings.Repeat("é", 10), strings.Repeat("é", 5)}},
		{"break too early is ignored", "a " + strings.Repeat("y", 20), 10, bot.RuneUnits, []string{"a yyyyyyyy", strings.Repeat("y", 10), "yy"}},
		{"emoji are two UTF-16 units", strings.Repeat("😀", 7), 10, bot.UTF16Units, []string{strings.Repeat("😀", 5), "😀😀"}},
		{"emoji are one rune", strings.Repeat("😀", 7), 10, bot.RuneUnits, []string{strings.Repeat("😀", 7)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, bot.SplitText(tc.text, tc.limit, tc.measure)); diff != "" {
				t.Errorf("SplitText (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"", "a b c", "word\n\nword", strings.Repeat("é ", 50), "😀😀😀 a\n\nb"} {
		f.Add(s, 5, true)
	}
	f.Fuzz(func(t *testing.T, text string, limit int, utf16 bool) {
		if limit < 2 || limit > 200 || !utf8.ValidString(text) {
			return
		}
		measure := bot.RuneUnits
		if utf16 {
			measure = bot.UTF16Units
		}
		var words []string
		for _, p := range bot.SplitText(text, limit, measure) {
			if n := bot.Length(p, measure); n > limit || p == "" {
				t.Fatalf("part %q measures %d (limit %d)", p, n, limit)
			}
			words = append(words, p)
		}
		// Nothing but whitespace at the cuts is lost.
		if strings.Join(strings.Fields(strings.Join(words, "")), "") != strings.Join(strings.Fields(text), "") {
			t.Fatalf("parts %q lost text of %q", words, text)
		}
	})
}

func TestTruncate(t *testing.T) {
	if got := bot.Truncate("short", 10, bot.RuneUnits); got != "short" {
		t.Errorf("Truncate(short) = %q", got)
	}
	got := bot.Truncate(strings.Repeat("ü", 2050), 2000, bot.RuneUnits)
	if n := utf8.RuneCountInString(got); n != 2000 || !strings.HasSuffix(got, "…") {
		t.Errorf("Truncate(long) has %d runes", n)
	}
	if got := bot.Truncate(strings.Repeat("😀", 10), 9, bot.UTF16Units); got != "😀😀😀😀…" {
		t.Errorf("Truncate(emoji) = %q", got)
	}
}
