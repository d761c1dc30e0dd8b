package captioner

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"
)

// drawScaleToTensor is the reference resampler for the tests: the same
// filter through golang.org/x/image/draw's generic BiLinear kernel, written
// straight into the tensor through tensorImage (16-bit output rounding only).
func drawScaleToTensor(src image.Image, dst []float32) {
	t := tensorImage(dst)
	draw.BiLinear.Scale(t, t.Bounds(), src, src.Bounds(), draw.Src, nil)
}

// tensorImage is a draw.RGBA64Image whose pixels are the encoder's input
// tensor (InputSize×InputSize, RGB, values in -1..1). Writing to it is all
// draw needs; reading converts back for completeness.
type tensorImage []float32

func (t tensorImage) ColorModel() color.Model { return color.RGBA64Model }
func (t tensorImage) Bounds() image.Rectangle { return image.Rect(0, 0, InputSize, InputSize) }
func (t tensorImage) At(x, y int) color.Color { return t.RGBA64At(x, y) }

func (t tensorImage) RGBA64At(x, y int) color.RGBA64 {
	if !(image.Point{x, y}.In(t.Bounds())) {
		return color.RGBA64{}
	}
	i := (y*InputSize + x) * InputChannels
	back := func(v float32) uint16 { return uint16((v+1)*(65535.0/2) + 0.5) }
	return color.RGBA64{R: back(t[i]), G: back(t[i+1]), B: back(t[i+2]), A: 0xffff}
}

func (t tensorImage) Set(x, y int, c color.Color) {
	r, g, b, _ := c.RGBA()
	t.SetRGBA64(x, y, color.RGBA64{R: uint16(r), G: uint16(g), B: uint16(b)})
}

// SetRGBA64 stores the colour, alpha-premultiplied as draw gives it, so a
// transparent pixel is black.
func (t tensorImage) SetRGBA64(x, y int, c color.RGBA64) {
	if !(image.Point{x, y}.In(t.Bounds())) {
		return
	}
	const scale = 2.0 / 65535
	i := (y*InputSize + x) * InputChannels
	t[i] = float32(c.R)*scale - 1
	t[i+1] = float32(c.G)*scale - 1
	t[i+2] = float32(c.B)*scale - 1
}

// TestResizeMatchesDraw cross-checks resize.go with x/image/draw's BiLinear:
// the same filter, so equal up to rounding without a box pre-shrink, and
// close with one (big photos; the 12-megapixel case is in the benchmarks).
func TestResizeMatchesDraw(t *testing.T) {
	dog := mustDecode(t, readPhoto(t, "dog.jpg"))
	scaled := func(w, h int) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(m, m.Bounds(), dog, dog.Bounds(), draw.Src, nil)
		return m
	}
	var jpeg420 bytes.Buffer
	if err := jpeg.Encode(&jpeg420, scaled(1000, 900), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		img       image.Image
		max, mean float64
	}{
		// JPEGs: the chroma planes are resampled at their own resolution here
		// (smooth, like libjpeg's upsampling), draw repeats each chroma
		// sample (blocky): the two differ at sharp colour edges only.
		{"dog.jpg 768x576 4:2:0", dog, 0.1, 0.003},
		{"rgba 300x1000", scaled(300, 1000), 0.01, 1e-3}, // upscale one axis, downscale the other
		{"rgba 100x80", scaled(100, 80), 0.01, 1e-3},     // upscale both
		// Box pre-shrink, then the tent.
		{"rgba 1800x1350", scaled(1800, 1350), 0.1, 0.01},
		{"ycbcr 4:4:4 960x1200", toYCbCr(scaled(960, 1200)), 0.1, 0.01},
		{"jpeg 4:2:0 1000x900", mustDecode(t, jpeg420.Bytes()), 0.1, 0.01}, // and a pre-shrink
	} {
		got, want := make([]float32, InputLen), make([]float32, InputLen)
		Preprocess(tc.img, got)
		drawScaleToTensor(tc.img, want)
		maxd, mean := diffStats(got, want)
		t.Logf("%s: max abs diff %.2g, mean %.2g", tc.name, maxd, mean)
		if maxd > tc.max || mean > tc.mean {
			t.Errorf("%s: differs from draw.BiLinear by max %g, mean %g", tc.name, maxd, mean)
		}
	}
}

func BenchmarkResizeDraw(b *testing.B) {
	for _, tc := range benchJPEGs(b) {
		img := mustDecode(b, tc.data)
		dst := make([]float32, InputLen)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				drawScaleToTensor(img, dst)
			}
		})
	}
}

// TestPreprocessSubImages: images whose bounds do not start at (0,0) (GIF
// frames, sub-images) give the tensor of the same pixels copied to a fresh
// image.
func TestPreprocessSubImages(t *testing.T) {
	var buf bytes.Buffer
	big := image.NewRGBA(image.Rect(0, 0, 1100, 1000))
	dog := mustDecode(t, readPhoto(t, "dog.jpg"))
	draw.BiLinear.Scale(big, big.Bounds(), dog, dog.Bounds(), draw.Src, nil)
	if err := jpeg.Encode(&buf, big, nil); err != nil {
		t.Fatal(err)
	}
	ycc := mustDecode(t, buf.Bytes()).(*image.YCbCr) // 4:2:0
	nrgba := image.NewNRGBA(big.Bounds())
	draw.Draw(nrgba, nrgba.Bounds(), big, image.Point{}, draw.Src)
	type subImager interface {
		image.Image
		SubImage(image.Rectangle) image.Image
	}
	for _, src := range []subImager{ycc, big, nrgba} {
		for _, r := range []image.Rectangle{
			image.Rect(37, 51, 37+400, 51+300), // no pre-shrink
			image.Rect(40, 52, 40+400, 52+300), // even offsets: YCbCr by planes
			image.Rect(101, 3, 101+999, 3+997), // pre-shrink by 2
			image.Rect(14, 2, 14+999, 2+997),   // the same by planes
			image.Rect(13, 17, 13+224, 17+224), // the size of the tensor
		} {
			sub := src.SubImage(r)
			flat := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
			draw.Draw(flat, flat.Bounds(), sub, r.Min, draw.Src)
			got, want := make([]float32, InputLen), make([]float32, InputLen)
			Preprocess(sub, got)
			Preprocess(flat, want)
			// A one-pixel shift differs by a mean of 0.015 or more. YCbCr
			// by planes resamples chroma smoothly where the RGBA copy
			// repeats it, so its limit on the largest difference is looser.
			maxLimit := 0.03
			if _, ok := src.(*image.YCbCr); ok {
				maxLimit = 0.1
			}
			maxd, mean := diffStats(got, want)
			t.Logf("%T %v: max abs diff %.2g, mean %.2g", src, r, maxd, mean)
			if maxd > maxLimit || mean > 0.003 {
				t.Errorf("%T %v: differs from a copy by max %g, mean %g", src, r, maxd, mean)
			}
		}
	}
}
