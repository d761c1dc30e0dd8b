package captioner

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/captionbot/captionbot/bot"
)

var sentinels = []error{bot.ErrEmptyImage, bot.ErrNotImage, bot.ErrCorruptImage, bot.ErrImageTooLarge, bot.ErrImageTooSmall}

// badImages are inputs DecodeImage must refuse, with the sentinel it wraps.
func badImages(t testing.TB) []struct {
	name string
	data []byte
	want error
} {
	dog := readPhoto(t, "dog.jpg")
	return []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, bot.ErrEmptyImage},
		{"text", []byte("hello, this is not a photo\n"), bot.ErrNotImage},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), bot.ErrNotImage},
		{"jpeg header only", dog[:20], bot.ErrCorruptImage},
		{"truncated jpeg", dog[:len(dog)/2], bot.ErrCorruptImage},
		{"png header claims 60000x60000", pngWithHeader(60000, 60000), bot.ErrImageTooLarge},
		{"jpeg header claims 65535x65535", jpegClaiming(t, 65535, 65535), bot.ErrImageTooLarge},
		{"png with wrong-sized data", pngWithHeader(100, 100), bot.ErrCorruptImage},
		{"gif 0x0", gifZeroByZero(), bot.ErrImageTooSmall},
		{"too many bytes", append([]byte("\xff\xd8"), make([]byte, MaxImageBytes)...), bot.ErrImageTooLarge},
	}
}

// goodImages are inputs DecodeImage must accept, with their upright size.
func goodImages(t testing.TB) []struct {
	name string
	data []byte
	w, h int
} {
	return []struct {
		name string
		data []byte
		w, h int
	}{
		{"png", readTestdata(t, "quadrants.png"), 64, 48},
		{"gif first frame", readTestdata(t, "quadrants.gif"), 64, 48},
		{"webp lossless", readTestdata(t, "quadrants.webp"), 64, 48},
		{"jpeg exif orientation 6", readTestdata(t, "rotated6.jpg"), 64, 48},
		{"jpeg photo", readPhoto(t, "dog.jpg"), 768, 576},
	}
}

func readPhoto(t testing.TB, name string) []byte {
	t.Helper()
	return readTestdata(t, "../../testdata/photos/"+name)
}

func TestDecodeImageRejects(t *testing.T) {
	for _, tc := range badImages(t) {
		t.Run(tc.name, func(t *testing.T) {
			img, err := DecodeImage(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeImage = %v, %v; want an error wrapping %q", img, err, tc.want)
			}
			if img != nil {
				t.Errorf("DecodeImage returned an image with error %v", err)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("error %q also wraps %q", err, s)
				}
			}
		})
	}
}

func TestDecodeImageMessages(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{pngWithHeader(60000, 60000), "60000x60000 pixels, more than 40 megapixels"},
		{[]byte("plain text"), "not a JPEG, PNG, GIF or WebP image"},
		{nil, "empty"},
	} {
		_, err := DecodeImage(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeImage error = %v, want it to say %q", err, tc.want)
		}
	}
}

func TestDecodeImageFormats(t *testing.T) {
	for _, tc := range goodImages(t) {
		t.Run(tc.name, func(t *testing.T) {
			img, err := DecodeImage(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			if tc.w == 64 {
				checkQuadrants(t, img)
			}
		})
	}
}

// checkQuadrants checks the centre of each quadrant of an upright pattern.
func checkQuadrants(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	centres := [4]image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}}
	for q, p := range centres {
		got := color.RGBAModel.Convert(img.At(b.Min.X+p.X, b.Min.Y+p.Y)).(color.RGBA)
		if !near(got, quadrantColors[q], 12) {
			t.Errorf("quadrant %d at %v is %v, want about %v", q, p, got, quadrantColors[q])
		}
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestDecodeImageEXIFOrientations(t *testing.T) {
	up := quadrantPattern(64, 48)
	for o := orientNormal; o <= orientRotate270; o++ {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := jpegWithOrientation(t, storedFor(up, o), o, order)
			img, err := DecodeImage(data)
			if err != nil {
				t.Fatalf("orientation %d: %v", o, err)
			}
			if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
				t.Fatalf("orientation %d (%v): size %v, want 64x48", o, order, b.Size())
			}
			checkQuadrants(t, img)
		}
	}
}

// TestPreprocessOriented: turning the small tensor (what Preprocess does for
// an EXIF-oriented photo) gives the tensor of the photo turned pixel by pixel.
func TestPreprocessOriented(t *testing.T) {
	grad := image.NewRGBA(image.Rect(0, 0, 300, 200))
	draw.Draw(grad, grad.Bounds(), gradient(300, 200), image.Point{}, draw.Src)
	for _, up := range []*image.RGBA{quadrantPattern(300, 200), grad} {
		want := make([]float32, InputLen)
		Preprocess(up, want)
		for o := orientNormal; o <= orientRotate270; o++ {
			got := make([]float32, InputLen)
			Preprocess(&orientedImage{src: storedFor(up, o), o: o}, got)
			if d := maxAbsDiff(got, want); d > 1e-4 {
				t.Errorf("orientation %d: tensor differs from the upright image's by %g", o, d)
			}
		}
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	good := jpegWithOrientation(t, quadrantPattern(8, 8), orientRotate90, binary.LittleEndian)
	if got := jpegOrientation(good); got != orientRotate90 {
		t.Fatalf("jpegOrientation = %d, want 6", got)
	}
	// Every truncation of the EXIF segment must read as "no orientation" or
	// the right one, never panic.
	for n := 0; n < 60; n++ {
		if got := jpegOrientation(good[:n]); got != orientNormal && got != orientRotate90 {
			t.Errorf("truncated to %d bytes: orientation %d", n, got)
		}
	}
	bad := append([]byte{}, good...)
	binary.LittleEndian.PutUint16(bad[2+4+6+8+10:], 9) // value out of range
	if got := jpegOrientation(bad); got != orientNormal {
		t.Errorf("orientation 9 read as %d, want 1", got)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > m {
			m = d
		}
	}
	return m
}

func TestPreprocessRangeAndLayout(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
	}{
		{"rgba 224 fast path", quadrantPattern(InputSize, InputSize)},
		{"rgba resized", quadrantPattern(640, 480)},
		{"ycbcr 224 fast path", toYCbCr(quadrantPattern(InputSize, InputSize))},
		{"ycbcr resized", toYCbCr(quadrantPattern(500, 300))},
		{"paletted", mustDecode(t, readTestdata(t, "quadrants.gif"))},
		{"small upscaled", quadrantPattern(16, 12)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, InputLen)
			Preprocess(tc.img, dst)
			// Pixel (56,56) is in the red quadrant, (168,168) in the white one.
			checkPixel(t, dst, 56, 56, quadrantColors[0])
			checkPixel(t, dst, 168, 56, quadrantColors[1])
			checkPixel(t, dst, 56, 168, quadrantColors[2])
			checkPixel(t, dst, 168, 168, quadrantColors[3])
			for i, v := range dst {
				if v < -1 || v > 1 || math.IsNaN(float64(v)) {
					t.Fatalf("dst[%d] = %g, outside -1..1", i, v)
				}
			}
		})
	}
}

func checkPixel(t *testing.T, dst []float32, x, y int, want color.RGBA) {
	t.Helper()
	i := (y*InputSize + x) * InputChannels
	for c, w := range []uint8{want.R, want.G, want.B} {
		if got := dst[i+c]; math.Abs(float64(got-byteToInput(w))) > 0.05 {
			t.Errorf("pixel (%d,%d) channel %d = %g, want about %g", x, y, c, got, byteToInput(w))
		}
	}
}

func toYCbCr(m image.Image) *image.YCbCr {
	b := m.Bounds()
	y := image.NewYCbCr(b, image.YCbCrSubsampleRatio444)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			r, g, bl, _ := m.At(px, py).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			y.Y[y.YOffset(px, py)], y.Cb[y.COffset(px, py)], y.Cr[y.COffset(px, py)] = yy, cb, cr
		}
	}
	return y
}

func mustDecode(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPreprocessFastPathsMatchResampler: the no-resize fast paths give the
// same tensor as the general resampler.
func TestPreprocessFastPathsMatchResampler(t *testing.T) {
	src := quadrantPattern(InputSize, InputSize)
	for _, img := range []image.Image{src, toYCbCr(src)} {
		fast, slow := make([]float32, InputLen), make([]float32, InputLen)
		Preprocess(img, fast)
		drawScaleToTensor(img, slow)
		if d := maxAbsDiff(fast, slow); d > 2.0/255 {
			t.Errorf("%T: fast path differs from the resampler by %g", img, d)
		}
	}
}

func TestPreprocessShortDstPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Preprocess with a short dst did not panic")
		}
	}()
	Preprocess(quadrantPattern(4, 4), make([]float32, 10))
}

func FuzzDecodeImage(f *testing.F) {
	for _, tc := range badImages(f) {
		if len(tc.data) < 1<<20 {
			f.Add(tc.data)
		}
	}
	for _, tc := range goodImages(f) {
		if len(tc.data) < 1<<16 {
			f.Add(tc.data)
		}
	}
	f.Add(readTestdata(f, "gradient.png"))
	dst := make([]float32, InputLen)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(data)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %q wraps no bot sentinel", err)
		}
		if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > MaxImagePixels {
			t.Fatalf("decoded bounds %v", b)
		}
		Preprocess(img, dst)
	})
}

// TestDecodeImageReducedSmall: photos too small to reduce (and, without the
// turbojpeg build tag, every photo) decode exactly as DecodeImage.
func TestDecodeImageReducedSmall(t *testing.T) {
	cases := map[string][]byte{"rotated6.jpg": readTestdata(t, "rotated6.jpg"), "quadrants.png": readTestdata(t, "quadrants.png")}
	if !TurboJPEGEnabled {
		cases["dog.jpg"] = readPhoto(t, "dog.jpg")
	}
	for name, data := range cases {
		want, have := make([]float32, InputLen), make([]float32, InputLen)
		Preprocess(mustDecode(t, data), want)
		img, err := DecodeImageReduced(data, 2*InputSize)
		if err != nil {
			t.Fatal(err)
		}
		Preprocess(img, have)
		if !slices.Equal(want, have) {
			t.Errorf("%s: DecodeImageReduced preprocesses differently from DecodeImage", name)
		}
	}
}

// TestVerticalTapsMatchesRowByRow: the unrolled vertical pass gives the
// same float32 sums, bit for bit, as adding one row at a time into a
// cleared row, for every tap count a downscale uses.
func TestVerticalTapsMatchesRowByRow(t *testing.T) {
	p := newPlane(37, 90, 1)
	for i := range p.pix {
		p.pix[i] = uint8(i*131 + i/7)
	}
	for _, out := range []int{89, 45, 30, 17, 9, 4, 1} {
		for oy, tw := range tentTaps(p.h, out) {
			want := make([]float32, p.w)
			for j, w := range tw.w {
				for i, v := range p.row(tw.start + j) {
					want[i] += w * float32(v)
				}
			}
			got := make([]float32, p.w)
			p.verticalTaps(got, tw)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d rows → %d, row %d (%d taps), x %d: %v, want %v", p.h, out, oy, len(tw.w), i, got[i], want[i])
				}
			}
		}
	}
}

// TestHorizontalTapsMatchesPlainLoop: four sums side by side, over taps
// padded with zero weights, round as one at a time over the real taps.
func TestHorizontalTapsMatchesPlainLoop(t *testing.T) {
	row := make([]float32, 301)
	for i := range row {
		row[i] = float32(i*37%256) + 0.25
	}
	for _, out := range []int{300, 150, 99, 43, 7, 2} {
		ht := tentTaps(len(row), out)
		got := make([]float32, out)
		horizontalTaps(got, row, padTaps(ht, len(row)))
		for ox, tw := range ht {
			var want float32
			for j, w := range tw.w {
				want += w * row[tw.start+j]
			}
			if math.Float32bits(got[ox]) != math.Float32bits(want) {
				t.Fatalf("%d → %d, x %d: %v, want %v", len(row), out, ox, got[ox], want)
			}
		}
	}
}
