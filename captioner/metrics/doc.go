// Package metrics scores generated captions against human references with
// the measures of the COCO caption evaluation (pycocoevalcap): BLEU-1..4,
// METEOR, ROUGE-L and CIDEr-D, plus the share of distinct captions. It also
// reads the Flickr8k token and split files.
//
// Every measure sees the same tokens (see Tokenize): lowercase words with
// punctuation removed. The package is pure Go; WordNet synonyms for METEOR
// are read from Debian's wordnet-base files when they are installed.
package metrics
