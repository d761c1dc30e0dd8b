//go:build turbojpeg

package captioner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"testing"

	"golang.org/x/image/draw"

	"github.com/captionbot/captionbot/bot"
)

// bigJPEG scales dog.jpg to w×h and encodes it (gray: as a grayscale JPEG).
func bigJPEG(t testing.TB, w, h int, gray bool) []byte {
	t.Helper()
	dog := mustDecode(t, readPhoto(t, "dog.jpg"))
	var m draw.Image = image.NewRGBA(image.Rect(0, 0, w, h))
	if gray {
		m = image.NewGray(image.Rect(0, 0, w, h))
	}
	draw.BiLinear.Scale(m, m.Bounds(), dog, dog.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeImageReducedTurbo: big JPEGs come back at the smallest k/8 size
// with both sides ≥ minSide, and preprocess to nearly what the full-size
// image/jpeg decode gives; small ones decode exactly as DecodeImage.
func TestDecodeImageReducedTurbo(t *testing.T) {
	const minSide = 2 * InputSize
	for _, tc := range []struct {
		name         string
		data         []byte
		wantW, wantH int
		wantType     string
	}{
		{"1024x768 at 5/8", bigJPEG(t, 1024, 768, false), 640, 480, "*image.YCbCr"},
		{"2000x1500 at 3/8", bigJPEG(t, 2000, 1500, false), 750, 563, "*image.YCbCr"},
		{"gray 1600x1200 at 3/8", bigJPEG(t, 1600, 1200, true), 600, 450, "*image.Gray"},
		{"768x576 at 7/8", readPhoto(t, "dog.jpg"), 672, 504, "*image.YCbCr"},
		{"500x400 too small to reduce", bigJPEG(t, 500, 400, false), 500, 400, "*image.YCbCr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeImageReduced(tc.data, minSide)
			if err != nil {
				t.Fatal(err)
			}
			b := got.Bounds()
			if b.Dx() != tc.wantW || b.Dy() != tc.wantH || typeName(got) != tc.wantType {
				t.Fatalf("decoded %T %dx%d, want %s %dx%d", got, b.Dx(), b.Dy(), tc.wantType, tc.wantW, tc.wantH)
			}
			full, _, err := image.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			want, have := make([]float32, InputLen), make([]float32, InputLen)
			Preprocess(full, want)
			Preprocess(got, have)
			var maxd, sum float64
			for i := range want {
				d := math.Abs(float64(have[i] - want[i]))
				maxd, sum = max(maxd, d), sum+d
			}
			mean := sum / InputLen
			t.Logf("input tensor vs full-size decode: max abs diff %.3f, mean %.4f (range -1..1)", maxd, mean)
			if full.Bounds() == b && (maxd != 0) {
				t.Errorf("unreduced decode differs from image/jpeg's (max %g)", maxd)
			}
			// A different low-pass filter before the same resize: edges move
			// by a fraction of a level, nothing more.
			if mean > 0.01 || maxd > 0.25 {
				t.Errorf("reduced decode preprocesses to max %.3f, mean %.4f from the full decode", maxd, mean)
			}
		})
	}
}

func typeName(img image.Image) string {
	switch img.(type) {
	case *image.YCbCr:
		return "*image.YCbCr"
	case *image.RGBA:
		return "*image.RGBA"
	case *image.Gray:
		return "*image.Gray"
	}
	return "other"
}

// TestDecodeImageReducedTurboDamaged: a truncated big JPEG is refused as
// corrupt (libjpeg-turbo's warning sends it to image/jpeg, which reports it).
func TestDecodeImageReducedTurboDamaged(t *testing.T) {
	data := bigJPEG(t, 1600, 1200, false)
	if _, err := DecodeImageReduced(data[:len(data)/2], 2*InputSize); !errors.Is(err, bot.ErrCorruptImage) {
		t.Errorf("truncated JPEG: error %v, want bot.ErrCorruptImage", err)
	}
}

// TestDecodeImageReducedTurboOrientation: the EXIF orientation applies to
// the reduced image as to the full one.
func TestDecodeImageReducedTurboOrientation(t *testing.T) {
	src := mustDecode(t, bigJPEG(t, 1200, 900, false))
	data := jpegWithOrientation(t, src, orientation(6), binary.BigEndian)
	got, err := DecodeImageReduced(data, 2*InputSize)
	if err != nil {
		t.Fatal(err)
	}
	full, err := DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	if g, f := got.Bounds().Size(), full.Bounds().Size(); g != (image.Point{450, 600}) || f != (image.Point{900, 1200}) {
		t.Fatalf("reduced %v, full %v; want 450x600 and 900x1200 (rotated)", g, f)
	}
	want, have := make([]float32, InputLen), make([]float32, InputLen)
	Preprocess(full, want)
	Preprocess(got, have)
	var sum float64
	for i := range want {
		sum += math.Abs(float64(have[i] - want[i]))
	}
	if mean := sum / InputLen; mean > 0.01 {
		t.Errorf("rotated reduced photo preprocesses %.4f (mean) from the full one", mean)
	}
}
