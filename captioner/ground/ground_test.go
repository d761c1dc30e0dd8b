package ground

import (
	"testing"

	"github.com/captionbot/captionbot/bot"
)

func obj(label string, score float64, box ...int) bot.Object {
	o := bot.Object{Label: label, Score: score}
	copy(o.Box[:], box)
	return o
}

func TestGround(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		ev        Evidence
		want      string
		rewritten bool
	}{
		{
			name: "supported sentence kept",
			raw:  "a black and white dog is running through the grass",
			ev:   Evidence{Objects: []bot.Object{obj("dog", 0.8)}, Words: map[string]float64{"grass": 0.5}},
			want: "a black and white dog is running through the grass",
		},
		{
			name: "unsupported place dropped",
			raw:  "a black and white dog is running through the grass",
			ev:   Evidence{Objects: []bot.Object{obj("dog", 0.8)}, Words: map[string]float64{"grass": 0.05}},
			want: "a black and white dog is running",
		},
		{
			name: "an unsupported place goes with the material that modifies it",
			raw:  "a man in a white shirt is standing in front of a brick wall",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.73)}, Words: map[string]float64{"wall": 0.1}, Width: 640, Height: 480},
			want: "a person in a white shirt is standing",
		},
		{
			name: "a place modifier that is itself a place is checked on its own",
			raw:  "a man is walking down a city street",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.8)}, Words: map[string]float64{"street": 0.5, "city": 0.05}, Width: 640, Height: 480},
			want: "a person is walking down a street",
		},
		{
			name: "a supported place that modifies an unsupported one stays",
			raw:  "a boy is climbing a rock wall",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.8)}, Words: map[string]float64{"rock": 0.5, "wall": 0.05}, Width: 640, Height: 480},
			want: "a person is climbing a rock",
		},
		{
			name: "a supported mass place does not stay without its noun",
			raw:  "a group of people are sitting on a dirt path",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.8), obj("person", 0.8), obj("person", 0.8)},
				Words: map[string]float64{"dirt": 0.5, "path": 0.05}, Width: 640, Height: 480},
			want: "a group of people are sitting",
		},
		{
			name: "an unsure box of a class ImageNet lacks is supported when the decoder names it",
			raw:  "a man is riding a surfboard",
			ev: Evidence{Objects: []bot.Object{obj("surfboard", 0.55, 227, 272, 101, 43), obj("person", 0.5, 112, 129, 161, 168)},
				Labels: []bot.Label{{Label: "paddle", Score: 0.73}}, Width: 512, Height: 512},
			want: "a surfboard", rewritten: true,
		},
		{
			name: "an unsure box the decoder does not name is not",
			raw:  "a man is riding a wave",
			ev: Evidence{Objects: []bot.Object{obj("surfboard", 0.55, 227, 272, 101, 43)},
				Labels: []bot.Label{{Label: "paddle", Score: 0.73}}, Width: 512, Height: 512},
			want: "a photo of what may be a paddle", rewritten: true,
		},
		{
			name: "a plural the detector counted once in a full-size photo becomes one",
			raw:  "two black dogs run through the grass",
			ev: Evidence{Objects: []bot.Object{obj("dog", 0.67, 70, 266, 129, 82)}, Words: map[string]float64{"grass": 0.5},
				Width: 640, Height: 424},
			want: "a black dog runs through the grass",
		},
		{
			name: "a plural with a second, unsure box of its class stays",
			raw:  "two dogs are running in a field",
			ev: Evidence{Objects: []bot.Object{obj("dog", 0.67, 70, 266, 129, 82), obj("dog", 0.45, 300, 200, 100, 80)},
				Words: map[string]float64{"field": 0.5}, Width: 640, Height: 424},
			want: "two dogs are running in a field",
		},
		{
			name: "a plural in a thumbnail stays",
			raw:  "a group of dogs are playing",
			ev:   Evidence{Objects: []bot.Object{obj("dog", 0.67, 70, 100, 60, 50)}, Width: 224, Height: 200},
			want: "a group of dogs are playing",
		},
		{
			name:      "giraffe called a dog",
			raw:       "a black and white dog is running through the grass",
			ev:        Evidence{Objects: []bot.Object{obj("giraffe", 0.82), obj("zebra", 0.6)}},
			want:      "a giraffe and a zebra",
			rewritten: true,
		},
		{
			name: "unsupported ball dropped with its verb phrase",
			raw:  "a brown dog is playing with a red ball",
			ev:   Evidence{Objects: []bot.Object{obj("dog", 0.7)}},
			want: "a brown dog is playing",
		},
		{
			name: "stick and what hangs on it",
			raw:  "a dog is carrying a stick in its mouth",
			ev:   Evidence{Objects: []bot.Object{obj("dog", 0.7)}, Words: map[string]float64{"stick": 0.01}},
			want: "a dog",
		},
		{
			name: "partner dropped, verb agrees, gender neutral in a full-size photo",
			raw:  "a man and a dog are sitting on a bench",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.9), obj("bench", 0.65)}, Width: 640, Height: 480},
			want: "a person is sitting on a bench",
		},
		{
			name: "gender dropped outside thumbnails",
			raw:  "a man in a blue shirt is standing in front of a building",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.7)}, Words: map[string]float64{"building": 0.3, "man": 0.1}},
			want: "a person in a blue shirt is standing in front of a building",
		},
		{
			name: "front of unsupported building",
			raw:  "a man is standing in front of a building",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.9)}},
			want: "a person is standing",
		},
		{
			name: "counts from the detector",
			raw:  "two dogs are playing in the snow",
			ev: Evidence{Objects: []bot.Object{obj("dog", 0.9), obj("dog", 0.8), obj("dog", 0.7)},
				Words: map[string]float64{"snow": 0.6}},
			want: "three dogs are playing in the snow",
		},
		{
			name:      "hot dog is food, not a dog",
			raw:       "a man in a blue shirt is standing on a red and white horse",
			ev:        Evidence{Objects: []bot.Object{obj("hot dog", 0.7)}, Labels: []bot.Label{{Label: "hotdog", Score: 0.6}, {Label: "plate", Score: 0.35}}},
			want:      "a plate with a hot dog",
			rewritten: true,
		},
		{
			name:      "nothing confident: hedge",
			raw:       "a small child is playing with a red ball",
			ev:        Evidence{Labels: []bot.Label{{Label: "teapot", Score: 0.45}, {Label: "cup", Score: 0.1}}},
			want:      "a photo of what may be a teapot",
			rewritten: true,
		},
		{
			name:      "nothing at all",
			raw:       "a dog runs",
			ev:        Evidence{Labels: []bot.Label{{Label: "teapot", Score: 0.05}}},
			want:      "a photo",
			rewritten: true,
		},
		{
			name:      "cat label, no detection",
			raw:       "a small child is playing with a red ball",
			ev:        Evidence{Labels: []bot.Label{{Label: "tabby", Score: 0.5}, {Label: "tiger cat", Score: 0.2}}},
			want:      "a cat",
			rewritten: true,
		},
		{
			name:      "many people",
			raw:       "a dog is running",
			ev:        Evidence{Objects: []bot.Object{obj("person", 0.9), obj("person", 0.8), obj("person", 0.7), obj("person", 0.6), obj("person", 0.5)}},
			want:      "a group of people",
			rewritten: true,
		},
		{
			name:      "landscape",
			raw:       "a man is climbing a rock",
			ev:        Evidence{Labels: []bot.Label{{Label: "alp", Score: 0.6}}},
			want:      "a view of the mountains",
			rewritten: true,
		},
		{
			name:      "open country, no one place sure: a hedged landscape",
			raw:       "a person in a red shirt is standing in front of a large tree",
			ev:        Evidence{Labels: []bot.Label{{Label: "alp", Score: 0.35}, {Label: "lakeside", Score: 0.19}}},
			want:      "a photo of what may be a landscape",
			rewritten: true,
		},
		{
			name:      "open country too weak",
			raw:       "a person is standing",
			ev:        Evidence{Labels: []bot.Label{{Label: "alp", Score: 0.25}, {Label: "lakeside", Score: 0.15}}},
			want:      "a photo",
			rewritten: true,
		},
		{
			name:      "a pier and a bridge label: a bridge",
			raw:       "a group of people are standing in front of a large building",
			ev:        Evidence{Labels: []bot.Label{{Label: "pier", Score: 0.64}, {Label: "suspension bridge", Score: 0.31}}},
			want:      "a bridge over the water",
			rewritten: true,
		},
		{
			name:      "a pier alone stays a pier",
			raw:       "a group of people are standing in front of a large building",
			ev:        Evidence{Labels: []bot.Label{{Label: "pier", Score: 0.64}, {Label: "suspension bridge", Score: 0.1}}},
			want:      "a pier by the water",
			rewritten: true,
		},
		{
			name:      "the word detectors are sure of grass and nothing else was seen",
			raw:       "a little girl in a red shirt is running through a field",
			ev:        Evidence{Words: map[string]float64{"grass": 0.66, "field": 0.2}, Width: 640, Height: 400},
			want:      "a photo of what may be grass",
			rewritten: true,
		},
		{
			name:      "a building ImageNet calls a prison is a building",
			raw:       "a man and a dog are playing in a park",
			ev:        Evidence{Labels: []bot.Label{{Label: "prison", Score: 0.64}, {Label: "worm fence", Score: 0.12}}},
			want:      "a building",
			rewritten: true,
		},
		{
			name: "a kept sentence with a place gets no scene phrase",
			raw:  "a man is sitting on a bench",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.9), obj("bench", 0.7)},
				Labels: []bot.Label{{Label: "steel arch bridge", Score: 0.8}}, Width: 640, Height: 480},
			want: "a person is sitting on a bench",
		},
		{
			name: "a church label places a kept sentence in front of a building",
			raw:  "a group of children playing soccer",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.9), obj("person", 0.8), obj("person", 0.7), obj("person", 0.6)},
				Labels: []bot.Label{{Label: "church", Score: 0.6}}, Width: 640, Height: 480},
			want: "a group of people playing soccer in front of a building",
		},
		{
			name: "a scene label under StateScore places nothing",
			raw:  "two people sit",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.9), obj("person", 0.8)},
				Labels: []bot.Label{{Label: "suspension bridge", Score: 0.45}}, Width: 640, Height: 480},
			want: "two people sit",
		},
		{
			name: "an animal summed from weak labels, another animal detected: the kind is in doubt",
			raw:  "a little boy in a blue shirt is playing with a red ball",
			ev: Evidence{Objects: []bot.Object{obj("bird", 0.51, 96, 6, 408, 632)},
				Labels: []bot.Label{{Label: "titi", Score: 0.26}, {Label: "howler monkey", Score: 0.15},
					{Label: "African chameleon", Score: 0.12}, {Label: "indri", Score: 0.1}, {Label: "marmoset", Score: 0.06}},
				Width: 640, Height: 640},
			want: "an animal", rewritten: true,
		},
		{
			name: "one sure label keeps the animal's kind despite the detector",
			raw:  "a little boy in a blue shirt is playing with a red ball",
			ev: Evidence{Objects: []bot.Object{obj("bird", 0.51, 96, 6, 408, 632)},
				Labels: []bot.Label{{Label: "howler monkey", Score: 0.6}, {Label: "titi", Score: 0.15}},
				Width:  640, Height: 640},
			want: "a monkey", rewritten: true,
		},
		{
			name: "an animal only the labels name, under 0.7, is an animal where an animal box agrees",
			raw:  "a little boy in a blue shirt is playing with a red ball",
			ev: Evidence{Objects: []bot.Object{obj("bird", 0.51, 96, 6, 408, 632)},
				Labels: []bot.Label{{Label: "howler monkey", Score: 0.45}, {Label: "titi", Score: 0.15}},
				Width:  640, Height: 640},
			want: "an animal", rewritten: true,
		},
		{
			name: "an animal only the labels name, under 0.7, is an animal where the labels' animals add up to 0.7",
			raw:  "a black dog is running through the grass",
			ev: Evidence{Labels: []bot.Label{{Label: "warthog", Score: 0.6}, {Label: "triceratops", Score: 0.05},
				{Label: "hippopotamus", Score: 0.06}, {Label: "African elephant", Score: 0.05}}, Width: 640, Height: 480},
			want: "an animal", rewritten: true,
		},
		{
			name: "an animal only the labels name, under 0.7, with nothing else for an animal, is not named",
			raw:  "a black dog is running through the grass",
			ev:   Evidence{Labels: []bot.Label{{Label: "warthog", Score: 0.6}, {Label: "pinwheel", Score: 0.1}}, Width: 640, Height: 480},
			want: "a photo", rewritten: true,
		},
		{
			name: "an animal the labels give 0.7 is named",
			raw:  "a black dog is running through the grass",
			ev:   Evidence{Labels: []bot.Label{{Label: "warthog", Score: 0.72}, {Label: "pinwheel", Score: 0.1}}, Width: 640, Height: 480},
			want: "a pig", rewritten: true,
		},
		{
			name: "a large truck box the labels call a car is a car",
			raw:  "a person in a red shirt is riding a red motorcycle",
			ev: Evidence{Objects: []bot.Object{obj("truck", 0.75, 4, 47, 300, 161), obj("car", 0.43, 253, 79, 67, 61)},
				Labels: []bot.Label{{Label: "sports car", Score: 0.75}, {Label: "racer", Score: 0.12}, {Label: "convertible", Score: 0.08}},
				Width:  320, Height: 240},
			want: "a car", rewritten: true,
		},
		{
			name: "a sure truck box stays a truck",
			raw:  "a person in a red shirt is riding a red motorcycle",
			ev: Evidence{Objects: []bot.Object{obj("truck", 0.85, 4, 47, 300, 161)},
				Labels: []bot.Label{{Label: "sports car", Score: 0.75}}, Width: 320, Height: 240},
			want: "a truck and a car", rewritten: true,
		},
		{
			name:      "a place word from SceneryScore is hedged when nothing else was seen",
			raw:       "a man in a blue shirt is standing",
			ev:        Evidence{Words: map[string]float64{"street": 0.3, "flower": 0.1}, Width: 640, Height: 480},
			want:      "a photo of what may be a street",
			rewritten: true,
		},
		{
			name: "a written sentence led by an object places the people with it",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("kite", 0.9, 200, 40, 120, 100),
				obj("person", 0.8, 100, 300, 40, 90), obj("person", 0.7, 400, 310, 40, 90)},
				Words: map[string]float64{"beach": 0.9}, Width: 640, Height: 480},
			want:      "a kite and two people on the beach",
			rewritten: true,
		},
		{
			name: "a written sentence of objects alone gets no place",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("kite", 0.9, 200, 40, 120, 100)},
				Words: map[string]float64{"beach": 0.9}, Width: 640, Height: 480},
			want:      "a kite",
			rewritten: true,
		},
		{
			name:      "a place word under SceneryScore is not",
			raw:       "a man in a blue shirt is standing",
			ev:        Evidence{Words: map[string]float64{"street": 0.2}, Width: 640, Height: 480},
			want:      "a photo",
			rewritten: true,
		},
		{
			name:      "cat on a couch",
			raw:       "a small child is playing",
			ev:        Evidence{Objects: []bot.Object{obj("cat", 0.8, 10, 10, 50, 40), obj("couch", 0.6, 0, 0, 100, 80)}},
			want:      "a cat on a couch",
			rewritten: true,
		},
	}
	thumb := func(ev Evidence) Evidence { ev.Width, ev.Height = 224, 224; return ev }
	tests = append(tests, []struct {
		name      string
		raw       string
		ev        Evidence
		want      string
		rewritten bool
	}{
		{
			name: "thumbnail: the class concept supports an undetected person, gender kept",
			raw:  "a man and a woman are sitting on a bench",
			ev:   thumb(Evidence{Words: map[string]float64{"=person": 0.9, "=bench": 0.1}}),
			want: "a man and a woman are sitting",
		},
		{
			name: "full size: the concept alone is not enough",
			raw:  "a man and a woman are sitting on a bench",
			ev:   Evidence{Words: map[string]float64{"=person": 0.9}, Width: 640, Height: 480},
			want: "a photo", rewritten: true,
		},
		{
			name: "thumbnail: a sure animal nobody named contradicts the concept",
			raw:  "a man is standing on a rock",
			ev: thumb(Evidence{Objects: []bot.Object{obj("bird", 0.8)}, Labels: []bot.Label{{Label: "bald eagle", Score: 0.7}},
				Words: map[string]float64{"=person": 0.6}}),
			want: "a bird", rewritten: true,
		},
		{
			name: "thumbnail: a sure appliance contradicts the concept",
			raw:  "a group of people are sitting on a bench in front of a building",
			ev: thumb(Evidence{Objects: []bot.Object{obj("oven", 0.54)}, Labels: []bot.Label{{Label: "microwave", Score: 0.9}},
				Words: map[string]float64{"=person": 0.27}}),
			want: "a microwave", rewritten: true,
		},
		{
			name: "thumbnail: a sure bridge places a kept sentence that says nowhere",
			raw:  "a group of people sit on a bench in front of a building",
			ev: thumb(Evidence{Objects: []bot.Object{obj("person", 0.63), obj("person", 0.62), obj("person", 0.61)},
				Labels: []bot.Label{{Label: "steel arch bridge", Score: 0.42}, {Label: "suspension bridge", Score: 0.3}}}),
			want: "a group of people sit on a bridge",
		},
		{
			name: "thumbnail: place words need only a little support",
			raw:  "a dog runs through the grass",
			ev:   thumb(Evidence{Words: map[string]float64{"=dog": 0.9, "grass": 0.05}}),
			want: "a dog runs through the grass",
		},
		{
			name: "a person in fur: the labels and the detector's own cat beat it",
			raw:  "a little boy is playing with a toy",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.58, 0, 0, 440, 300), obj("cat", 0.45, 0, 0, 445, 298)},
				Labels: []bot.Label{{Label: "Egyptian cat", Score: 0.86}, {Label: "tabby", Score: 0.06}}, Width: 450, Height: 300},
			want: "a cat", rewritten: true,
		},
		{
			name: "a prominent detection the sentence leaves out is named",
			raw:  "a black and white dog is playing with a red ball",
			ev: Evidence{Objects: []bot.Object{obj("bicycle", 0.7, 100, 120, 460, 300), obj("dog", 0.47, 130, 220, 230, 320)},
				Labels: []bot.Label{{Label: "German shepherd", Score: 0.26}, {Label: "malamute", Score: 0.13}}, Width: 768, Height: 576},
			want: "a black and white dog is playing near a bicycle",
		},
		{
			name:      "a place the word detectors are sure of, hedged",
			raw:       "a man is standing on a rock",
			ev:        Evidence{Words: map[string]float64{"ocean": 0.55, "water": 0.5, "=person": 0.9}, Width: 640, Height: 480},
			want:      "a photo of what may be the ocean",
			rewritten: true,
		},
		{
			name: "a second person needs a second detection",
			raw:  "a man and a woman pose for a picture",
			ev:   Evidence{Objects: []bot.Object{obj("person", 0.9)}, Width: 640, Height: 480},
			want: "a person poses for a picture",
		},
		// An animal the detector has no class for gets the nearest it has.
		{
			name: "a herd of bison the detector calls cows, the labels sure of bison",
			raw:  "a brown and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("cow", 0.64, 123, 58, 399, 306), obj("cow", 0.57, 568, 172, 72, 133),
				obj("cow", 0.5, 71, 66, 41, 28), obj("sheep", 0.46, 320, 24, 27, 16)},
				Labels: []bot.Label{{Label: "bison", Score: 0.99}, {Label: "ox", Score: 0.01}}, Width: 640, Height: 480},
			want: "three bison", rewritten: true,
		},
		{
			name: "an unsure cow on a horse's box, in a photo of sure horses, is a horse",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("horse", 0.63, 3, 162, 260, 179), obj("cow", 0.55, 357, 177, 133, 112),
				obj("horse", 0.52, 0, 156, 130, 87), obj("horse", 0.35, 357, 177, 133, 112)},
				Labels: []bot.Label{{Label: "ox", Score: 0.13}, {Label: "plow", Score: 0.14}}, Width: 512, Height: 384},
			want: "three horses", rewritten: true,
		},
		{
			name: "an unsure cow on a horse's box stays a cow with no sure horse elsewhere",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("cow", 0.55, 357, 177, 133, 112), obj("horse", 0.35, 357, 177, 133, 112)},
				Labels: []bot.Label{{Label: "ox", Score: 0.25}, {Label: "plow", Score: 0.14}}, Width: 512, Height: 384},
			want: "a cow", rewritten: true,
		},
		{
			name: "an unsure zebra on a giraffe's box stays a zebra where the labels support it",
			raw:  "a brown and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("giraffe", 0.79, 159, 39, 291, 406), obj("zebra", 0.5, 301, 200, 120, 247),
				obj("giraffe", 0.36, 301, 200, 121, 243)},
				Labels: []bot.Label{{Label: "zebra", Score: 0.43}, {Label: "cheetah", Score: 0.08}}, Width: 500, Height: 500},
			want: "a giraffe and a zebra", rewritten: true,
		},
		{
			name: "a dog box under 0.6 needs the labels at 0.2, not one weak breed",
			raw:  "a black and white dog is running through a grassy field",
			ev: Evidence{Objects: []bot.Object{obj("horse", 0.7, 76, 132, 171, 221), obj("horse", 0.69, 366, 148, 201, 199),
				obj("horse", 0.63, 209, 141, 160, 195), obj("dog", 0.47, 172, 297, 128, 65)},
				Labels: []bot.Label{{Label: "kelpie", Score: 0.13}, {Label: "sorrel", Score: 0.07}}, Width: 640, Height: 480},
			want: "three horses", rewritten: true,
		},
		{
			name: "a gorilla the detector calls a bear",
			raw:  "a black dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("bear", 0.65, 107, 28, 399, 329)},
				Labels: []bot.Label{{Label: "gorilla", Score: 0.94}, {Label: "baboon", Score: 0.02}}, Width: 640, Height: 360},
			want: "an ape", rewritten: true,
		},
		{
			name: "a monkey the detector calls a person, the labels certain",
			raw:  "a man in a blue shirt is standing in front of a white building",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.76, 1, 25, 459, 331), obj("dog", 0.41, 2, 24, 462, 336)},
				Labels: []bot.Label{{Label: "proboscis monkey", Score: 0.99}}, Width: 640, Height: 360},
			want: "a monkey", rewritten: true,
		},
		{
			name: "a person the labels doubt is kept where they are only sure (0.62) of a fish",
			raw:  "a man and a woman are sitting on a beach",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.71, 1, 104, 376, 473), obj("person", 0.63, 56, 104, 26, 78)},
				Labels: []bot.Label{{Label: "sturgeon", Score: 0.62}}, Width: 640, Height: 480},
			want: "two people are sitting",
		},
		{
			name: "the labels' dog is not explained away by a horse on its box",
			raw:  "a brown and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("horse", 0.72, 14, 23, 560, 444), obj("dog", 0.61, 17, 26, 551, 447)},
				Labels: []bot.Label{{Label: "German shepherd", Score: 0.99}}, Width: 640, Height: 480},
			want: "a brown and white dog is running",
		},
		{
			name: "a dog from weak labels beside three detected cows is a cow misread",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("cow", 0.7, 145, 180, 447, 259), obj("cow", 0.67, 503, 117, 69, 52),
				obj("cow", 0.6, 164, 115, 103, 61)},
				Labels: []bot.Label{{Label: "ox", Score: 0.42}, {Label: "Great Dane", Score: 0.29}, {Label: "dalmatian", Score: 0.05}},
				Width:  640, Height: 480},
			want: "three cows", rewritten: true,
		},
		{
			name: "a cheetah from the labels beside two giraffes, which ImageNet cannot name",
			raw:  "a man and a dog are running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("giraffe", 0.75, 275, 114, 176, 281), obj("giraffe", 0.71, 395, 75, 167, 321)},
				Labels: []bot.Label{{Label: "cheetah", Score: 0.57}, {Label: "leopard", Score: 0.23}}, Width: 640, Height: 427},
			want: "two giraffes", rewritten: true,
		},
		{
			name: "a box the labels are certain is something else is that thing misread",
			raw:  "a black and white dog is playing with a ball",
			ev: Evidence{Objects: []bot.Object{obj("cake", 0.65, 1, 3, 319, 311)},
				Labels: []bot.Label{{Label: "baseball", Score: 0.99}}, Width: 320, Height: 317},
			want: "a ball", rewritten: true,
		},
		{
			name: "several unsure people on a dim stage are a crowd, and a crowd of people one phrase",
			raw:  "a crowd of people are gathered in a crowd",
			ev: Evidence{Objects: []bot.Object{obj("person", 0.6, 181, 220, 40, 86), obj("person", 0.45, 224, 380, 76, 47),
				obj("person", 0.47, 285, 240, 57, 75), obj("person", 0.3, 72, 360, 68, 67)},
				Width: 640, Height: 427},
			want: "a crowd of people are gathered in a crowd",
		},
		{
			name: "a forest path the word detectors call woods, hedged",
			raw:  "a man is running through the woods",
			ev: Evidence{Words: map[string]float64{"=person": 0.61, "woods": 0.26, "forest": 0.23, "tree": 0.2},
				Width: 640, Height: 400},
			want: "a photo of what may be woods", rewritten: true,
		},
		{
			name: "weak labels of several insects and an unsure bird are no animal",
			raw:  "a black and white dog is running through the grass",
			ev: Evidence{Objects: []bot.Object{obj("bird", 0.47, 20, 23, 250, 236)},
				Labels: []bot.Label{{Label: "sulphur butterfly", Score: 0.19}, {Label: "bee", Score: 0.17},
					{Label: "ant", Score: 0.13}, {Label: "cabbage butterfly", Score: 0.05}},
				Width: 320, Height: 280},
			want: "a photo", rewritten: true,
		},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Ground(tt.raw, tt.ev, Options{})
			if got.Caption != tt.want || got.Rewritten != tt.rewritten {
				t.Errorf("Ground(%q) = %q (rewritten %v), want %q (rewritten %v)", tt.raw, got.Caption, got.Rewritten, tt.want, tt.rewritten)
			}
		})
	}
}

func TestThing(t *testing.T) {
	for word, want := range map[string]string{
		"men": "person", "children": "person", "puppies": "dog", "hot dogs": "hot dog",
		"bikes": "bicycle", "buses": "bus", "people": "person", "teddy bear": "teddy bear",
	} {
		if got, ok := Thing(word); !ok || got != want {
			t.Errorf("Thing(%q) = %q, %v; want %q", word, got, ok, want)
		}
	}
	for _, word := range []string{"grass", "cathedral", "glasses", "is"} {
		if got, ok := Thing(word); ok {
			t.Errorf("Thing(%q) = %q, want none", word, got)
		}
	}
}

// A photo with 300 detections gets a bounded sentence: at most three things
// named, with counts.
func TestGroundManyBoxes(t *testing.T) {
	var objs []bot.Object
	classes := []string{"person", "car", "bird", "umbrella", "dog", "bicycle"}
	for i := range 300 {
		objs = append(objs, obj(classes[i%len(classes)], 0.5+float64(i%40)/100, i%600, i/2, 30, 40))
	}
	g := Ground("a dog runs", Evidence{Objects: objs, Width: 640, Height: 480}, Options{})
	if n := len(Classes(g.Caption)); n == 0 || n > 3 || len(g.Caption) > 120 {
		t.Errorf("caption %q for 300 boxes names %d classes", g.Caption, n)
	}
	t.Log(g.Caption)
}
