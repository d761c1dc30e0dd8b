package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNoCaptions means a token file held no usable caption line.
var ErrNoCaptions = errors.New("no captions found")

// ReadTokenFile reads a Flickr8k token file, lines of
// "name.jpg#k<TAB>caption", into image name -> captions (in file order).
// Lines whose key is malformed — no tab, no "#k" with a number k, or a name
// that does not end in .jpg/.jpeg/.png such as "2258277193_586949ec62.jpg.1"
// — are skipped and their keys returned in skipped. Blank lines are ignored.
func ReadTokenFile(r io.Reader) (captions map[string][]string, skipped []string, err error) {
	captions = map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, caption, ok := strings.Cut(line, "\t")
		name, num, hasNum := strings.Cut(key, "#")
		if _, nErr := strconv.Atoi(num); !ok || !hasNum || nErr != nil || !isImageName(name) || strings.TrimSpace(caption) == "" {
			skipped = append(skipped, key)
			continue
		}
		captions[name] = append(captions[name], strings.TrimSpace(caption))
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read token file: %w", err)
	}
	if len(captions) == 0 {
		return nil, skipped, ErrNoCaptions
	}
	return captions, skipped, nil
}

// ReadSplitFile reads a split file: one image name per line. Blank lines are
// ignored and surrounding spaces trimmed; duplicates are kept once.
func ReadSplitFile(r io.Reader) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		name := strings.TrimSpace(sc.Text())
		if name == "" || seen[name] {
			continue
		}
		if !isImageName(name) || strings.ContainsAny(name, " \t/\\") {
			return nil, fmt.Errorf("split file line %d: %q is not an image file name", line, name)
		}
		seen[name] = true
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read split file: %w", err)
	}
	return names, nil
}

func isImageName(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".jpg", ".jpeg", ".png"} {
		if strings.HasSuffix(n, ext) && len(n) > len(ext) {
			return true
		}
	}
	return false
}
