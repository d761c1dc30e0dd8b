package metrics

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTokenFile(t *testing.T) {
	in := "1000268201_693b08cb0e.jpg#0\tA child in a pink dress .\r\n" +
		"1000268201_693b08cb0e.jpg#1\tA girl going into a wooden building .\n" +
		"\n" +
		"2258277193_586949ec62.jpg.1#0\tpeople waiting for the subway\n" +
		"no tab here\n" +
		"3.jpg#x\tbad number\n" +
		"4.jpg#0\t   \n" +
		"1001773457_577c3a7d70.jpg#0\tA black dog and a spotted dog are fighting\n"
	caps, skipped, err := ReadTokenFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"1000268201_693b08cb0e.jpg": {"A child in a pink dress .", "A girl going into a wooden building ."},
		"1001773457_577c3a7d70.jpg": {"A black dog and a spotted dog are fighting"},
	}
	if diff := cmp.Diff(want, caps); diff != "" {
		t.Errorf("captions (-want +got):\n%s", diff)
	}
	wantSkipped := []string{"2258277193_586949ec62.jpg.1#0", "no tab here", "3.jpg#x", "4.jpg#0"}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestReadTokenFileEmpty(t *testing.T) {
	_, _, err := ReadTokenFile(strings.NewReader("garbage\n"))
	if !errors.Is(err, ErrNoCaptions) {
		t.Errorf("err = %v, want ErrNoCaptions", err)
	}
}

func TestReadSplitFile(t *testing.T) {
	names, err := ReadSplitFile(strings.NewReader("a.jpg\n\n b.jpg \r\na.jpg\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a.jpg", "b.jpg"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if _, err := ReadSplitFile(strings.NewReader("a.jpg\nnot an image\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: err = %v, want an error naming line 2", err)
	}
}

func FuzzReadTokenFile(f *testing.F) {
	f.Add("1.jpg#0\ta dog\n2.jpg.1#0\tx\n")
	f.Add("#\t\n\t#\n")
	f.Fuzz(func(t *testing.T, in string) {
		caps, _, err := ReadTokenFile(strings.NewReader(in))
		if err == nil && len(caps) == 0 {
			t.Error("no error but no captions")
		}
		for name, cs := range caps {
			if !isImageName(name) || len(cs) == 0 {
				t.Errorf("bad entry %q: %q", name, cs)
			}
		}
	})
}
