package bot_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

func TestPostActionsOfferEveryNetworkToneAndRegenerate(t *testing.T) {
	s := bot.Settings{Network: "instagram", Tone: "witty", Language: "de"}
	got := bot.PostActions("1234567890123456789", s, 2)
	if len(got) != len(bot.Networks)+1 { // Regenerate, tone, every other network
		t.Fatalf("%d actions, want %d", len(got), len(bot.Networks)+1)
	}
	want := []bot.PostAction{
		{Kind: bot.ActionRegenerate, Photo: "1234567890123456789", Network: "instagram", Tone: "witty", Language: "de", Variant: 3},
		{Kind: bot.ActionTone, Photo: "1234567890123456789", Network: "instagram", Tone: bot.NextTone("witty"), Language: "de"},
	}
	if diff := cmp.Diff(want, got[:2]); diff != "" {
		t.Errorf("first actions (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, a := range got[2:] {
		if a.Kind != bot.ActionNetwork || a.Network == "instagram" || a.Variant != 0 || a.Tone != "witty" || a.Language != "de" {
			t.Errorf("network action %+v", a)
		}
		seen[a.Network] = true
	}
	if len(seen) != len(bot.Networks)-1 {
		t.Errorf("networks offered %v", seen)
	}
	if bot.PostActions("bad|photo", s, 0) != nil || bot.PostActions(strings.Repeat("1", bot.MaxPhotoRef+1), s, 0) != nil {
		t.Error("actions for a photo reference that cannot be encoded")
	}
	if a := bot.PostActions("", s, bot.MaxVariant); a[0].Variant != 1 {
		t.Errorf("Regenerate after MaxVariant asks for %d, want 1", a[0].Variant)
	}
}

// TestPostActionDataFits: the longest action of every kind fits Telegram's
// 64-byte callback_data and round-trips.
func TestPostActionDataFits(t *testing.T) {
	photo := strings.Repeat("9", bot.MaxPhotoRef)
	for _, n := range bot.Networks {
		for _, tone := range append([]string{""}, bot.Tones...) {
			for _, v := range []int{0, bot.MaxVariant - 1, bot.MaxVariant} {
				for _, a := range bot.PostActions(photo, bot.Settings{Network: n, Tone: tone, Language: "pt"}, v) {
					d := a.Data()
					if len(d) > bot.MaxActionData {
						t.Errorf("%q is %d bytes", d, len(d))
					}
					if !bot.IsActionData(d) {
						t.Errorf("IsActionData(%q) = false", d)
					}
					back, ok := bot.ParsePostAction(d)
					if !ok || back != a {
						t.Errorf("ParsePostAction(%q) = %+v %v, want %+v", d, back, ok, a)
					}
				}
			}
		}
	}
}

func TestParsePostActionRejectsForgeries(t *testing.T) {
	for _, d := range []string{
		"", "p", "p|r|1|instagram||en", "x|r|1|instagram||en|0", "p|z|1|instagram||en|0", "p|rr|1|instagram||en|0",
		"p|r|a|b|instagram||en|0", "p|r|1|myspace||en|0", "p|r|1|Instagram||en|0", "p|r|1|twitter||en|0",
		"p|r|1|instagram|angry|en|0", "p|r|1|instagram||english|0", "p|r|1|instagram||EN|0",
		"p|r|1|instagram||en|-1", "p|r|1|instagram||en|1001", "p|r|1|instagram||en|x", "p|r|1|instagram||en|01",
		"p|r|1|instagram||en|0|extra", "p|r|" + strings.Repeat("1", bot.MaxPhotoRef+1) + "|x|||0", "p|r|é|x|||0", "s|network|x",
	} {
		if a, ok := bot.ParsePostAction(d); ok {
			t.Errorf("ParsePostAction(%q) = %+v, want rejected", d, a)
		}
	}
}

func FuzzParsePostAction(f *testing.F) {
	for _, a := range bot.PostActions("123", bot.Settings{Network: "x", Tone: "fun", Language: "en"}, 4) {
		f.Add(a.Data())
	}
	f.Add("p|n|||||0")
	f.Fuzz(func(t *testing.T, d string) {
		a, ok := bot.ParsePostAction(d)
		if !ok {
			return
		}
		if a.Data() != d || len(d) > bot.MaxActionData {
			t.Fatalf("accepted %q as %+v (re-encoded %q)", d, a, a.Data())
		}
		if _, err := bot.ParseNetwork(a.Network); err != nil || a.Variant < 0 || a.Variant > bot.MaxVariant {
			t.Fatalf("accepted %q as %+v", d, a)
		}
	})
}

func TestPostActionLabels(t *testing.T) {
	for _, tc := range []struct {
		a            bot.PostAction
		label, emoji string
	}{
		{bot.PostAction{Kind: bot.ActionRegenerate, Network: "x"}, "Regenerate", "🔄"},
		{bot.PostAction{Kind: bot.ActionTone, Network: "x", Tone: "witty"}, "Tone: witty", "🎭"},
		{bot.PostAction{Kind: bot.ActionNetwork, Network: "linkedin"}, "LinkedIn", ""},
	} {
		if tc.a.Label() != tc.label || tc.a.Emoji() != tc.emoji {
			t.Errorf("%+v: %q %q, want %q %q", tc.a, tc.a.Label(), tc.a.Emoji(), tc.label, tc.emoji)
		}
	}
	if got := bot.NextTone(""); got != bot.Tones[0] {
		t.Errorf("NextTone(\"\") = %q", got)
	}
	if got := bot.NextTone(bot.Tones[len(bot.Tones)-1]); got != bot.Tones[0] {
		t.Errorf("NextTone(last) = %q", got)
	}
	if s := (bot.PostAction{Network: "x", Tone: "fun", Language: "de"}).Settings(); s != (bot.Settings{Network: "x", Tone: "fun", Language: "de"}) {
		t.Errorf("Settings() = %+v", s)
	}
}
