// Package metrics scores generated captions against human references with
// the measures of the COCO caption evaluation (pycocoevalcap): BLEU-1..4,
// METEOR, ROUGE-L and CIDEr-D, plus the share of distinct captions. It also
// reads the Flickr8k token and split files.
//
// # Real-world naming
//
// RealWorldSet is a set of everyday photos annotated with the subjects a
// caption must name and the things it may name (testdata/realworld);
// RealWorldPhoto.Check says which subjects a text names and which absent
// things (ObjectVocabulary, less what the photo allows) it hallucinates.
//
// # Tokens
//
// Every measure sees the same tokens (Tokenize): lowercase words split at
// white space, punctuation and symbols ("dog's" -> "dog s", "t-shirt" ->
// "t shirt"), as the training text cleaning cuts them. pycocoevalcap runs the
// Stanford PTB tokenizer first; its numbers on the same tokens are what we
// reproduce.
//
// # BLEU, ROUGE-L, CIDEr-D
//
// These follow pycocoevalcap's bleu_scorer.py, rouge.py and cider_scorer.py
// to the last digit (the tests check a Flickr8k sample against an
// independent port of them): BLEU is corpus-level with the 'closest'
// reference length and the 1e-9/1e-15 smoothing; ROUGE-L (beta 1.2) takes
// the largest LCS precision and the largest recall over the references;
// CIDEr-D uses n = 1..4, document frequencies from the evaluated images'
// references, clipped candidate weights, the Gaussian length penalty with
// sigma 6 (on bigram counts, as the original) and ×10. ROUGE-L and CIDEr-D
// are means over images.
//
// # METEOR
//
// METEOR 1.5 is a Java program; this is a Go reimplementation of its
// English "default" task as pycocoevalcap calls it (meteor-1.5.jar -l en
// -norm, then EVAL over all images):
//
//   - parameters alpha 0.85, beta 0.2, gamma 0.6, delta 0.75; module weights
//     exact 1.0, stem 0.6, synonym 0.8;
//   - alignment as METEOR's Aligner (meteor-1.5 source): all exact, stem and
//     synonym matches are listed, matches that are the only option for both
//     words are fixed, and a beam search (width 40) over reference positions
//     keeps the alignment with the most exact matches, then the fewest
//     chunks, then the smallest position distance. Two quirks of the Java
//     code are kept because they move scores: the ranking adds the 0.5
//     weight of a stem or synonym match to an int with +=, which truncates
//     it to nothing, so an ambiguous non-exact match that only adds a chunk
//     is left out; and a candidate's distance is added to the path being
//     extended, not to the new one;
//   - stems from Snowball's English (Porter2) stemmer
//     (github.com/kljensen/snowball, checked upstream against Snowball's
//     published vocabulary), as METEOR's englishStemmer;
//   - with several references, each image keeps the statistics of its
//     best-scoring reference, and the corpus score is computed from the sum
//     of those statistics over all images (coco-caption sends one EVAL line
//     with every image's statistics and reads the final, aggregate score),
//     not as a mean of per-image scores.
//
// Differences from the jar that remain, documented because they move scores:
// there is no paraphrase module (its table is not redistributable); the
// function-word list is our own list of English closed-class words (240),
// where METEOR 1.5 ships a frequency-derived list of 93 words
// (function/english.words in the jar) that we could not find in any source
// we can read, so we did not copy or reconstruct it; synonyms come from
// Debian's WordNet 3.0 files rather than METEOR's own synonym file derived
// from WordNet; and the stored Snowball version may differ from the one in
// the 2014 jar on rare words.
//
// Synonyms come from WordNet 3.0 as installed by Debian's wordnet-base
// package (DefaultWordNetDir): two words match when they share a synset,
// looking words up directly and through their base form (WordNet's
// exception lists, else morphy's detachment rules), as METEOR's synonym
// dictionary does. Without the files METEOR runs on exact and stem matches
// only; Scores.METEORModules says which ran.
package metrics
