package refiner

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FixCaption turns a captioner's raw sentence ("a dog run through the
// grass") into a clean one: decoder tokens such as <unk> dropped, repeated
// words and phrases collapsed, "laying on" made "lying on", "a"/"an" chosen by the next word's sound, "i" capitalised,
// the first letter capitalised and a full stop added. It returns "" for a
// caption with no words.
func FixCaption(raw string) string {
	phrase := fixPhrase(raw)
	if phrase == "" {
		return ""
	}
	return sentence(phrase)
}

// fixPhrase is FixCaption without the capital and the full stop.
func fixPhrase(raw string) string {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(raw)) {
		w = strings.Trim(w, ".,;:!? ")
		switch w {
		case "", "<unk>", "<start>", "<end>", "<pad>", "<s>", "</s>", "unk":
			continue
		}
		if w == "i" {
			w = "I"
		}
		words = append(words, w)
		words = dropRepeat(words)
	}
	for i := 0; i+1 < len(words); i++ {
		switch {
		case words[i] == "a" || words[i] == "an":
			words[i] = article(words[i+1])
		case words[i] == "laying" && lieWords[words[i+1]]:
			words[i] = "lying" // "a cat laying on a bed": nothing is laid
		}
	}
	if n := len(words); n > 0 && words[n-1] == "laying" {
		words[n-1] = "lying"
	}
	return strings.Join(words, " ")
}

// maxRepeat is the longest run of words a decoder stutters: "a dog a dog".
const maxRepeat = 3

// dropRepeat removes the last k words when they repeat the k before them
// ("a a dog" → "a dog", "a dog a dog" → "a dog"), for k up to maxRepeat.
func dropRepeat(words []string) []string {
	n := len(words)
	for k := 1; k <= maxRepeat && 2*k <= n; k++ {
		if slices.Equal(words[n-2*k:n-k], words[n-k:]) {
			return words[:n-k]
		}
	}
	return words
}

// lieWords follow "laying" when the decoder means "lying".
var lieWords = wordSet(strings.Fields("on in down next under by at across against beside near upon atop inside outside around together there back beneath between among underneath"))

// sentence capitalises a phrase and ends it with a full stop unless it
// already ends a sentence.
func sentence(phrase string) string {
	phrase = capital(strings.TrimSpace(phrase))
	if phrase == "" {
		return ""
	}
	if r, _ := utf8.DecodeLastRuneInString(phrase); !strings.ContainsRune(".!?…", r) {
		phrase += "."
	}
	return phrase
}

// capital upper-cases the first letter of s.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// article returns "a" or "an" for the word that follows. English spelling
// does not give the sound, so the usual exceptions are listed.
func article(next string) string {
	w := strings.ToLower(next)
	for _, p := range consonantSoundPrefixes {
		if strings.HasPrefix(w, p) {
			return "a"
		}
	}
	for _, p := range vowelSoundPrefixes {
		if strings.HasPrefix(w, p) {
			return "an"
		}
	}
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an"
	}
	return "a"
}

var (
	// Vowel letters with a consonant sound: "a unicorn", "a one-way street".
	consonantSoundPrefixes = []string{"uni", "use", "usu", "uti", "uto", "ure", "uro", "eu", "ewe", "one", "once", "ufo", "uk", "uga"}
	// Consonant letters with a vowel sound: "an hour", "an honest face".
	vowelSoundPrefixes = []string{"hour", "honest", "honor", "honour", "heir"}
)
