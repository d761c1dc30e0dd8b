package bot

import (
	"slices"
	"strconv"
	"strings"
)

// ActionKind says what a button under a post does.
type ActionKind byte

// The actions every front end offers under a post: the same on every
// platform, on purpose.
const (
	// ActionRegenerate asks for another wording of the same post.
	ActionRegenerate ActionKind = 'r'
	// ActionTone re-renders the post in the next tone (NextTone).
	ActionTone ActionKind = 't'
	// ActionNetwork re-renders the post for another network.
	ActionNetwork ActionKind = 'n'
)

// MaxActionData is the longest encoded PostAction: Telegram's callback_data
// allows 64 bytes (Discord's custom_id 100 characters).
const MaxActionData = 64

// MaxPhotoRef is the longest PostAction.Photo: a Discord snowflake (20
// digits) or 128 bits in unpadded base64url (22 characters) fit.
const MaxPhotoRef = 24

// MaxVariant is the highest variant a post action asks for; Regenerate
// after it starts again at 1.
const MaxVariant = 1000

// actionPrefix starts every encoded PostAction, so front ends can tell post
// buttons from their own (settings menus).
const actionPrefix = "p|"

// PostAction is one button under a post. It carries everything the
// re-render needs, so answering a button needs no server state beyond the
// description cache; Data encodes it for callback_data or custom_id.
type PostAction struct {
	Kind ActionKind
	// Photo names the photo where the platform cannot find it from the
	// message the button is on (Discord's attachment ID); empty otherwise
	// (Telegram: the post replies to the photo). At most MaxPhotoRef bytes
	// of A-Z, a-z, 0-9, '-' and '_'.
	Photo string
	// Network, Tone and Language are the settings to render with (Tone and
	// Language may be empty: the usual resolution applies).
	Network, Tone, Language string
	// Variant is the variant to render (0 to MaxVariant).
	Variant int
}

// PostActions are the buttons under a post rendered with s (a Result's
// Settings) at variant: Regenerate, the next tone, then every other network
// in Networks' order. Regenerate asks for the next variant; another tone or
// network starts at variant 0. photo is PostAction.Photo; when it cannot be
// encoded (too long, bad characters) there are no actions.
func PostActions(photo string, s Settings, variant int) []PostAction {
	if !validPhotoRef(photo) {
		return nil
	}
	base := PostAction{Photo: photo, Network: s.Network, Tone: s.Tone, Language: s.Language}
	regen := base
	regen.Kind, regen.Variant = ActionRegenerate, variant%MaxVariant+1
	tone := base
	tone.Kind, tone.Tone = ActionTone, NextTone(s.Tone)
	actions := []PostAction{regen, tone}
	for _, n := range Networks {
		if n == s.Network {
			continue
		}
		a := base
		a.Kind, a.Network = ActionNetwork, n
		actions = append(actions, a)
	}
	return actions
}

// NextTone is the tone after tone in Tones, cycling; after "" (the network's
// default) comes the first.
func NextTone(tone string) string {
	i := slices.Index(Tones, tone)
	return Tones[(i+1)%len(Tones)]
}

// Label is the button's text: "Regenerate", "Tone: witty", or the
// network's title.
func (a PostAction) Label() string {
	switch a.Kind {
	case ActionRegenerate:
		return "Regenerate"
	case ActionTone:
		return "Tone: " + a.Tone
	}
	return NetworkTitle(a.Network)
}

// Emoji is the button's icon, shown before the label: "🔄" for Regenerate,
// "🎭" for a tone, none for a network.
func (a PostAction) Emoji() string {
	switch a.Kind {
	case ActionRegenerate:
		return "🔄"
	case ActionTone:
		return "🎭"
	}
	return ""
}

// Settings are the per-job override the action asks for (Job.Override).
func (a PostAction) Settings() Settings {
	return Settings{Network: a.Network, Tone: a.Tone, Language: a.Language}
}

// Data encodes the action as "p|KIND|PHOTO|NETWORK|TONE|LANGUAGE|VARIANT",
// at most MaxActionData bytes for any action PostActions makes.
func (a PostAction) Data() string {
	return actionPrefix + string(a.Kind) + "|" + a.Photo + "|" + a.Network + "|" + a.Tone + "|" + a.Language + "|" +
		strconv.Itoa(a.Variant)
}

// IsActionData reports whether data looks like an encoded PostAction (it
// may still be invalid), so a front end can tell post buttons from others.
func IsActionData(data string) bool { return strings.HasPrefix(data, actionPrefix) }

// ParsePostAction decodes Data's output, checking every field: button data
// comes back from clients and may be stale or forged.
func ParsePostAction(data string) (PostAction, bool) {
	if len(data) > MaxActionData {
		return PostAction{}, false
	}
	rest, ok := strings.CutPrefix(data, actionPrefix)
	if !ok {
		return PostAction{}, false
	}
	f := strings.Split(rest, "|")
	if len(f) != 6 || len(f[0]) != 1 {
		return PostAction{}, false
	}
	a := PostAction{Kind: ActionKind(f[0][0]), Photo: f[1]}
	switch a.Kind {
	case ActionRegenerate, ActionTone, ActionNetwork:
	default:
		return PostAction{}, false
	}
	if !validPhotoRef(a.Photo) {
		return PostAction{}, false
	}
	var err error
	if a.Network, err = ParseNetwork(f[2]); err != nil || a.Network != f[2] {
		return PostAction{}, false
	}
	if f[3] != "" {
		if a.Tone, err = ParseTone(f[3]); err != nil || a.Tone != f[3] {
			return PostAction{}, false
		}
	}
	if f[4] != "" {
		if a.Language, err = ParseLanguage(f[4]); err != nil || a.Language != f[4] {
			return PostAction{}, false
		}
	}
	if a.Variant, err = strconv.Atoi(f[5]); err != nil || a.Variant < 0 || a.Variant > MaxVariant ||
		strconv.Itoa(a.Variant) != f[5] {
		return PostAction{}, false
	}
	return a, true
}

// validPhotoRef reports whether s can be a PostAction.Photo.
func validPhotoRef(s string) bool {
	if len(s) > MaxPhotoRef {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}
