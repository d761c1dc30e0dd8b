package captioner

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

// pngClaiming is a PNG whose IHDR claims w×h pixels of the given bit depth
// and colour type, with a tiny IDAT (see pngWithHeader).
func pngClaiming(w, h uint32, depth, colorType byte) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		buf.Write(c)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return buf.Bytes()
}

// withBudget sets the process-wide decode budget for one test.
func withBudget(t testing.TB, n int64) {
	t.Helper()
	old := DecodeBudget()
	SetDecodeBudget(n)
	t.Cleanup(func() { SetDecodeBudget(old) })
}

// The bomb: 40 megapixels at 16 bits decode to 320 MB. It is under
// the pixel cap, so only the memory estimate refuses it, before decoding.
func TestDecodeImageRefusesMemoryBombs(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"16-bit RGB PNG, 40 MP", pngClaiming(7300, 5479, 16, 2)},
		{"16-bit RGBA PNG, 30 MP", pngClaiming(6000, 5000, 16, 6)},
		{"interlaced 8-bit RGBA PNG, 36 MP", func() []byte {
			b := pngClaiming(6000, 6000, 8, 6)
			b[28] = 1 // IHDR interlace method: Adam7
			binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
			return b
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := DecodeImage(tc.data)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, bot.ErrImageTooLarge) {
				t.Fatalf("DecodeImage: %v, want ErrImageTooLarge", err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", d)
			}
		})
	}
	// 8-bit at the same size is fine: 160 MB.
	if _, _, err := decodeHeaderWithin(pngClaiming(7300, 5479, 8, 2)); err != nil {
		t.Errorf("40 MP 8-bit PNG header: %v", err)
	}
}

// decodeHeaderWithin is the check DecodeImageContext makes before waiting.
func decodeHeaderWithin(data []byte) (imageHeader, int64, error) {
	h, err := decodeHeader(data)
	if err != nil {
		return h, 0, err
	}
	limit := min(DecodeBudget(), MaxDecodeBytes)
	if h.cost > limit {
		return h, limit, bot.ErrImageTooLarge
	}
	return h, limit, nil
}

// Decodes share the budget: while one holds its bytes, another that does
// not fit waits, and gives up when its context ends.
func TestDecodeBudgetIsShared(t *testing.T) {
	data := readTestdata(t, "gradient.png")
	h, err := decodeHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	withBudget(t, h.cost+h.cost/2) // room for one decode, not two
	img, release, err := DecodeImageContext(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := DecodeImageContext(ctx, data); !errors.Is(err, context.Canceled) {
		t.Fatalf("second decode while the first holds the budget: %v, want context.Canceled", err)
	}
	Preprocess(img, make([]float32, InputLen))
	release()
	release() // twice is harmless
	_, release2, err := DecodeImageContext(context.Background(), data)
	if err != nil {
		t.Fatalf("decode after release: %v", err)
	}
	release2()
	// The budget is back whole: two fit after both released.
	withBudget(t, 2*h.cost)
	_, r1, err1 := DecodeImageContext(context.Background(), data)
	_, r2, err2 := DecodeImageContext(context.Background(), data)
	if err1 != nil || err2 != nil {
		t.Fatalf("two decodes in a budget for two: %v, %v", err1, err2)
	}
	r1()
	r2()
}

// A photo costing more than the whole budget is refused, not left to wait
// for ever.
func TestDecodeBudgetSmallerThanPhoto(t *testing.T) {
	data := readTestdata(t, "gradient.png")
	h, _ := decodeHeader(data)
	withBudget(t, h.cost-1)
	if _, _, err := DecodeImageContext(context.Background(), data); !errors.Is(err, bot.ErrImageTooLarge) {
		t.Fatalf("got %v, want ErrImageTooLarge", err)
	}
}

// costImages are w×h photos of each decoder and pixel type (the WebP is
// the 64×48 test file).
func costImages(t testing.TB, w, h int) map[string][]byte {
	t.Helper()
	src := gradient(w, h)
	encPNG := func(m image.Image, interlaced bool) []byte {
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	rgba64 := image.NewRGBA64(src.Bounds())
	gray16 := image.NewGray16(src.Bounds())
	gray := image.NewGray(src.Bounds())
	pal := image.NewPaletted(src.Bounds(), palette.WebSafe)
	for y := range h {
		for x := range w {
			c := src.NRGBAAt(x, y)
			rgba64.Set(x, y, color.NRGBA{c.R, c.G, c.B, 255})
			gray16.Set(x, y, c)
			gray.Set(x, y, c)
			pal.Set(x, y, c)
		}
	}
	var jpg420, jpgGray, gifBuf bytes.Buffer
	if err := jpeg.Encode(&jpg420, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpgGray, gray, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"png nrgba":     encPNG(src, false),
		"png rgba64":    encPNG(rgba64, false),
		"png gray16":    encPNG(gray16, false),
		"png gray":      encPNG(gray, false),
		"png paletted":  encPNG(pal, false),
		"jpeg 4:2:0":    jpg420.Bytes(),
		"jpeg gray":     jpgGray.Bytes(),
		"gif":           gifBuf.Bytes(),
		"webp lossless": readTestdata(t, "quadrants.webp"),
	}
}

// decodeAllocs is what decoding and preprocessing data (for the encoder and
// the detector) allocates, in bytes.
func decodeAllocs(t testing.TB, data []byte, dst []float32) (uint64, error) {
	det := make([]float32, 3*detectorBudgetSize*detectorBudgetSize)
	before := heapAllocs()
	img, release, err := DecodeImageContext(context.Background(), data)
	if err == nil {
		Preprocess(img, dst)
		preprocessDetector(img, det, detectorBudgetSize, false)
		release()
	}
	return heapAllocs() - before, err
}

// heapAllocs is the bytes allocated on the heap so far (runtime/metrics:
// cheaper than ReadMemStats, which stops the world).
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// The estimate is an upper bound on what decoding and Preprocess allocate
// (TotalAlloc counts every allocation, freed or not), and not a wild one.
func TestDecodeCostBoundsAllocations(t *testing.T) {
	dst := make([]float32, InputLen)
	// Big enough that the pixels dominate what decoding allocates.
	for name, data := range costImages(t, 1000, 900) {
		t.Run(name, func(t *testing.T) {
			h, err := decodeHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeAllocs(t, data, dst)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%dx%d %v: cost %d, allocated %d", h.cfg.Width, h.cfg.Height, h.format, h.cost, got)
			if int64(got) > h.cost {
				t.Errorf("allocated %d bytes, more than the estimate %d", got, h.cost)
			}
			// The float scratch (the detector's square and tent rows, a
			// JPEG's planes) is pooled, so a warm process often allocates
			// none of it here, and a JPEG takes no whole-photo RGBA copy when
			// nothing shrinks; the estimate must count them all the same.
			d, w := int64(detectorBudgetSize), int64(h.cfg.Width)
			pooled := 2*4*3*d*d + 4*3*d*w + 4*3*InputSize*InputSize + 4*int64(h.cfg.Width*h.cfg.Height)
			if px := int64(h.cfg.Width * h.cfg.Height); px > 1e5 && h.cost > 4*int64(got)+pooled+1<<20 {
				t.Errorf("estimate %d is more than 4× the %d allocated", h.cost, got)
			}
		})
	}
}

// Preprocess converts other pixel types strip by strip; the result is the
// same as converting the whole image first.
func TestShrinkRGBMatchesWholeImage(t *testing.T) {
	src := gradient(1001, 950)
	rgba64 := image.NewRGBA64(src.Bounds())
	for y := range 950 {
		for x := range 1001 {
			rgba64.Set(x, y, src.At(x, y))
		}
	}
	for name, img := range map[string]image.Image{"nrgba": src, "rgba64": rgba64} {
		k := boxFactor(1001, 950, InputSize, InputSize)
		got, want := shrinkRGB(img, k), toRGB(img).shrink(k)
		if got.w != want.w || got.h != want.h || !bytes.Equal(got.pix, want.pix) {
			t.Errorf("%s: shrinkRGB differs from toRGB+shrink", name)
		}
	}
}

// FuzzDecodeBudget: whatever the bytes, decoding and preprocessing allocate
// no more than the estimate the budget was charged, and a refused photo
// allocates almost nothing.
func FuzzDecodeBudget(f *testing.F) {
	// Small seeds: the fuzzer mutates them quickly, and the property does
	// not depend on size.
	for _, data := range costImages(f, 96, 72) {
		f.Add(data)
	}
	for _, tc := range badImages(f) {
		if len(tc.data) < 1<<16 {
			f.Add(tc.data)
		}
	}
	f.Add(pngClaiming(7300, 5479, 16, 2))
	f.Add(pngClaiming(2000, 2000, 16, 6))
	f.Add(pngClaiming(3000, 2000, 8, 3))
	f.Add(jpegClaiming(f, 4000, 3000))
	f.Add(readTestdata(f, "gradient.png"))
	f.Add(readTestdata(f, "quadrants.gif"))
	dst := make([]float32, InputLen)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, herr := decodeHeader(data)
		if herr == nil && h.cost <= MaxDecodeBytes && h.cfg.Width*h.cfg.Height > 1<<20 {
			// Decoding megapixels with coverage counters takes seconds
			// (even of a tiny file claiming them); the refusals above the
			// limit are still fuzzed, and TestDecodeCostBoundsAllocations
			// covers the scaling.
			t.Skip("big photo")
		}
		got, err := decodeAllocs(t, data, dst)
		if herr != nil || h.cost > min(DecodeBudget(), MaxDecodeBytes) {
			if got > 1<<20 {
				t.Fatalf("a photo refused from its header (%v) allocated %d bytes", err, got)
			}
			return
		}
		if int64(got) > h.cost {
			t.Fatalf("%dx%d %s (err %v): allocated %d bytes, estimate %d",
				h.cfg.Width, h.cfg.Height, h.format, err, got, h.cost)
		}
	})
}
