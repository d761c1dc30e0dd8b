package metrics

// ObjectVocabulary are the words that name a concrete, visible thing: a
// text that names one of them for a photo whose annotation does not allow it
// hallucinates (RealWorldPhoto.Check). They are the COCO detection
// categories in everyday words, the people, animals, objects and scenes that
// Flickr8k captions name most, and scene words (a kitchen photo captioned
// "on the beach" hallucinates the beach).
//
// Left out on purpose, because a text may name them without claiming a
// visible thing, or because nearly every photo has them:
//   - generic words: animal, thing, object, vehicle, food, fruit, plant, room;
//   - clothing and body parts (shirt, hat, face, mouth): attributes of the
//     people and animals, not subjects;
//   - words that are also colours or idioms: orange ("an orange shirt"),
//     camera and picture ("poses for the camera"), glass (glasses), air
//     ("jumps in the air"), leaf (leaves the water);
//   - the sky, sun and clouds, walls, floors, windows and doors;
//   - compounds whose head already counts (stop sign, wine glass, soccer
//     ball): "sign", "cup", "ball" name them. The compounds kept are those
//     that are not their head (a hot dog is no dog, a teddy bear no bear).
//
// Words are singular; Names gives the plurals.
var ObjectVocabulary = []string{
	// People.
	"person", "man", "woman", "boy", "girl", "child", "kid", "baby", "toddler", "lady", "guy",
	"gentleman", "teenager", "teen", "adult", "crowd", "couple", "family", "team", "player",
	"skier", "snowboarder", "surfer", "swimmer", "biker", "bicyclist", "cyclist", "rider",
	"runner", "climber", "skateboarder", "hiker", "dancer", "worker", "tourist", "soldier",
	"policeman", "student", "spectator", "bride", "groom", "musician", "singer", "photographer",
	"cowboy", "clown",

	// Animals.
	"dog", "puppy", "cat", "kitten", "horse", "pony", "sheep", "lamb", "cow", "bull", "calf",
	"cattle", "elephant", "bear", "zebra", "giraffe", "bird", "duck", "goose", "swan", "chicken",
	"pigeon", "seagull", "gull", "eagle", "owl", "parrot", "fish", "shark", "dolphin", "whale",
	"monkey", "camel", "goat", "pig", "deer", "rabbit", "squirrel", "mouse", "rat", "lion",
	"tiger", "wolf", "fox", "turtle", "frog", "snake", "butterfly", "bee", "insect",

	// Vehicles.
	"car", "truck", "bus", "van", "taxi", "train", "tram", "motorcycle", "motorbike", "scooter",
	"bicycle", "bike", "boat", "ship", "canoe", "kayak", "sailboat", "raft", "airplane", "plane",
	"helicopter", "jet", "tractor", "wagon", "cart", "skateboard", "surfboard", "snowboard", "ski",
	"sled", "stroller", "wheelchair",

	// Street and outdoor objects.
	"traffic light", "fire hydrant", "hydrant", "parking meter", "bench", "fountain", "statue",
	"sign", "fence", "bridge", "pole", "tent", "swing", "slide",

	// Sports and toys.
	"ball", "football", "basketball", "baseball", "frisbee", "kite", "racket", "bat", "net",
	"goal", "toy", "doll", "teddy bear", "balloon", "stick", "rope", "leash", "flag",

	// Household objects.
	"chair", "couch", "sofa", "bed", "table", "desk", "television", "tv", "laptop", "computer",
	"keyboard", "phone", "book", "clock", "vase", "toilet", "sink", "refrigerator", "fridge",
	"oven", "microwave", "toaster", "umbrella", "bag", "backpack", "handbag", "purse", "suitcase",
	"bottle", "cup", "mug", "bowl", "plate", "fork", "knife", "spoon", "scissors", "basket", "box",
	"blanket", "pillow", "lamp", "guitar", "drum", "piano", "microphone",

	// Food and drink.
	"pizza", "sandwich", "hot dog", "cake", "donut", "doughnut", "banana", "apple", "broccoli",
	"carrot", "bread", "ice cream", "tomato", "coffee", "beer", "wine",

	// Scenes and ground.
	"grass", "lawn", "field", "meadow", "water", "snow", "beach", "sand", "ocean", "sea", "lake",
	"river", "pool", "stream", "creek", "pond", "waterfall", "wave", "mountain", "hill", "rock",
	"cliff", "forest", "woods", "tree", "flower", "park", "garden", "yard", "street", "road",
	"sidewalk", "city", "building", "house", "stage", "dirt", "mud", "desert", "ice", "fire",
	"playground", "trail", "kitchen", "bathroom", "bedroom", "classroom", "restaurant", "gym",
}
