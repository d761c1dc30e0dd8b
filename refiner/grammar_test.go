package refiner

import "testing"

func TestFixCaption(t *testing.T) {
	for in, want := range map[string]string{
		"a dog runs through the grass":          "A dog runs through the grass.",
		"a apple on a table":                    "An apple on a table.",
		"an dog with a orange ball":             "A dog with an orange ball.",
		"a man holds a umbrella":                "A man holds an umbrella.",
		"a unicorn toy next to a hour glass":    "A unicorn toy next to an hour glass.",
		"a european city street":                "A european city street.",
		"a a dog <unk> jumps jumps":             "A dog jumps.",
		"  two   children play in the snow  ":   "Two children play in the snow.",
		"is this a cat ?":                       "Is this a cat.",
		"i see a one way sign":                  "I see a one way sign.",
		"A Dog Runs.":                           "A dog runs.",
		"a dog a dog is <unk> on the the grass": "A dog is on the grass.",
		"a man on a bike on a bike path":        "A man on a bike path.",
		"a cat laying on a bed":                 "A cat lying on a bed.",
		"two dogs laying down in the sun":       "Two dogs lying down in the sun.",
		"a hen laying eggs":                     "A hen laying eggs.",
		"a dog is laying":                       "A dog is lying.",
		"<start> <end>":                         "",
		"":                                      "",
	} {
		if got := FixCaption(in); got != want {
			t.Errorf("FixCaption(%q) = %q, want %q", in, got, want)
		}
	}
}
