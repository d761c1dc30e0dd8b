package metrics

// Porter's stemmer (M.F. Porter, "An algorithm for suffix stripping", 1980),
// as in his reference C implementation, including its two published
// departures from the paper ("bli" -> "ble" instead of "abli" -> "able", and
// the extra rule "logi" -> "log") and leaving words of one or two letters
// alone. Written here because no maintained Go module offers the original
// algorithm with a stable API; it is small, has no state beyond one word, and
// its behaviour is pinned by the classic vocabulary samples in the tests.

// Stem returns the Porter stem of a lowercase ASCII word. Words with bytes
// outside 'a'..'z' are returned unchanged.
func Stem(word string) string {
	if len(word) <= 2 {
		return word
	}
	for i := 0; i < len(word); i++ {
		if word[i] < 'a' || word[i] > 'z' {
			return word
		}
	}
	s := &porter{b: []byte(word), k: len(word) - 1}
	s.step1ab()
	if s.k > 0 {
		s.step1c()
		s.step2()
		s.step3()
		s.step4()
		s.step5()
	}
	return string(s.b[:s.k+1])
}

// porter holds the word being stemmed: b[0..k] is the current word and j
// marks the end of the stem when a suffix test succeeds.
type porter struct {
	b    []byte
	k, j int
}

// cons reports whether b[i] is a consonant.
func (s *porter) cons(i int) bool {
	switch s.b[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !s.cons(i-1)
	}
	return true
}

// m measures the number of consonant sequences in b[0..j]: for [C](VC)^m[V]
// it returns m, the number of places where a consonant follows a vowel.
func (s *porter) m() int {
	n, afterVowel := 0, false
	for i := 0; i <= s.j; i++ {
		c := s.cons(i)
		if c && afterVowel {
			n++
		}
		afterVowel = !c
	}
	return n
}

// vowelInStem reports whether b[0..j] contains a vowel.
func (s *porter) vowelInStem() bool {
	for i := 0; i <= s.j; i++ {
		if !s.cons(i) {
			return true
		}
	}
	return false
}

// doubleC reports whether b[i-1..i] is a double consonant.
func (s *porter) doubleC(i int) bool {
	return i >= 1 && s.b[i] == s.b[i-1] && s.cons(i)
}

// cvc reports whether b[i-2..i] is consonant-vowel-consonant with the last
// consonant not w, x or y (e.g. hop, not snow or box).
func (s *porter) cvc(i int) bool {
	if i < 2 || !s.cons(i) || s.cons(i-1) || !s.cons(i-2) {
		return false
	}
	switch s.b[i] {
	case 'w', 'x', 'y':
		return false
	}
	return true
}

// ends reports whether b[0..k] ends with suffix, and if so sets j to the end
// of the remaining stem.
func (s *porter) ends(suffix string) bool {
	n := len(suffix)
	if n > s.k+1 || string(s.b[s.k+1-n:s.k+1]) != suffix {
		return false
	}
	s.j = s.k - n
	return true
}

// setTo replaces b[j+1..k] with r.
func (s *porter) setTo(r string) {
	s.b = append(s.b[:s.j+1], r...)
	s.k = s.j + len(r)
}

// replaceIfMeasured sets the suffix to r when the stem's measure is positive.
func (s *porter) replaceIfMeasured(r string) {
	if s.m() > 0 {
		s.setTo(r)
	}
}

// step1ab removes plurals and -ed or -ing:
// caresses -> caress, ponies -> poni, cats -> cat, feed -> feed,
// agreed -> agree, plastered -> plaster, motoring -> motor, sing -> sing,
// conflated -> conflate, hopping -> hop, filing -> file.
func (s *porter) step1ab() {
	if s.b[s.k] == 's' {
		switch {
		case s.ends("sses"):
			s.k -= 2
		case s.ends("ies"):
			s.setTo("i")
		case s.b[s.k-1] != 's':
			s.k--
		}
	}
	if s.ends("eed") {
		if s.m() > 0 {
			s.k--
		}
		return
	}
	if !((s.ends("ed") || s.ends("ing")) && s.vowelInStem()) {
		return
	}
	s.k = s.j
	switch {
	case s.ends("at"):
		s.setTo("ate")
	case s.ends("bl"):
		s.setTo("ble")
	case s.ends("iz"):
		s.setTo("ize")
	case s.doubleC(s.k):
		s.k--
		switch s.b[s.k] {
		case 'l', 's', 'z':
			s.k++
		}
	default:
		s.j = s.k
		if s.m() == 1 && s.cvc(s.k) {
			s.setTo("e")
		}
	}
}

// step1c turns a final y into i when there is another vowel in the stem.
func (s *porter) step1c() {
	if s.ends("y") && s.vowelInStem() {
		s.b[s.k] = 'i'
	}
}

// suffixRule maps a suffix to its replacement.
type suffixRule struct{ suffix, repl string }

// applyFirst applies the first rule whose suffix matches, if the stem's
// measure allows it; later rules are not tried once a suffix matched.
func (s *porter) applyFirst(rules []suffixRule) {
	for _, r := range rules {
		if s.ends(r.suffix) {
			s.replaceIfMeasured(r.repl)
			return
		}
	}
}

// Rules of step 2 and 3, grouped by the letter the reference implementation
// switches on (the penultimate letter for step 2, the last for step 3).
var (
	step2Rules = map[byte][]suffixRule{
		'a': {{"ational", "ate"}, {"tional", "tion"}},
		'c': {{"enci", "ence"}, {"anci", "ance"}},
		'e': {{"izer", "ize"}},
		'l': {{"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}},
		'o': {{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}},
		's': {{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}},
		't': {{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}},
		'g': {{"logi", "log"}},
	}
	step3Rules = map[byte][]suffixRule{
		'e': {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}},
		'i': {{"iciti", "ic"}},
		'l': {{"ical", "ic"}, {"ful", ""}},
		's': {{"ness", ""}},
	}
	step4Suffixes = map[byte][]string{
		'a': {"al"},
		'c': {"ance", "ence"},
		'e': {"er"},
		'i': {"ic"},
		'l': {"able", "ible"},
		'n': {"ant", "ement", "ment", "ent"},
		's': {"ism"},
		't': {"ate", "iti"},
		'u': {"ous"},
		'v': {"ive"},
		'z': {"ize"},
	}
)

// step2 maps double suffixes to single ones: relational -> relate.
func (s *porter) step2() {
	if rules, ok := step2Rules[s.b[s.k-1]]; ok {
		s.applyFirst(rules)
	}
}

// step3 deals with -ic-, -full, -ness etc.: electrical -> electric.
func (s *porter) step3() {
	if rules, ok := step3Rules[s.b[s.k]]; ok {
		s.applyFirst(rules)
	}
}

// step4 takes off -ant, -ence etc. in context <c>vcvc<v>.
func (s *porter) step4() {
	found := false
	if s.b[s.k-1] == 'o' {
		// -ion only after s or t; -ou as in homologou.
		found = (s.ends("ion") && s.j >= 0 && (s.b[s.j] == 's' || s.b[s.j] == 't')) || s.ends("ou")
	} else {
		for _, suf := range step4Suffixes[s.b[s.k-1]] {
			if s.ends(suf) {
				found = true
				break
			}
		}
	}
	if found && s.m() > 1 {
		s.k = s.j
	}
}

// step5 removes a final -e when m > 1 (or m = 1 and not cvc) and changes
// -ll to -l when m > 1.
func (s *porter) step5() {
	s.j = s.k
	if s.b[s.k] == 'e' {
		a := s.m()
		if a > 1 || (a == 1 && !s.cvc(s.k-1)) {
			s.k--
		}
	}
	if s.b[s.k] == 'l' && s.doubleC(s.k) && s.m() > 1 {
		s.k--
	}
}
