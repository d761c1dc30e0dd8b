// Command refclasses writes, for every Flickr8k image, the COCO classes each
// reference caption names (package ground's vocabulary), as JSON on stdout:
// the class targets of the word detectors (models/train/words.py).
//
//	go run ./models/train/refclasses ../shared/flickr8k/Flickr8k.token.txt > models/train/cache/ref_classes.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/captionbot/captionbot/captioner/ground"
	"github.com/captionbot/captionbot/captioner/metrics"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: refclasses TOKENFILE")
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
