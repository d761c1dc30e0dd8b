package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/captionbot/captionbot/prompts"
)

// CommandInfo describes one command for a platform's command menu
// (Telegram's setMyCommands, Discord's slash commands) and for /help.
type CommandInfo struct {
	Name string
	// Args is the argument syntax for help, e.g. "[name]"; empty for none.
	Args        string
	Description string
}

// Commands are the commands every platform offers, in menu order.
var Commands = []CommandInfo{
	{"start", "", "What I do and how to use me"},
	{"help", "", "Every command"},
	{"network", "[name]", "Choose the network posts are written for"},
	{"tone", "[name]", "Choose the tone of posts"},
	{"lang", "[code]", "Choose the language of posts (e.g. en, de, es)"},
	{"hashtags", "[0-30]", "Choose how many hashtags a post gets"},
	{"settings", "", "Show the current settings"},
	{"caption", "[hint]", "Caption a photo (in groups: reply to a photo)"},
	{"privacy", "", "What I keep and what I don't"},
}

// commandAliases maps alternative names to the names in Commands.
var commandAliases = map[string]string{"style": "network", "language": "lang"}

// Command is a parsed chat command.
type Command struct {
	// Name is lower-case, without the slash and the @botname suffix.
	Name string
	// Args is the rest of the text, trimmed.
	Args string
}

// ParseCommand parses "/name[@bot] args". ok is false when text is not a
// command, or is addressed to another bot ("/help@otherbot"); botName
// (without "@") is compared case-insensitively and may be empty.
func ParseCommand(text, botName string) (cmd Command, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return Command{}, false
	}
	head, args, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		args = head[i+1:] + " " + args
		head = head[:i]
	}
	name, target, addressed := strings.Cut(head, "@")
	if addressed && !strings.EqualFold(target, botName) {
		return Command{}, false
	}
	if name == "" || len(name) > 32 {
		return Command{}, false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return Command{}, false
		}
	}
	name = strings.ToLower(name)
	if a, ok := commandAliases[name]; ok {
		name = a
	}
	return Command{Name: name, Args: strings.TrimSpace(args)}, true
}

// CommandRequest is a command as an adapter received it.
type CommandRequest struct {
	Platform string
	ChatID   string
	UserID   string
	// Group is true in groups, channels and guilds; there, setting commands
	// change the chat's defaults and need Admin (the adapter checks the
	// platform's notion: Telegram chat admin, Discord Manage Server).
	Group bool
	Admin bool
	// Place is what the platform's people call the chat a group command
	// is in, for replies such as "this server's posts will…": "group" on
	// Telegram, "server" on Discord. Empty means "group".
	Place string
	Command
}

// place is req.Place, or "group" when the adapter set none.
func (req CommandRequest) place() string {
	if req.Place == "" {
		return "group"
	}
	return req.Place
}

// Reply is the answer to a command.
type Reply struct {
	Text string
	// Choices, when not nil, asks the adapter to show buttons; pressing one
	// runs the command Choices.Setting with the value as its argument.
	Choices *Choices
	// Changed reports that a setting was saved (a menu can be closed).
	Changed bool
}

// Choices is a menu of values for one setting.
type Choices struct {
	// Setting is the command name: "network" or "tone".
	Setting string
	Values  []string
	// Current is the value now in force.
	Current string
}

// NetworkTitle is a network's name as people write it ("linkedin" →
// "LinkedIn"), from package prompts' table.
func NetworkTitle(name string) string {
	if n, err := prompts.Lookup(name); err == nil && n.Title != "" {
		return n.Title
	}
	return name
}

// resetWord clears a setting: "/tone reset".
const resetWord = "reset"

// MaxReply is the most characters (runes) a command reply has: Discord's
// message limit of 2000, which also fits Telegram's 4096 UTF-16 units.
const MaxReply = 2000

// maxEcho is the most characters of user input a reply repeats.
const maxEcho = 40

// QuoteInput is user input made safe to repeat in a reply, in quotes:
// control and format characters (bidi overrides and marks, zero-width
// characters) removed, line breaks and tabs made spaces, and cut to maxEcho
// characters. Replies never repeat input any other way.
func QuoteInput(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
			continue
		}
		if n == maxEcho {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return "\"" + strings.TrimSpace(b.String()) + "\""
}

// FitReply cuts text to MaxReply characters, ending with "…" when cut.
func FitReply(text string) string {
	if utf8.RuneCountInString(text) <= MaxReply {
		return text
	}
	r := []rune(text)
	return string(r[:MaxReply-1]) + "…"
}

// HandleCommand answers a platform-neutral command. Errors never escape: a
// store failure is logged and becomes an apology. A reply repeats user input
// only through QuoteInput and is at most MaxReply characters.
func (s *Service) HandleCommand(ctx context.Context, req CommandRequest) Reply {
	r := s.handleCommand(ctx, req)
	r.Text = FitReply(r.Text)
	return r
}

func (s *Service) handleCommand(ctx context.Context, req CommandRequest) Reply {
	switch req.Name {
	case "start":
		return Reply{Text: s.startText()}
	case "help":
		return Reply{Text: helpText()}
	case "privacy":
		return Reply{Text: privacyText}
	case "caption":
		return Reply{Text: "Send me a photo, or reply to a photo with /caption (add words after it as a hint)."}
	case "settings":
		return Reply{Text: s.settingsText(ctx, req)}
	case "network", "tone", "lang", "hashtags":
		return s.setting(ctx, req)
	}
	return Reply{Text: fmt.Sprintf("I don't know /%s. See /help for what I can do.", strings.Trim(QuoteInput(req.Name), `"`))}
}

func (s *Service) startText() string {
	return "Send me a photo and I'll answer with a ready-to-post caption and hashtags for " +
		NetworkTitle(s.defaultNetwork()) + " — or the network you pick with /network. " +
		"Buttons under each post write another version or switch the network.\n\n" +
		"In groups I only speak when asked: mention me in a photo's caption, or reply to a photo with /caption.\n\n" +
		"Privacy: I keep your settings, never your photos (/privacy). All commands: /help."
}

func helpText() string {
	var b strings.Builder
	b.WriteString("Send a photo (or an image file) and I'll write a post for it.\n\n")
	for _, c := range Commands {
		b.WriteString("/" + c.Name)
		if c.Args != "" {
			b.WriteString(" " + c.Args)
		}
		b.WriteString(" — " + c.Description + "\n")
	}
	b.WriteString("\nNetworks: " + strings.Join(Networks, ", ") + ".\n")
	b.WriteString("Tones: " + strings.Join(Tones, ", ") + ".\n")
	b.WriteString("Use \"reset\" as the argument to go back to the default, e.g. /tone reset.\n\n")
	b.WriteString("Posts never contain links, e-mail addresses, phone numbers or @handles, even if you ask for them: " +
		"add your own when you post.")
	return b.String()
}

const privacyText = "What I keep: your settings (network, tone, language, hashtag count) and, in groups, " +
	"the group's settings — nothing else. Photos are processed in memory and never stored; a photo's " +
	"plain description is kept in memory for up to an hour so the buttons can rewrite its post. " +
	"If the operator configured an AI service, the description (and, if enabled, the photo) is sent to it " +
	"to write the post."

// scopeKey returns the record a setting command changes, and how to name
// its owner in replies.
func scopeKey(req CommandRequest) (PrefKey, string) {
	if req.Group {
		return PrefKey{Platform: req.Platform, Scope: ScopeChat, ID: req.ChatID}, "this " + req.place() + "'s"
	}
	return PrefKey{Platform: req.Platform, Scope: ScopeUser, ID: req.UserID}, "your"
}

func (s *Service) settingsText(ctx context.Context, req CommandRequest) string {
	eff := s.Effective(ctx, req.Platform, req.ChatID, req.UserID, req.Group)
	tone := eff.Tone
	if tone == "" {
		tone = "the network's default"
	}
	tags := "the network's default"
	if eff.Hashtags != nil {
		tags = strconv.Itoa(*eff.Hashtags)
	}
	who := "Your settings"
	if req.Group {
		who = "Settings in this " + req.place()
	}
	return fmt.Sprintf("%s:\nNetwork: %s\nTone: %s\nLanguage: %s\nHashtags: %s\n\nChange them with /network, /tone, /lang and /hashtags.",
		who, NetworkTitle(eff.Network), tone, eff.Language, tags)
}

// setting handles /network, /tone, /lang and /hashtags.
func (s *Service) setting(ctx context.Context, req CommandRequest) Reply {
	key, owner := scopeKey(req)
	eff := s.Effective(ctx, req.Platform, req.ChatID, req.UserID, req.Group)
	if req.Args == "" {
		return s.settingPrompt(req.Name, eff)
	}
	if req.Group && !req.Admin {
		return Reply{Text: "Sorry, only this " + req.place() + "'s admins can change its settings. You can set your own in a private chat with me."}
	}
	if s.prefs == nil {
		return Reply{Text: "Sorry, I can't save settings right now."}
	}
	cur, err := s.prefs.Get(ctx, key)
	if err != nil {
		s.log().Error("read settings", "key", key.String(), "err", err)
		return Reply{Text: "Sorry, I couldn't read the settings. Please try again later."}
	}
	arg := strings.Fields(req.Args)[0]
	reset := strings.EqualFold(arg, resetWord)
	var done string
	switch req.Name {
	case "network":
		if reset {
			cur.Network, done = "", owner+" network is back to the default"
			break
		}
		n, err := ParseNetwork(arg)
		if err != nil {
			return Reply{Text: fmt.Sprintf("I don't know the network %s. Choose one of: %s. See /help.", QuoteInput(arg), strings.Join(Networks, ", "))}
		}
		cur.Network, done = n, fmt.Sprintf("%s posts will be written for %s", owner, NetworkTitle(n))
	case "tone":
		if reset {
			cur.Tone, done = "", owner+" tone is back to the network's default"
			break
		}
		t, err := ParseTone(arg)
		if err != nil {
			return Reply{Text: fmt.Sprintf("I don't know the tone %s. Choose one of: %s. See /help.", QuoteInput(arg), strings.Join(Tones, ", "))}
		}
		cur.Tone, done = t, fmt.Sprintf("%s posts will sound %s", owner, t)
	case "lang":
		if reset {
			cur.Language, done = "", owner+" language is back to the default"
			break
		}
		l, err := ParseLanguage(arg)
		if err != nil {
			return Reply{Text: fmt.Sprintf("%s isn't a language code I know. Use a two-letter ISO 639-1 code, such as %s.",
				QuoteInput(arg), strings.Join(prompts.CommonLanguages(), ", "))}
		}
		cur.Language, done = l, fmt.Sprintf("%s posts will be written in %q", owner, l)
	case "hashtags":
		if reset {
			cur.Hashtags, done = nil, owner+" hashtag count is back to the network's default"
			break
		}
		n, err := ParseHashtags(arg)
		if err != nil {
			return Reply{Text: fmt.Sprintf("Please give a number from 0 to %d, e.g. /hashtags 5. See /help.", MaxHashtags)}
		}
		cur.Hashtags, done = &n, fmt.Sprintf("%s posts will get up to %d hashtags", owner, n)
	}
	if err := s.prefs.Set(ctx, key, cur); err != nil {
		s.log().Error("save settings", "key", key.String(), "err", err)
		return Reply{Text: "Sorry, I couldn't save that. Please try again later."}
	}
	return Reply{Text: "Done: " + done + ".", Changed: true}
}

func (s *Service) settingPrompt(name string, eff Settings) Reply {
	switch name {
	case "network":
		return Reply{Text: "Current network: " + NetworkTitle(eff.Network) + ". Choose one:",
			Choices: &Choices{Setting: "network", Values: Networks, Current: eff.Network}}
	case "tone":
		cur := eff.Tone
		if cur == "" {
			cur = "the network's default"
		}
		return Reply{Text: "Current tone: " + cur + ". Choose one:",
			Choices: &Choices{Setting: "tone", Values: Tones, Current: eff.Tone}}
	case "lang":
		return Reply{Text: "Current language: " + eff.Language + ". Send /lang CODE with a two-letter code, e.g. /lang de."}
	default:
		cur := "the network's default"
		if eff.Hashtags != nil {
			cur = strconv.Itoa(*eff.Hashtags)
		}
		return Reply{Text: fmt.Sprintf("Current hashtag count: %s. Send /hashtags N with N from 0 to %d.", cur, MaxHashtags)}
	}
}
