package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultWordNetDir is where Debian's wordnet-base package puts the WordNet
// 3.0 database.
const DefaultWordNetDir = "/usr/share/wordnet"

// ErrNoWordNet means the WordNet database files are not in the directory.
var ErrNoWordNet = errors.New("wordnet database not found")

// WordNet is the part of the WordNet database METEOR's synonym module needs:
// the synsets of every single-word lemma and the irregular inflections.
type WordNet struct {
	synsets    map[string][]uint64 // lemma -> synset keys (part of speech and offset)
	exceptions map[string][]string // inflected form -> base forms
}

// wordNetPOS lists the database files by part of speech.
var wordNetPOS = []struct {
	name string
	tag  uint64
}{{"noun", 1}, {"verb", 2}, {"adj", 3}, {"adv", 4}}

// LoadWordNet reads index.{noun,verb,adj,adv} and the matching .exc files
// from dir. It returns an error wrapping ErrNoWordNet when the index files
// are missing, so callers can fall back to exact and stem matching.
func LoadWordNet(dir string) (*WordNet, error) {
	wn := &WordNet{synsets: map[string][]uint64{}, exceptions: map[string][]string{}}
	for _, pos := range wordNetPOS {
		if err := wn.readIndex(filepath.Join(dir, "index."+pos.name), pos.tag); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w in %s: %v", ErrNoWordNet, dir, err)
			}
			return nil, err
		}
		err := wn.readExceptions(filepath.Join(dir, pos.name+".exc"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(wn.synsets) == 0 {
		return nil, fmt.Errorf("%w in %s: index files are empty", ErrNoWordNet, dir)
	}
	return wn, nil
}

// readIndex adds the synsets of one index file. A line is
// "lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt offset..."
// and license lines start with spaces.
func (wn *WordNet) readIndex(path string, tag uint64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || text[0] == ' ' {
			continue
		}
		fields := strings.Fields(text)
		lemma := fields[0]
		if strings.ContainsAny(lemma, "_-") {
			continue // multi-word lemmas never match a single token
		}
		if len(fields) < 4 {
			return fmt.Errorf("%s:%d: malformed index line", path, line)
		}
		nSynsets, err1 := strconv.Atoi(fields[2])
		nPtrs, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil || nSynsets < 0 || nPtrs < 0 || len(fields) < 6+nPtrs+nSynsets {
			return fmt.Errorf("%s:%d: malformed index line", path, line)
		}
		for _, off := range fields[6+nPtrs : 6+nPtrs+nSynsets] {
			o, err := strconv.ParseUint(off, 10, 32)
			if err != nil {
				return fmt.Errorf("%s:%d: bad synset offset %q", path, line, off)
			}
			wn.synsets[lemma] = append(wn.synsets[lemma], tag<<32|o)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// readExceptions reads "form base [base...]" lines.
func (wn *WordNet) readExceptions(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		wn.exceptions[fields[0]] = append(wn.exceptions[fields[0]], fields[1:]...)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// Morphological detachment rules of WordNet's morphy (noun, verb, adjective),
// applied in this order as METEOR's synonym dictionary does.
var morphRules = []struct{ suffix, ending string }{
	{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"},
	{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""},
	{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"},
}

// baseForm returns the first form made by a detachment rule that is a WordNet
// lemma, or "" if none is.
func (wn *WordNet) baseForm(word string) string {
	if strings.HasSuffix(word, "ss") || len(word) <= 2 {
		return word
	}
	for _, r := range morphRules {
		if !strings.HasSuffix(word, r.suffix) {
			continue
		}
		base := word[:len(word)-len(r.suffix)] + r.ending
		if _, ok := wn.synsets[base]; ok {
			return base
		}
	}
	return ""
}

// Synsets returns the synsets of word and of its base forms (irregular forms
// from the exception lists, otherwise the first base form the detachment
// rules find): two words are METEOR synonyms when these sets intersect.
func (wn *WordNet) Synsets(word string) map[uint64]bool {
	set := map[uint64]bool{}
	for _, s := range wn.synsets[word] {
		set[s] = true
	}
	bases, ok := wn.exceptions[word]
	if !ok {
		bases = []string{wn.baseForm(word)}
	}
	for _, b := range bases {
		for _, s := range wn.synsets[b] {
			set[s] = true
		}
	}
	return set
}
