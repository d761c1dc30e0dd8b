package captioner

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/captioner/ground"
)

// TestShippedModelGroundsPhotos: with the committed models, the caption of
// each sample photo names what is in it and nothing the decoder made up,
// and raw_caption keeps the decoder's own sentence, with either encoder.
func TestShippedModelGroundsPhotos(t *testing.T) {
	for _, enc := range []string{EncoderFloat, EncoderInt8} {
		t.Run(enc, func(t *testing.T) { testGroundsPhotos(t, shippedCaptionerWith(t, enc)) })
	}
}

func testGroundsPhotos(t *testing.T, c *Captioner) {
	if c.det == nil || c.words == nil {
		t.Skip("skipping: models/ lacks detector.onnx or words.onnx")
	}
	for _, tc := range []struct {
		photo     string
		want, not []string // COCO classes the caption must and must not name
	}{
		{"giraffe.jpg", []string{"giraffe"}, []string{"dog", "person"}},
		{"eagle.jpg", []string{"bird"}, []string{"dog"}},
		{"dog.jpg", []string{"dog"}, []string{"sports ball", "person"}},
	} {
		d, err := c.Describe(context.Background(), readPhoto(t, tc.photo))
		if err != nil {
			t.Fatalf("%s: %v", tc.photo, err)
		}
		t.Logf("%s: %q (decoder: %q)", tc.photo, d.Caption, d.RawCaption)
		if d.RawCaption == "" || d.RawCaption == d.Caption {
			t.Errorf("%s: raw caption %q should be the decoder's, unlike the grounded one", tc.photo, d.RawCaption)
		}
		named := ground.Classes(d.Caption)
		for _, w := range tc.want {
			if !contains(named, w) {
				t.Errorf("%s: caption %q does not name %s", tc.photo, d.Caption, w)
			}
		}
		for _, w := range tc.not {
			if contains(named, w) {
				t.Errorf("%s: caption %q names %s, which is not in the photo", tc.photo, d.Caption, w)
			}
		}
		if len(d.Subjects) == 0 {
			t.Errorf("%s: no subjects", tc.photo)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestGroundsBadInput: a grey photo, a 1×4000 strip and a photo of text get
// an honest, short caption and no crash.
func TestGroundsBadInput(t *testing.T) {
	c := shippedCaptioner(t)
	for name, data := range map[string][]byte{
		"grey":  encodePNG(t, solid(640, 480, 128)),
		"strip": encodePNG(t, solid(1, 4000, 200)),
		"text":  encodePNG(t, textLike(800, 300)),
	} {
		d, err := c.Describe(context.Background(), data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %q (decoder: %q)", name, d.Caption, d.RawCaption)
		if len(strings.Fields(d.Caption)) > 12 {
			t.Errorf("%s: caption %q is long for a photo of nothing", name, d.Caption)
		}
		for _, c := range ground.Classes(d.Caption) {
			if c == "person" || c == "dog" {
				t.Errorf("%s: caption %q names a %s", name, d.Caption, c)
			}
		}
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func solid(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// textLike is black lines of glyph-sized blocks on white, like a page.
func textLike(w, h int) *image.Gray {
	img := solid(w, h, 250)
	for y := 20; y+14 < h; y += 30 {
		for x := 20; x+8 < w-20; x += 12 {
			if (x/12+y/30)%7 == 3 {
				continue // a space between words
			}
			for dy := range 14 {
				for dx := range 8 {
					img.SetGray(x+dx, y+dy, color.Gray{Y: 20})
				}
			}
		}
	}
	return img
}
