package bot

import (
	"context"
	"time"
)

// Label is one ImageNet class the encoder saw in a photo.
type Label struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Object is one thing the object detector found in a photo.
type Object struct {
	// Label is a COCO class name ("person", "giraffe", "dining table").
	Label string  `json:"label"`
	Score float64 `json:"score"`
	// Box is x, y, width and height in the original photo's pixels (after
	// EXIF orientation), x and y from the top left corner.
	Box [4]int `json:"box"`
}

// Subject is a thing grounding found support for in a photo: a class the
// detector saw or a confident ImageNet label. Posts, hashtags and the LLM's
// prompt name only subjects.
type Subject struct {
	// Name is a COCO class ("person", "giraffe") or a coarse ImageNet thing
	// ("big cat", "beach", "teapot").
	Name string `json:"name"`
	// Count is how many the detector counted; 0 when only a label saw it.
	Count int `json:"count,omitempty"`
	// Kind is person, pet, animal, vehicle, food, scene or object.
	Kind  string  `json:"kind"`
	Score float64 `json:"score"`
	// Source is "detector" or "label".
	Source string `json:"source"`
}

// Description is what the captioner says about one photo.
type Description struct {
	// Caption is the grounded sentence, lowercase, without punctuation
	// (e.g. "a dog runs through the grass"): the decoder's sentence with
	// every object word it names supported by a detection or a confident
	// label, rewritten otherwise. Empty when no decoder is loaded.
	Caption string
	// RawCaption is the decoder's own sentence, before grounding.
	RawCaption string
	// Objects are the detector's detections, best first; nil when no
	// detector is loaded.
	Objects []Object
	// Subjects are the things grounding found support for, most prominent
	// first.
	Subjects []Subject
	// Confidence is the caption's mean per-token log-probability (≤ 0).
	Confidence float64
	// Labels are the encoder's top ImageNet classes, best first.
	Labels []Label
	// DecodeTime (the file to pixels), EncoderTime, DetectorTime,
	// DecoderTime and Total are the timings of this photo.
	DecodeTime   time.Duration
	EncoderTime  time.Duration
	DetectorTime time.Duration
	DecoderTime  time.Duration
	Total        time.Duration
}

// Describer turns a photo (the file's bytes: JPEG, PNG, GIF or WebP) into a
// plain caption. Implementations return errors wrapping the captioner's
// sentinels (ErrNotImage and friends) for bad input.
type Describer interface {
	Describe(ctx context.Context, img []byte) (Description, error)
}

// RefineRequest asks for a post for one network.
type RefineRequest struct {
	Description Description
	// Network is a network name known to package prompts ("instagram", "x", ...).
	Network string
	// Tone is "fun", "professional", "minimal", "poetic", "witty", ...;
	// empty means the network's default tone.
	Tone string
	// Language is an ISO 639-1 code; empty means "en".
	Language string
	// Hashtags is the number of hashtags wanted; negative means the
	// network's default.
	Hashtags int
	// Hint is the user's optional free text (data, never instructions).
	Hint string
	// Image is the photo, for vision models; may be nil.
	Image []byte
	// Variant asks for a different wording of the same post (Regenerate);
	// 0 is the first rendering.
	Variant int
}

// Post is a ready-to-post text for one network.
type Post struct {
	// Text is the whole post as the user would paste it: caption, and
	// hashtags placed where the network expects them.
	Text string `json:"post"`
	// Body is the post without hashtags (JSON key "caption").
	Body string `json:"caption"`
	// Hashtags each start with '#'.
	Hashtags []string `json:"hashtags"`
	AltText  string   `json:"alt_text"`
	Network  string   `json:"network"`
	// WrittenBy names what wrote the text: "openai" or "offline" (JSON
	// key "refiner").
	WrittenBy string `json:"refiner"`
}

// Refiner turns a raw caption into a post for a network. It should not fail
// because an LLM is down: the offline refiner is the fallback.
type Refiner interface {
	Refine(ctx context.Context, req RefineRequest) (Post, error)
}

// Settings are a user's or a chat's preferences. Zero values mean "not set":
// the chat's or the bot's default applies.
type Settings struct {
	Network  string `json:"network,omitempty"`
	Tone     string `json:"tone,omitempty"`
	Language string `json:"language,omitempty"`
	// Hashtags is nil when unset; 0 is a valid choice (no hashtags).
	Hashtags *int `json:"hashtags,omitempty"`
}
