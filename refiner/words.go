package refiner

import (
	"embed"
	"strings"
)

//go:embed words/*.txt
var wordFS embed.FS

// wordList reads an embedded list: one entry a line (several words on a line
// are several entries in stopwords.txt and nouns.txt, one phrase elsewhere), '#' comments.
func wordList(name string, split bool) []string {
	b, err := wordFS.ReadFile("words/" + name)
	if err != nil {
		panic("refiner: embedded " + name + ": " + err.Error())
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.ToLower(strings.TrimSpace(line))
		if line == "" {
			continue
		}
		if split {
			out = append(out, strings.Fields(line)...)
		} else {
			out = append(out, line)
		}
	}
	return out
}

func wordSet(words []string) map[string]bool {
	set := make(map[string]bool, len(words))
	for _, w := range words {
		set[w] = true
	}
	return set
}

var (
	stopWords      = wordSet(wordList("stopwords.txt", true))
	formNouns      = wordSet(wordList("nouns.txt", true))
	bannedTerms    = wordList("banned.txt", false)
	refusalPhrases = wordList("refusals.txt", false)
	sensitiveTerms = wordList("sensitive.txt", false)
)
