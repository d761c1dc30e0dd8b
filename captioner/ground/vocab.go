package ground

import (
	"slices"
	"strings"
)

// Kinds of thing, for framing a post and for hashtags.
const (
	KindPerson  = "person"
	KindPet     = "pet"
	KindAnimal  = "animal"
	KindVehicle = "vehicle"
	KindFood    = "food"
	KindScene   = "scene"
	KindObject  = "object"
)

// category is a thing a caption word can name: a COCO class (the detector's
// label) or a thing only the ImageNet labels or the word detector can see.
type category struct {
	// name is the detector's label for COCO classes ("sports ball"), else
	// the thing's own name ("teapot").
	name string
	// one and many are the nouns a grounded sentence uses.
	one, many string
	kind      string
	// coco is true for the detector's 80 classes.
	coco bool
}

// cocoClasses are the detector's classes in its output order, with the
// nouns a sentence uses and their kind.
var cocoClasses = []category{
	{"person", "person", "people", KindPerson, true},
	{"bicycle", "bicycle", "bicycles", KindVehicle, true},
	{"car", "car", "cars", KindVehicle, true},
	{"motorcycle", "motorcycle", "motorcycles", KindVehicle, true},
	{"airplane", "airplane", "airplanes", KindVehicle, true},
	{"bus", "bus", "buses", KindVehicle, true},
	{"train", "train", "trains", KindVehicle, true},
	{"truck", "truck", "trucks", KindVehicle, true},
	{"boat", "boat", "boats", KindVehicle, true},
	{"traffic light", "traffic light", "traffic lights", KindObject, true},
	{"fire hydrant", "fire hydrant", "fire hydrants", KindObject, true},
	{"stop sign", "stop sign", "stop signs", KindObject, true},
	{"parking meter", "parking meter", "parking meters", KindObject, true},
	{"bench", "bench", "benches", KindObject, true},
	{"bird", "bird", "birds", KindAnimal, true},
	{"cat", "cat", "cats", KindPet, true},
	{"dog", "dog", "dogs", KindPet, true},
	{"horse", "horse", "horses", KindAnimal, true},
	{"sheep", "sheep", "sheep", KindAnimal, true},
	{"cow", "cow", "cows", KindAnimal, true},
	{"elephant", "elephant", "elephants", KindAnimal, true},
	{"bear", "bear", "bears", KindAnimal, true},
	{"zebra", "zebra", "zebras", KindAnimal, true},
	{"giraffe", "giraffe", "giraffes", KindAnimal, true},
	{"backpack", "backpack", "backpacks", KindObject, true},
	{"umbrella", "umbrella", "umbrellas", KindObject, true},
	{"handbag", "handbag", "handbags", KindObject, true},
	{"tie", "tie", "ties", KindObject, true},
	{"suitcase", "suitcase", "suitcases", KindObject, true},
	{"frisbee", "frisbee", "frisbees", KindObject, true},
	{"skis", "pair of skis", "skis", KindObject, true},
	{"snowboard", "snowboard", "snowboards", KindObject, true},
	{"sports ball", "ball", "balls", KindObject, true},
	{"kite", "kite", "kites", KindObject, true},
	{"baseball bat", "baseball bat", "baseball bats", KindObject, true},
	{"baseball glove", "baseball glove", "baseball gloves", KindObject, true},
	{"skateboard", "skateboard", "skateboards", KindObject, true},
	{"surfboard", "surfboard", "surfboards", KindObject, true},
	{"tennis racket", "tennis racket", "tennis rackets", KindObject, true},
	{"bottle", "bottle", "bottles", KindObject, true},
	{"wine glass", "wine glass", "wine glasses", KindObject, true},
	{"cup", "cup", "cups", KindObject, true},
	{"fork", "fork", "forks", KindObject, true},
	{"knife", "knife", "knives", KindObject, true},
	{"spoon", "spoon", "spoons", KindObject, true},
	{"bowl", "bowl", "bowls", KindObject, true},
	{"banana", "banana", "bananas", KindFood, true},
	{"apple", "apple", "apples", KindFood, true},
	{"sandwich", "sandwich", "sandwiches", KindFood, true},
	{"orange", "orange", "oranges", KindFood, true},
	{"broccoli", "broccoli", "broccoli", KindFood, true},
	{"carrot", "carrot", "carrots", KindFood, true},
	{"hot dog", "hot dog", "hot dogs", KindFood, true},
	{"pizza", "pizza", "pizzas", KindFood, true},
	{"donut", "donut", "donuts", KindFood, true},
	{"cake", "cake", "cakes", KindFood, true},
	{"chair", "chair", "chairs", KindObject, true},
	{"couch", "couch", "couches", KindObject, true},
	{"potted plant", "potted plant", "potted plants", KindObject, true},
	{"bed", "bed", "beds", KindObject, true},
	{"dining table", "table", "tables", KindObject, true},
	{"toilet", "toilet", "toilets", KindObject, true},
	{"tv", "television", "televisions", KindObject, true},
	{"laptop", "laptop", "laptops", KindObject, true},
	{"mouse", "computer mouse", "computer mice", KindObject, true},
	{"remote", "remote control", "remote controls", KindObject, true},
	{"keyboard", "keyboard", "keyboards", KindObject, true},
	{"cell phone", "phone", "phones", KindObject, true},
	{"microwave", "microwave", "microwaves", KindObject, true},
	{"oven", "oven", "ovens", KindObject, true},
	{"toaster", "toaster", "toasters", KindObject, true},
	{"sink", "sink", "sinks", KindObject, true},
	{"refrigerator", "refrigerator", "refrigerators", KindObject, true},
	{"book", "book", "books", KindObject, true},
	{"clock", "clock", "clocks", KindObject, true},
	{"vase", "vase", "vases", KindObject, true},
	{"scissors", "pair of scissors", "scissors", KindObject, true},
	{"teddy bear", "teddy bear", "teddy bears", KindObject, true},
	{"hair drier", "hair dryer", "hair dryers", KindObject, true},
	{"toothbrush", "toothbrush", "toothbrushes", KindObject, true},
}

// otherKinds are the kinds of the non-COCO things the ImageNet table names.
var otherKinds = map[string]string{
	"fish": KindAnimal, "frog": KindAnimal, "turtle": KindAnimal, "lizard": KindAnimal,
	"crocodile": KindAnimal, "snake": KindAnimal, "spider": KindAnimal, "crab": KindAnimal,
	"whale": KindAnimal, "seal": KindAnimal, "wolf": KindAnimal, "hyena": KindAnimal,
	"fox": KindAnimal, "big cat": KindAnimal, "mongoose": KindAnimal, "insect": KindAnimal,
	"butterfly": KindAnimal, "rabbit": KindAnimal, "rodent": KindAnimal, "pig": KindAnimal,
	"hippopotamus": KindAnimal, "antelope": KindAnimal, "camel": KindAnimal, "llama": KindAnimal,
	"weasel": KindAnimal, "monkey": KindAnimal, "panda": KindAnimal, "bison": KindAnimal,
	"buffalo": KindAnimal, "goat": KindAnimal, "meerkat": KindAnimal, "hamster": KindAnimal,
	"porcupine": KindAnimal, "squirrel": KindAnimal, "marmot": KindAnimal, "beaver": KindAnimal,
	"guinea pig": KindAnimal, "ape": KindAnimal, "lemur": KindAnimal, "kangaroo": KindAnimal,
	"koala": KindAnimal, "wombat": KindAnimal, "echidna": KindAnimal, "platypus": KindAnimal,
	"jellyfish": KindAnimal, "snail": KindAnimal,
	"airship": KindVehicle, "tractor": KindVehicle, "tricycle": KindVehicle, "unicycle": KindVehicle,
	"bagel": KindFood, "plate": KindFood, "food": KindFood, "soup": KindFood, "dessert": KindFood,
	"ice cream": KindFood, "bread": KindFood, "pretzel": KindFood, "cabbage": KindFood,
	"cauliflower": KindFood, "vegetable": KindFood, "cucumber": KindFood, "pepper": KindFood,
	"mushroom": KindFood, "strawberry": KindFood, "lemon": KindFood, "fruit": KindFood,
	"pineapple": KindFood, "pasta": KindFood, "burrito": KindFood, "coffee": KindFood,
	"drink": KindFood, "corn": KindFood,
	"mountain": KindScene, "cliff": KindScene, "reef": KindScene, "geyser": KindScene,
	"lake": KindScene, "coast": KindScene, "beach": KindScene, "valley": KindScene,
	"dock": KindScene, "pier": KindScene, "fountain": KindScene, "stage": KindScene,
	"library": KindScene, "restaurant": KindScene, "store": KindScene, "building": KindScene,
	"church": KindScene, "monument": KindScene, "bridge": KindScene, "patio": KindScene,
	"greenhouse": KindScene,
}

// thingKind is the kind of a COCO class or of another thing's name.
func thingKind(name string) string {
	if c, ok := cocoByName[name]; ok {
		return c.kind
	}
	if k, ok := otherKinds[name]; ok {
		return k
	}
	return KindObject
}

var cocoByName = func() map[string]category {
	m := make(map[string]category, len(cocoClasses))
	for _, c := range cocoClasses {
		m[c.name] = c
	}
	return m
}()

// wordThing maps a caption word (singular) to the COCO class it names.
// After Rohrbach et al. 2018 (CHAIR): man, woman, boy, girl... are all
// "person". Two-word names ("hot dog") are looked up as one key.
var wordThing = buildWordThing()

func buildWordThing() map[string]string {
	m := map[string]string{}
	add := func(class string, words ...string) {
		if _, ok := cocoByName[class]; !ok {
			panic("ground: unknown class " + class)
		}
		for _, w := range words {
			m[w] = class
		}
	}
	add("person", "person", "people", "man", "woman", "boy", "girl", "child", "kid", "baby",
		"toddler", "guy", "lady", "gentleman", "adult", "teenager", "teen", "player", "skier",
		"surfer", "snowboarder", "skateboarder", "biker", "cyclist", "bicyclist", "motorcyclist",
		"rider", "crowd", "family", "couple", "friend", "climber", "swimmer", "runner", "dancer",
		"worker", "officer", "policeman", "soldier", "student", "tourist", "hiker", "spectator",
		"audience", "performer", "musician", "cowboy", "bride", "groom", "chef", "pedestrian",
		"someone", "male", "female", "infant", "youngster", "athlete", "wrestler", "boxer",
		"goalie", "catcher", "pitcher", "batter", "jockey", "diver", "onlooker", "team", "band",
		"mother", "father", "dad", "mom", "daughter", "son", "brother", "sister", "grandmother",
		"grandfather", "husband", "wife", "shopper", "vendor", "driver", "referee", "clown",
		"skater", "fisherman", "singer", "guitarist", "drummer", "photographer", "individual")
	add("dog", "dog", "puppy", "pup", "poodle", "terrier", "collie", "retriever", "labrador",
		"greyhound", "dachshund", "beagle", "pug", "husky", "chihuahua", "spaniel", "bulldog",
		"hound", "corgi", "doberman", "rottweiler", "dalmatian", "sheepdog", "schnauzer",
		"mutt", "shepherd", "pitbull", "boxer dog")
	add("cat", "cat", "kitten", "kitty", "tabby")
	add("horse", "horse", "pony", "foal", "stallion", "mare")
	add("bird", "bird", "duck", "goose", "seagull", "gull", "pigeon", "parrot", "eagle", "owl",
		"swan", "penguin", "hawk", "crow", "sparrow", "flamingo", "heron", "pelican", "chicken",
		"hen", "rooster", "ostrich", "peacock")
	add("sheep", "sheep", "lamb", "ram")
	add("cow", "cow", "cattle", "bull", "calf", "ox", "buffalo", "bison", "steer")
	add("elephant", "elephant")
	add("bear", "bear")
	add("zebra", "zebra")
	add("giraffe", "giraffe")
	add("bicycle", "bicycle", "bike", "cycle", "bmx")
	add("motorcycle", "motorcycle", "motorbike", "dirt bike", "scooter", "moped")
	add("car", "car", "taxi", "jeep", "van", "suv", "automobile", "vehicle", "sedan", "cab")
	add("bus", "bus")
	add("truck", "truck", "pickup", "lorry")
	add("train", "train", "locomotive", "tram", "subway", "streetcar")
	add("boat", "boat", "ship", "kayak", "canoe", "sailboat", "raft", "yacht", "ferry")
	add("airplane", "airplane", "plane", "jet", "aircraft", "airliner")
	add("traffic light", "traffic light", "stoplight")
	add("fire hydrant", "fire hydrant", "hydrant")
	add("stop sign", "stop sign")
	add("parking meter", "parking meter")
	add("bench", "bench")
	add("backpack", "backpack")
	add("umbrella", "umbrella", "parasol")
	add("handbag", "handbag", "purse")
	add("tie", "tie", "necktie")
	add("suitcase", "suitcase", "luggage")
	add("frisbee", "frisbee")
	add("skis", "ski", "skis")
	add("snowboard", "snowboard")
	add("sports ball", "ball", "football", "soccer ball", "basketball", "baseball", "volleyball",
		"tennis ball", "softball", "beach ball", "rugby ball")
	add("kite", "kite")
	add("baseball bat", "bat", "baseball bat")
	add("baseball glove", "glove", "mitt", "baseball glove")
	add("skateboard", "skateboard")
	add("surfboard", "surfboard")
	add("tennis racket", "racket", "racquet", "tennis racket")
	add("bottle", "bottle")
	add("wine glass", "wine glass", "wineglass")
	add("cup", "cup", "mug")
	add("fork", "fork")
	add("knife", "knife")
	add("spoon", "spoon")
	add("bowl", "bowl")
	add("banana", "banana")
	add("apple", "apple")
	add("sandwich", "sandwich", "burger", "hamburger", "sub")
	add("orange", "orange fruit")
	add("broccoli", "broccoli")
	add("carrot", "carrot")
	add("hot dog", "hot dog", "hotdog")
	add("pizza", "pizza")
	add("donut", "donut", "doughnut")
	add("cake", "cake", "cupcake")
	add("chair", "chair", "stool")
	add("couch", "couch", "sofa")
	add("potted plant", "potted plant", "houseplant")
	add("bed", "bed")
	add("dining table", "table", "dining table")
	add("toilet", "toilet")
	add("tv", "tv", "television")
	add("laptop", "laptop", "computer")
	add("mouse", "computer mouse")
	add("remote", "remote", "remote control")
	add("keyboard", "keyboard")
	add("cell phone", "phone", "cellphone", "cell phone", "smartphone")
	add("microwave", "microwave")
	add("oven", "oven", "stove")
	add("toaster", "toaster")
	add("sink", "sink")
	add("refrigerator", "refrigerator", "fridge")
	add("book", "book", "novel")
	add("clock", "clock")
	add("vase", "vase")
	add("scissors", "scissors")
	add("teddy bear", "teddy bear", "teddy", "stuffed animal")
	add("hair drier", "hair dryer", "hair drier", "hairdryer")
	add("toothbrush", "toothbrush")
	return m
}

// genderWords are person words that say more than "person": gender or
// age. Grounding keeps them only in thumbnails (see Options.SmallPhoto).
var genderWords = map[string]bool{
	"man": true, "woman": true, "boy": true, "girl": true, "guy": true, "lady": true,
	"gentleman": true, "male": true, "female": true, "mother": true, "father": true,
	"dad": true, "mom": true, "daughter": true, "son": true, "brother": true, "sister": true,
	"husband": true, "wife": true, "bride": true, "groom": true, "policeman": true,
	"grandmother": true, "grandfather": true, "fisherman": true,
	"child": true, "kid": true, "toddler": true, "teenager": true, "teen": true,
}

// sceneWords are places and surroundings a caption may name ("in the
// snow"); the word detector supports them.
var sceneWords = map[string]bool{
	"grass": true, "water": true, "snow": true, "beach": true, "sand": true, "ocean": true,
	"sea": true, "lake": true, "river": true, "pool": true, "street": true, "road": true,
	"field": true, "mountain": true, "hill": true, "rock": true, "tree": true, "forest": true,
	"wood": true, "woods": true, "park": true, "city": true, "building": true, "wall": true,
	"fence": true, "sidewalk": true, "dirt": true, "mud": true, "wave": true, "sky": true,
	"ice": true, "stage": true, "playground": true, "yard": true, "lawn": true, "shore": true,
	"waterfall": true, "desert": true, "trail": true, "path": true, "track": true, "court": true,
	"bridge": true, "stream": true, "pond": true, "garden": true, "cliff": true, "fountain": true,
	"sunset": true, "crowd": false, "room": true, "kitchen": true, "restaurant": true,
	"store": true, "market": true, "hay": true, "leaves": true, "flower": true, "puddle": true,
	"ramp": true, "slide": true, "swing": true, "trampoline": true, "tent": true, "sign": true,
	"flag": true, "rope": true, "stick": true, "toy": true, "tire": true, "net": true,
	"hoop": true, "goal": true, "pole": true, "log": true, "bucket": true, "box": true,
	"guitar": true, "microphone": true, "camera": true, "bag": true, "blanket": true,
	"cart": true, "sled": true, "paper": true, "food": true, "plate": true, "window": true,
	"door": true, "stairs": true, "floor": true, "house": true, "lawnmower": true,
}

// irregular plurals of the words above.
var irregular = map[string]string{
	"men": "man", "women": "woman", "children": "child", "people": "person", "geese": "goose",
	"mice": "mouse", "feet": "foot", "teeth": "tooth", "knives": "knife", "leaves": "leaves",
	"kids": "kid", "puppies": "puppy", "ponies": "pony", "babies": "baby", "ladies": "lady",
	"sheep": "sheep", "cattle": "cattle", "skis": "skis", "scissors": "scissors",
	"bus": "bus", "buses": "bus", "grass": "grass", "glass": "glass", "glasses": "glasses",
	"sunglasses": "sunglasses", "dress": "dress", "dresses": "dress", "boxes": "box",
	"benches": "bench", "couches": "couch", "sandwiches": "sandwich", "bushes": "bush",
	"woods": "woods", "shorts": "shorts", "pants": "pants", "jeans": "jeans", "goggles": "goggles",
	"species": "species", "series": "series", "news": "news", "always": "always",
	"is": "is", "was": "was", "has": "has", "its": "its", "his": "his", "this": "this",
	"as": "as", "us": "us", "across": "across", "canvas": "canvas", "bmx": "bmx",
	"stairs": "stairs", "waves": "wave", "matches": "match", "dishes": "dish",
	"families": "family", "countries": "country", "cities": "city", "strawberries": "strawberry",
	"tomatoes": "tomato", "potatoes": "potato", "wolves": "wolf", "shelves": "shelf",
}

// singular is a word's singular form, for looking up categories.
func singular(w string) string {
	if s, ok := irregular[w]; ok {
		return s
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 3 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") ||
		strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// isPlural reports whether w is a plural noun form.
func isPlural(w string) bool {
	if w == "people" || w == "crowd" || w == "team" || w == "family" || w == "couple" ||
		w == "band" || w == "audience" {
		return true
	}
	return singular(w) != w && w != "sheep" && w != "skis" && w != "scissors"
}

// Thing returns the COCO class a caption word (or two-word name) names,
// plurals included: "men" → "person", "hot dogs" → "hot dog".
func Thing(word string) (string, bool) {
	w := strings.ToLower(word)
	if c, ok := wordThing[w]; ok {
		return c, true
	}
	if i := strings.LastIndexByte(w, ' '); i > 0 {
		c, ok := wordThing[w[:i+1]+singular(w[i+1:])]
		return c, ok
	}
	c, ok := wordThing[singular(w)]
	return c, ok
}

// Classes returns the COCO classes a caption names, each once, in order:
// "a man and a woman walk their dogs" → person, dog.
func Classes(caption string) []string {
	var out []string
	for _, m := range mentions(tokenize(caption)) {
		if !slices.Contains(out, m.class) {
			out = append(out, m.class)
		}
	}
	return out
}

// LabelThing returns the thing an ImageNet class (first name) shows: a
// COCO class ("German shepherd" → "dog") or a coarse name ("alp" →
// "mountain").
func LabelThing(label string) (string, bool) {
	t, ok := imagenetThing[label]
	return t, ok
}

// Noun is a thing's noun in a sentence or hashtag: "sports ball" → "ball",
// "dining table" → "table"; other names are their own noun.
func Noun(thing string) string {
	if c, ok := cocoByName[thing]; ok {
		return c.one
	}
	return thing
}

// Hedged reports whether a grounded caption only hedges ("a photo of what
// may be a teapot") or says nothing ("a photo"): nothing in it is stated.
func Hedged(caption string) bool {
	return caption == "" || caption == "a photo" || strings.HasPrefix(caption, hedgePrefix)
}

const hedgePrefix = "a photo of what may be "

// Plural is a thing's plural noun: "person" → "people", "sports ball" →
// "balls".
func Plural(thing string) string {
	if c, ok := cocoByName[thing]; ok {
		return c.many
	}
	if strings.HasSuffix(thing, "s") || sameInPlural[thing] {
		return thing
	}
	return thing + "s"
}
