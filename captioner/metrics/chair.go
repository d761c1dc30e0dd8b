package metrics

import "github.com/captionbot/captionbot/captioner/ground"

// CHAIR is object hallucination after Rohrbach et al. 2018 ("Object
// hallucination in image captioning"), with the reference captions as the
// ground truth: a caption's object words are mapped to COCO classes (man,
// woman, boy and girl are all "person"; package ground's vocabulary), and a
// class is hallucinated when no reference caption of the image names it.
type CHAIR struct {
	// Sentences is CHAIRs: the share of captions that name at least one
	// hallucinated class.
	Sentences float64
	// Instances is CHAIRi: the share of named classes (each counted once
	// per caption) that are hallucinated.
	Instances float64
	// Mentions is the number of classes named over all captions.
	Mentions int
}

// ComputeCHAIR scores candidates (image → caption) against references
// (image → captions); images without a candidate are skipped.
func ComputeCHAIR(cands map[string]string, refs map[string][]string) CHAIR {
	var captions, bad, mentions, hallucinated int
	for img, cand := range cands {
		truth := map[string]bool{}
		for _, r := range refs[img] {
			for _, c := range ground.Classes(r) {
				truth[c] = true
			}
		}
		captions++
		any := false
		for _, c := range ground.Classes(cand) {
			mentions++
			if !truth[c] {
				hallucinated++
				any = true
			}
		}
		if any {
			bad++
		}
	}
	var s CHAIR
	s.Mentions = mentions
	if captions > 0 {
		s.Sentences = float64(bad) / float64(captions)
	}
	if mentions > 0 {
		s.Instances = float64(hallucinated) / float64(mentions)
	}
	return s
}
