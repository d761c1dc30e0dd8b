package refiner

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

func network(t *testing.T, name string) prompts.Network {
	t.Helper()
	n, err := prompts.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnforceFortyHashtags(t *testing.T) {
	var tags []string
	for i := range 40 {
		tags = append(tags, fmt.Sprintf("#tag%d", i))
	}
	tags = append([]string{"#Dog", "dog", "#DOG"}, tags...)
	ig := network(t, "instagram")
	p := Enforce(ig, bot.Post{Body: "A dog.", Hashtags: tags, AltText: "A dog.", WrittenBy: "openai"}, ig.HashtagCount(-1))
	want := []string{"#Dog", "#tag0", "#tag1", "#tag2", "#tag3"}
	if diff := cmp.Diff(want, p.Hashtags); diff != "" {
		t.Errorf("hashtags (-want +got):\n%s", diff)
	}
	if p.Text != "A dog.\n\n#Dog #tag0 #tag1 #tag2 #tag3" {
		t.Errorf("text = %q", p.Text)
	}
	if p.WrittenBy != "openai" || p.Network != "instagram" {
		t.Errorf("refiner/network = %q/%q", p.WrittenBy, p.Network)
	}
}

func TestEnforceLongCaption(t *testing.T) {
	long := strings.Repeat("The dog runs happily through the tall green grass. ", 100) // 5,100 characters
	for _, n := range prompts.Networks() {
		t.Run(n.Name, func(t *testing.T) {
			count := n.HashtagCount(-1)
			p := Enforce(n, bot.Post{Body: long, Hashtags: []string{"#dog", "#grass", "#run", "#summer", "#pets"}, AltText: long, WrittenBy: "openai"}, count)
			checkPost(t, n.Name, n, p, count)
			if n.MaxLength < len(long) {
				if !strings.HasSuffix(p.Body, Ellipsis) {
					t.Errorf("cut caption does not end in …: %q", p.Body[max(0, len(p.Body)-20):])
				}
				if trimmed := strings.TrimSuffix(p.Body, Ellipsis); !strings.HasPrefix(long, trimmed) || !strings.HasSuffix(trimmed, "grass.") && !strings.HasSuffix(trimmed, "runs") && !strings.Contains(" "+long, trimmed+" ") {
					t.Errorf("not cut at a word boundary: …%q", trimmed[max(0, len(trimmed)-20):])
				}
				if n.Length(p.Text) < n.MaxLength-40 {
					t.Errorf("cut too short: %d of %d", n.Length(p.Text), n.MaxLength)
				}
			}
			if len(p.Hashtags) != count {
				t.Errorf("%d hashtags, want %d", len(p.Hashtags), count)
			}
			if utf8.RuneCountInString(p.AltText) > n.MaxAltText {
				t.Errorf("alt text not cut")
			}
		})
	}
}

func TestEnforceXWeighted(t *testing.T) {
	x := network(t, "x")
	for name, caption := range map[string]string{
		"cjk":   strings.Repeat("猫がソファで寝ている。", 30),
		"emoji": strings.Repeat("Sunny day 🌞 with the family 👨‍👩‍👧‍👦 ", 20),
		"mixed": strings.Repeat("Tokyo 東京 trip ✈️ ", 40),
	} {
		t.Run(name, func(t *testing.T) {
			p := Enforce(x, bot.Post{Body: caption, Hashtags: []string{"#travel", "#東京"}, AltText: "x", WrittenBy: "openai"}, 2)
			if l := prompts.WeightedLength(p.Text); l > 280 {
				t.Errorf("weighted length %d > 280: %q", l, p.Text)
			}
			if l := prompts.WeightedLength(p.Text); l < 250 {
				t.Errorf("cut too much: weighted length %d", l)
			}
			if !strings.HasSuffix(p.Text, " #travel #東京") {
				t.Errorf("hashtags not inline at the end: %q", p.Text)
			}
			if strings.Contains(p.Body, "\u200D"+Ellipsis) || strings.HasSuffix(strings.TrimSuffix(p.Body, Ellipsis), "\u200D") {
				t.Errorf("cut inside an emoji sequence: %q", p.Body)
			}
		})
	}
	// 140 CJK characters fill X exactly; no hashtags leaves them whole.
	full := strings.Repeat("猫", 140)
	if p := Enforce(x, bot.Post{Body: full}, 0); p.Text != full {
		t.Errorf("140 CJK characters were cut: %q", p.Text)
	}
	if p := Enforce(x, bot.Post{Body: full + "猫"}, 0); prompts.WeightedLength(p.Text) > 280 || !strings.HasSuffix(p.Text, Ellipsis) {
		t.Errorf("141 CJK characters: %q (%d)", p.Text, prompts.WeightedLength(p.Text))
	}
}

func TestEnforceCleansDraft(t *testing.T) {
	li := network(t, "linkedin")
	p := Enforce(li, bot.Post{
		Body:      "  Great  team day 🎉\x07\r\n\r\n\r\n\r\nProud of the \u202Ecrew.  #Team #teamwork#Offsite ",
		Hashtags:  []string{"#Leadership", "#team"},
		AltText:   "People at a table 🎉 #team",
		WrittenBy: "openai",
	}, 3)
	want := bot.Post{
		Text:      "Great team day\n\nProud of the crew.\n\n#Leadership #team #teamwork",
		Body:      "Great team day\n\nProud of the crew.",
		Hashtags:  []string{"#Leadership", "#team", "#teamwork"},
		AltText:   "People at a table team",
		Network:   "linkedin",
		WrittenBy: "openai",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEnforceCountsInlineHashtags: hashtags inside the caption count towards
// the limit, so an Instagram post never has more than 5 in all.
func TestEnforceCountsInlineHashtags(t *testing.T) {
	ig := network(t, "instagram")
	for _, tc := range []struct {
		caption  string
		tags     []string
		wantText string
		wantList []string
		hashtags int
	}{
		{
			caption:  "Sunday #walk with the #dog at the #beach, then #coffee in #town and #sunset views.",
			tags:     []string{"#dog", "#pets", "#weekend"},
			wantText: "Sunday #walk with the #dog at the #beach, then #coffee in #town and sunset views.",
			wantList: []string{},
			hashtags: 5,
		},
		{
			caption:  "A #dog and a #Dog and #dogs and a #cat.",
			tags:     []string{"#dog", "#pets", "#weekend"},
			wantText: "A #dog and a #Dog and #dogs and a #cat.\n\n#pets #weekend",
			wantList: []string{"#pets", "#weekend"},
			hashtags: 4,
		},
		{
			caption:  "We're #1 today",
			tags:     []string{"#team"},
			wantText: "We're #1 today\n\n#team",
			wantList: []string{"#team"},
			hashtags: 5,
		},
		{
			caption:  "We're #1",
			tags:     nil,
			wantText: "We're #1",
			wantList: []string{},
			hashtags: 5,
		},
		{
			caption:  "A walk on the #beach",
			tags:     []string{"#sea"},
			wantText: "A walk on the beach",
			wantList: []string{},
			hashtags: 0,
		},
	} {
		p := Enforce(ig, bot.Post{Body: tc.caption, Hashtags: tc.tags, WrittenBy: "openai"}, tc.hashtags)
		if p.Text != tc.wantText {
			t.Errorf("%q: text = %q, want %q", tc.caption, p.Text, tc.wantText)
		}
		if diff := cmp.Diff(tc.wantList, p.Hashtags); diff != "" {
			t.Errorf("%q: hashtags (-want +got):\n%s", tc.caption, diff)
		}
		distinct := map[string]bool{}
		for _, m := range inlineHashtag.FindAllStringSubmatch(p.Text, -1) {
			if norm, ok := NormalizeHashtag(m[2]); ok {
				distinct[hashtagKey(norm)] = true
			}
		}
		if len(distinct) > tc.hashtags {
			t.Errorf("%q: %d hashtags in %q, limit %d", tc.caption, len(distinct), p.Text, tc.hashtags)
		}
	}
}

func TestEnforcePlainHasNoHashtags(t *testing.T) {
	plain := network(t, "plain")
	p := Enforce(plain, bot.Post{Body: "A cat. #cat", Hashtags: []string{"#cat"}}, 3)
	if p.Text != "A cat." || len(p.Hashtags) != 0 {
		t.Errorf("plain post = %q %v", p.Text, p.Hashtags)
	}
}

func TestCutToFit(t *testing.T) {
	runes := func(s string) int { return utf8.RuneCountInString(s) }
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"one two three four", 12, "one two…"},
		{"one two, three", 10, "one two…"},
		{"Supercalifragilistic", 6, "Super…"},
		{"ab 👨‍👩‍👧 cd", 9, "ab 👨‍👩‍👧…"},
		{"anything", 0, ""},
		{"", 0, ""},
	} {
		if got := cutToFit(tc.in, tc.limit, runes); got != tc.want {
			t.Errorf("cutToFit(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
	// A single emoji sequence is never split.
	if got := cutToFit("👨‍👩‍👧‍👦👨‍👩‍👧‍👦", 5, prompts.WeightedLength); strings.Contains(got, "\u200D"+Ellipsis) {
		t.Errorf("split an emoji: %q", got)
	}
}

func FuzzEnforce(f *testing.F) {
	for _, s := range []string{"A dog.", strings.Repeat("猫 ", 200), "#a #b #c", "👨‍👩‍👧‍👦 " + strings.Repeat("x", 300), "\x00\u202E", "a #b #c #d, #e"} {
		f.Add(s, "#tag")
	}
	x, _ := prompts.Lookup("x")
	f.Fuzz(func(t *testing.T, caption, tag string) {
		p := Enforce(x, bot.Post{Body: caption, Hashtags: []string{tag, tag + "2"}, AltText: caption}, 2)
		if l := x.Length(p.Text); l > x.MaxLength {
			t.Fatalf("length %d > %d for %q", l, x.MaxLength, caption)
		}
		distinct := map[string]bool{}
		for _, m := range inlineHashtag.FindAllStringSubmatch(p.Text, -1) {
			if norm, ok := NormalizeHashtag(m[2]); ok {
				distinct[hashtagKey(norm)] = true
			}
		}
		if len(distinct) > 2 {
			t.Fatalf("%d hashtags in %q for %q", len(distinct), p.Text, caption)
		}
		if !utf8.ValidString(p.Text) && utf8.ValidString(caption) && utf8.ValidString(tag) {
			t.Fatalf("invalid UTF-8 out of valid input")
		}
	})
}
