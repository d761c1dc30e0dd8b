package refiner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

func TestGroundedHashtagsNameOnlyWhatThePostSupports(t *testing.T) {
	tests := []struct {
		name string
		d    bot.Description
		want []string // hashtags that must be there
		not  []string // hashtags that must not
	}{
		{
			name: "detected subjects and their breed",
			d: bot.Description{Caption: "a giraffe and a zebra", RawCaption: "a dog runs through the grass",
				Labels: []bot.Label{{Label: "zebra", Score: 0.42}, {Label: "cheetah", Score: 0.09}},
				Subjects: []bot.Subject{{Name: "giraffe", Kind: "animal", Score: 0.82, Source: "detector"},
					{Name: "zebra", Kind: "animal", Score: 0.68, Source: "detector"}}},
			want: []string{"#giraffe", "#zebra"},
			not:  []string{"#cheetah", "#dog", "#grass"},
		},
		{
			name: "a hedge states nothing",
			d: bot.Description{Caption: "a photo of what may be a teapot", RawCaption: "a small child is playing",
				Labels:   []bot.Label{{Label: "teapot", Score: 0.45}},
				Subjects: []bot.Subject{{Name: "teapot", Kind: "object", Score: 0.45, Source: "label"}}},
			not: []string{"#teapot", "#may", "#photo", "#child"},
		},
		{
			name: "a weak label subject is not tagged",
			d: bot.Description{Caption: "a person in a red shirt", RawCaption: "a man in a red shirt",
				Labels: []bot.Label{{Label: "seashore", Score: 0.35}},
				Subjects: []bot.Subject{{Name: "person", Kind: "person", Score: 0.9, Source: "detector"},
					{Name: "beach", Kind: "scene", Score: 0.35, Source: "label"}}},
			want: []string{"#person", "#shirt"},
			not:  []string{"#beach", "#seashore", "#man"},
		},
		{
			name: "a subject of two words is one tag, not two",
			d: bot.Description{Caption: "two big cats on a rock", RawCaption: "two dogs on a rock",
				Labels:   []bot.Label{{Label: "jaguar", Score: 0.7}, {Label: "leopard", Score: 0.2}},
				Subjects: []bot.Subject{{Name: "big cat", Kind: "animal", Score: 0.9, Source: "label"}}},
			want: []string{"#bigcat", "#jaguar"},
			not:  []string{"#cat", "#cats", "#big", "#dog"},
		},
	}
	var o Offline
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := o.Refine(context.Background(), bot.RefineRequest{Description: tt.d, Network: "instagram", Hashtags: 30})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tt.want {
				if !slices.Contains(p.Hashtags, h) {
					t.Errorf("hashtags %v lack %s", p.Hashtags, h)
				}
			}
			for _, h := range tt.not {
				if slices.Contains(p.Hashtags, h) {
					t.Errorf("hashtags %v have %s", p.Hashtags, h)
				}
			}
		})
	}
}

// The framing line fits what the photo shows, and Regenerate changes it.
func TestFramingLineFitsTheKind(t *testing.T) {
	var o Offline
	post := func(d bot.Description, variant int) string {
		p, err := o.Refine(context.Background(), bot.RefineRequest{Description: d, Network: "x", Hashtags: 0, Variant: variant})
		if err != nil {
			t.Fatal(err)
		}
		return p.Body
	}
	subject := func(name, kind string) bot.Description {
		return bot.Description{Caption: "a " + name, RawCaption: "a dog", Subjects: []bot.Subject{{Name: name, Kind: kind, Score: 0.9, Source: "detector"}}}
	}
	kinds := map[string]bot.Description{
		"people": subject("person", "person"), "pet": subject("cat", "pet"), "food": subject("pizza", "food"),
		"animal": subject("giraffe", "animal"), "vehicle": subject("car", "vehicle"), "city": subject("bus", "vehicle"),
		"landscape": {Caption: "a view of the mountains", RawCaption: "a man", Subjects: []bot.Subject{{Name: "mountain", Kind: "scene", Score: 0.7, Source: "label"}}},
		"object":    subject("laptop", "object"),
		"photo":     {Caption: "a photo", RawCaption: "a dog", Subjects: []bot.Subject{}},
	}
	seen := map[string]string{}
	for kind, d := range kinds {
		first := post(d, 0)
		line := framings.line(kind, 0)
		if !strings.Contains(first, line) {
			t.Errorf("%s: post %q lacks its kind's line %q", kind, first, line)
		}
		if other, ok := seen[line]; ok {
			t.Errorf("%s and %s share the line %q", kind, other, line)
		}
		seen[line] = kind
		if again := post(d, 4); again == first {
			t.Errorf("%s: Regenerate (variant 4) gave the same post %q", kind, first)
		}
	}
}
