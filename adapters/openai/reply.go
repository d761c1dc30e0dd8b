package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/captionbot/captionbot/bot"
)

// parseReply reads the model's answer into a draft. A JSON answer keeps only
// the schema's fields (caption, hashtags, alt_text); an answer that starts as
// JSON but does not parse is malformed; anything else is read as plain text
// (see parsePlain).
func parseReply(content string) (bot.Post, error) {
	s := strings.TrimSpace(content)
	s = trimFence(s)
	if s == "" {
		return bot.Post{}, fmt.Errorf("openai: %w: empty answer", ErrBadReply)
	}
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		return parseJSON(s)
	}
	return parsePlain(s), nil
}

// trimFence removes a Markdown code fence around the answer.
func trimFence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if i := strings.IndexByte(s, '\n'); i >= 0 && !strings.Contains(s[:i], "{") {
		s = s[i+1:] // the fence's language tag, e.g. "json"
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
}

func parseJSON(s string) (bot.Post, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&fields); err != nil {
		return bot.Post{}, fmt.Errorf("openai: %w: malformed JSON", ErrBadReply)
	}
	var p bot.Post
	// Models sometimes quote the caption inside the JSON string.
	p.Body = unquote(jsonString(fields["caption"]))
	p.AltText = unquote(jsonString(fields["alt_text"]))
	if p.AltText == "" {
		p.AltText = unquote(jsonString(fields["alt"]))
	}
	p.Hashtags = jsonStrings(fields["hashtags"])
	if strings.TrimSpace(p.Body) == "" {
		return bot.Post{}, fmt.Errorf("openai: %w: no caption", ErrBadReply)
	}
	return p, nil
}

// jsonString decodes a JSON string; anything else is "".
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// jsonStrings decodes a list of strings, or one string of space- or
// comma-separated hashtags; other values give none.
func jsonStrings(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, item := range list {
			if s := jsonString(item); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return splitTags(jsonString(raw))
}

func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// parsePlain reads a plain-text answer: a line starting "Alt text:" is the
// alt text, a line starting "Hashtags:" or made only of #words gives the
// hashtags, a "Caption:" prefix is dropped, and the other lines are the
// caption. Surrounding quotes are removed.
func parsePlain(s string) bot.Post {
	var p bot.Post
	var caption []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		label, rest, hasLabel := strings.Cut(line, ":")
		label = strings.ToLower(strings.Trim(strings.TrimSpace(label), "*_ "))
		rest = strings.TrimLeft(rest, "*_ ") // "**Caption:** text"
		switch {
		case hasLabel && (label == "alt text" || label == "alt" || label == "alt_text"):
			p.AltText = unquote(rest)
		case hasLabel && label == "hashtags":
			p.Hashtags = append(p.Hashtags, splitTags(rest)...)
		case hasLabel && (label == "caption" || label == "post"):
			caption = append(caption, unquote(rest))
		case onlyHashtags(line):
			p.Hashtags = append(p.Hashtags, strings.Fields(line)...)
		default:
			caption = append(caption, line)
		}
	}
	p.Body = unquote(strings.TrimSpace(strings.Join(caption, "\n")))
	return p
}

func onlyHashtags(line string) bool {
	fields := strings.Fields(line)
	for _, f := range fields {
		if !strings.HasPrefix(f, "#") {
			return false
		}
	}
	return len(fields) > 0
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"'", "'"}} {
		if len(s) >= len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
			return strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
		}
	}
	return s
}
