// Command refclasses writes, for every Flickr8k image, the COCO classes each
// reference caption names (package ground's vocabulary), as JSON on stdout:
// the class targets of the word detectors (models/train/words.py). With
// -vocab it writes instead the class of every word of a decoder vocabulary
// and of every pair of them that names one ("hot dog"), for the
// hallucination term of the self-critical reward (models/train/scst.py).
//
//	go run ./models/train/refclasses ../shared/flickr8k/Flickr8k.token.txt > models/train/cache/ref_classes.json
//	go run ./models/train/refclasses -vocab models/vocab.txt > models/train/cache/vocab_classes.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/captionbot/captionbot/captioner/ground"
	"github.com/captionbot/captionbot/captioner/metrics"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-vocab" {
		if err := vocabClasses(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: refclasses TOKENFILE | refclasses -vocab VOCAB.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	all, _, err := metrics.ReadTokenFile(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string][][]string{}
	for img, caps := range all {
		for _, c := range caps {
			out[img] = append(out[img], ground.Classes(c))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// vocabClasses writes {"words": {word: class}, "pairs": {"w1 w2": class}}
// for the words of the vocabulary file (one per line), as ground.Classes
// reads them in a sentence: a pair is listed when it names a class as one
// noun phrase ("teddy bear", "hot dogs").
func vocabClasses(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	words := strings.Fields(string(raw))
	out := struct {
		Words map[string]string `json:"words"`
		Pairs map[string]string `json:"pairs"`
	}{map[string]string{}, map[string]string{}}
	for _, w := range words {
		if cs := ground.Classes("a " + w); len(cs) == 1 {
			out.Words[w] = cs[0]
		}
	}
	for _, a := range words {
		for _, b := range words {
			if c, ok := ground.Thing(a + " " + b); ok && strings.Contains(a+" "+b, " ") {
				if cs := ground.Classes("a " + a + " " + b); len(cs) == 1 && cs[0] == c {
					out.Pairs[a+" "+b] = c
				}
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
