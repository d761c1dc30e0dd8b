package metrics

import "strings"

// functionWords are the English words METEOR weighs with 1-δ instead of δ.
// METEOR 1.5 ships a frequency-derived list of 93 words (it includes "two"
// and "people") that no source we could read contains; this is our own list of English closed-class words (articles, determiners,
// pronouns, prepositions, conjunctions, auxiliaries and particles) in the
// tokenised form Tokenize produces (apostrophes removed; contractions that
// collide with content words, such as "shell" or "well", are left out).
var functionWords = func() map[string]bool {
	const words = `
a an the this that these those some any each every either neither no another
such what which whose whatever whichever all both few many much more most
several other others own same
i me my mine myself you your yours yourself yourselves he him his himself she
her hers herself it its itself we us our ours ourselves they them their
theirs themselves one ones who whom whoever someone somebody something
anyone anybody anything everyone everybody everything nobody nothing none
aboard about above across after against along amid among around as at
before behind below beneath beside besides between beyond but by despite
down during except for from in inside into like near of off on onto out
outside over past per since than through throughout till to toward towards
under underneath unlike until up upon via with within without
and or nor so yet if then else because although though while whereas unless
whether once when whenever where wherever how why
am is are was were be been being do does did doing done have has had having
can could may might must shall should will would ought
im youre hes shes theyre ive youve weve theyve youd theyd youll theyll isnt arent wasnt werent dont
doesnt didnt havent hasnt hadnt cant couldnt wont wouldnt shouldnt mustnt
lets thats theres whats whos
not very too also just only even still again ever never here there now
s t
`
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}()
