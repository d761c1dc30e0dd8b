package captioner

import (
	"image"
	"image/color"
	"sync"

	"golang.org/x/image/draw"
)

// Resampling to the encoder's 224×224 input.
//
// The filter is PIL's Image.resize(BILINEAR), the converter's reference: a
// tent whose support widens with the downscale factor, so every source pixel
// counts (no aliasing on big downscales). golang.org/x/image/draw's
// BiLinear kernel computes the same filter (it matched PIL to 1.5e-5), but
// generically: float64 and a colour conversion per tap and per pixel, about
// 3× slower on a 768×576 JPEG. This file is the same filter specialised to
// packed RGB in float32, written here because the per-photo cost matters
// (the target is decoding + preprocessing cheaper than the network).
//
// Photos much larger than the output (a 12-megapixel phone photo is 13×
// too wide) are first box-averaged by an integer factor that keeps at least
// twice the output size, then tent-filtered: the box is cheap (each pixel
// once, integer sums) and the tent over ≥ 2× still antialiases; the result
// differs from a single wide tent only by the slightly different weights.

// rgbImage is packed 8-bit RGB.
type rgbImage struct {
	pix  []uint8
	w, h int
}

// toRGB converts img to packed RGB, averaging k×k blocks (k ≥ 1; edge
// blocks average what they have). Alpha is premultiplied, so transparent
// pixels are black, as draw.Src would give.
func toRGB(img image.Image, k int) rgbImage {
	b := img.Bounds()
	var row func(y int, dst []uint8) // converts source row y to packed RGB
	switch src := img.(type) {
	case *image.YCbCr:
		row = func(y int, dst []uint8) { ycbcrRow(src, y, dst) }
	case *image.RGBA:
		row = func(y int, dst []uint8) {
			p := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < len(dst)/3; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = p[4*x], p[4*x+1], p[4*x+2]
			}
		}
	case *image.NRGBA:
		row = func(y int, dst []uint8) {
			p := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < len(dst)/3; x++ {
				a := uint32(p[4*x+3])
				dst[3*x] = uint8((uint32(p[4*x])*a + 127) / 255)
				dst[3*x+1] = uint8((uint32(p[4*x+1])*a + 127) / 255)
				dst[3*x+2] = uint8((uint32(p[4*x+2])*a + 127) / 255)
			}
		}
	default:
		// Paletted (GIF), grey, CMYK, 16-bit: draw converts them to RGBA.
		m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(m, m.Bounds(), img, b.Min, draw.Src)
		return toRGB(m, k)
	}

	sw, sh := b.Dx(), b.Dy()
	w, h := (sw+k-1)/k, (sh+k-1)/k
	out := rgbImage{pix: make([]uint8, w*h*3), w: w, h: h}
	if k == 1 {
		for y := 0; y < sh; y++ {
			row(b.Min.Y+y, out.pix[y*sw*3:(y+1)*sw*3])
		}
		return out
	}
	if src, ok := img.(*image.YCbCr); ok && chromaShifts(src) != nil {
		ycbcrBox(src, k, out)
		return out
	}
	src := make([]uint8, sw*3)
	sums := make([]uint32, w*3)
	for oy := 0; oy < h; oy++ {
		clear(sums)
		y0, y1 := oy*k, min((oy+1)*k, sh)
		for y := y0; y < y1; y++ {
			row(b.Min.Y+y, src)
			for ox := 0; ox < w; ox++ {
				s := sums[ox*3 : ox*3+3 : ox*3+3]
				for x := ox * k; x < min((ox+1)*k, sw); x++ {
					s[0] += uint32(src[3*x])
					s[1] += uint32(src[3*x+1])
					s[2] += uint32(src[3*x+2])
				}
			}
		}
		dst := out.pix[oy*w*3 : (oy+1)*w*3]
		for ox := 0; ox < w; ox++ {
			n := uint32((y1 - y0) * (min((ox+1)*k, sw) - ox*k))
			for c := 0; c < 3; c++ {
				dst[ox*3+c] = uint8((sums[ox*3+c] + n/2) / n)
			}
		}
	}
	return out
}

// ycbcrBox box-averages a YCbCr image in YCbCr and converts each block
// once: the colour conversion is affine, so averaging before it gives the
// same colours (up to rounding) at a fraction of the cost on big photos.
func ycbcrBox(src *image.YCbCr, k int, out rgbImage) {
	b := src.Bounds()
	sh := chromaShifts(src)
	hshift, vshift := sh[0], sh[1]
	sw := b.Dx()
	sums := make([]uint32, out.w*3)
	cx0 := b.Min.X >> hshift
	for oy := 0; oy < out.h; oy++ {
		clear(sums)
		y0, y1 := b.Min.Y+oy*k, min(b.Min.Y+(oy+1)*k, b.Max.Y)
		for y := y0; y < y1; y++ {
			ys := src.Y[src.YOffset(b.Min.X, y):]
			cy := (y>>vshift - b.Min.Y>>vshift) * src.CStride
			cb, cr := src.Cb[cy:], src.Cr[cy:]
			for ox := 0; ox < out.w; ox++ {
				var sy, scb, scr uint32
				for x := ox * k; x < min((ox+1)*k, sw); x++ {
					ci := (b.Min.X+x)>>hshift - cx0
					sy += uint32(ys[x])
					scb += uint32(cb[ci])
					scr += uint32(cr[ci])
				}
				s := sums[ox*3 : ox*3+3 : ox*3+3]
				s[0], s[1], s[2] = s[0]+sy, s[1]+scb, s[2]+scr
			}
		}
		dst := out.pix[oy*out.w*3 : (oy+1)*out.w*3]
		for ox := 0; ox < out.w; ox++ {
			n := uint32((y1 - y0) * (min((ox+1)*k, sw) - ox*k))
			yy := int32((sums[ox*3]+n/2)/n) * 0x10101
			cb1 := int32((sums[ox*3+1]+n/2)/n) - 128
			cr1 := int32((sums[ox*3+2]+n/2)/n) - 128
			dst[ox*3] = clampShift(yy + 91881*cr1)
			dst[ox*3+1] = clampShift(yy - 22554*cb1 - 46802*cr1)
			dst[ox*3+2] = clampShift(yy + 116130*cb1)
		}
	}
}

// chromaShifts returns the horizontal and vertical chroma subsampling shifts
// of src, or nil for the rare ratios (4:1:1, 4:1:0) left to the standard
// library's indexing.
func chromaShifts(src *image.YCbCr) *[2]uint {
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		return &[2]uint{0, 0}
	case image.YCbCrSubsampleRatio422:
		return &[2]uint{1, 0}
	case image.YCbCrSubsampleRatio420:
		return &[2]uint{1, 1}
	case image.YCbCrSubsampleRatio440:
		return &[2]uint{0, 1}
	}
	return nil
}

// ycbcrRow converts row y of a YCbCr image to packed RGB, with the JFIF
// equations color.YCbCrToRGB uses (same results), inlined: this loop runs
// once per pixel of every photo.
func ycbcrRow(src *image.YCbCr, y int, dst []uint8) {
	b := src.Bounds()
	sh := chromaShifts(src)
	if sh == nil { // 4:1:1, 4:1:0: rare; let the standard library index them
		for x := 0; x < len(dst)/3; x++ {
			yi, ci := src.YOffset(b.Min.X+x, y), src.COffset(b.Min.X+x, y)
			dst[3*x], dst[3*x+1], dst[3*x+2] = color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
		}
		return
	}
	hshift, vshift := sh[0], sh[1]
	ys := src.Y[src.YOffset(b.Min.X, y):]
	cy := (y>>vshift - b.Min.Y>>vshift) * src.CStride
	cb, cr := src.Cb[cy:], src.Cr[cy:]
	cx0 := b.Min.X >> hshift
	for x := 0; x < len(dst)/3; x++ {
		ci := (b.Min.X+x)>>hshift - cx0
		yy := int32(ys[x]) * 0x10101
		cb1, cr1 := int32(cb[ci])-128, int32(cr[ci])-128
		dst[3*x] = clampShift(yy + 91881*cr1)
		dst[3*x+1] = clampShift(yy - 22554*cb1 - 46802*cr1)
		dst[3*x+2] = clampShift(yy + 116130*cb1)
	}
}

// clampShift turns a 16.16 fixed-point value into a byte, clamping to 0..255.
func clampShift(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// tentWeights are the filter taps of one output pixel: source indices
// start..start+len(w)-1.
type tentWeights struct {
	start int
	w     []float32
}

// tentTaps computes PIL's bilinear resampling coefficients for in → out
// samples (ImagingResample's precompute_coeffs with the triangle filter).
func tentTaps(in, out int) []tentWeights {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := filterScale // the triangle's support is 1, widened
	taps := make([]tentWeights, out)
	for o := range taps {
		center := (float64(o) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		w := make([]float32, hi-lo)
		var sum float64
		ws := make([]float64, hi-lo)
		for i := range ws {
			t := (float64(i+lo) - center + 0.5) / filterScale
			if t < 0 {
				t = -t
			}
			if t < 1 {
				ws[i] = 1 - t
			}
			sum += ws[i]
		}
		for i := range ws {
			if sum != 0 {
				w[i] = float32(ws[i] / sum)
			}
		}
		taps[o] = tentWeights{start: lo, w: w}
	}
	return taps
}

// tapCache keeps the coefficients of recent sizes: a bot sees the same
// photo sizes over and over.
var tapCache sync.Map // [2]int{in, out} → []tentWeights

func cachedTaps(in, out int) []tentWeights {
	key := [2]int{in, out}
	if t, ok := tapCache.Load(key); ok {
		return t.([]tentWeights)
	}
	t := tentTaps(in, out)
	tapCache.Store(key, t)
	return t
}

// tmpRows are the vertical pass's float rows, reused between calls.
var tmpRows = sync.Pool{New: func() any { return new([]float32) }}

// resizeToTensor tent-filters src to InputSize×InputSize into dst (HWC,
// values pixel/127.5 - 1): the vertical pass first (it shrinks the most
// data), then the horizontal one.
func resizeToTensor(src rgbImage, dst []float32) {
	vt, ht := cachedTaps(src.h, InputSize), cachedTaps(src.w, InputSize)
	rowLen := src.w * 3
	tp := tmpRows.Get().(*[]float32)
	defer tmpRows.Put(tp)
	if cap(*tp) < InputSize*rowLen {
		*tp = make([]float32, InputSize*rowLen)
	}
	tmp := (*tp)[:InputSize*rowLen]
	clear(tmp)
	for oy, t := range vt {
		row := tmp[oy*rowLen : (oy+1)*rowLen]
		for j, w := range t.w {
			s := src.pix[(t.start+j)*rowLen : (t.start+j+1)*rowLen]
			for i, v := range s {
				row[i] += w * float32(v)
			}
		}
	}
	const scale = 1 / 127.5
	for oy := 0; oy < InputSize; oy++ {
		row := tmp[oy*rowLen : (oy+1)*rowLen]
		out := dst[oy*InputSize*3 : (oy+1)*InputSize*3]
		for ox, t := range ht {
			var r, g, b float32
			s := row[t.start*3 : (t.start+len(t.w))*3]
			for j, w := range t.w {
				p := s[j*3 : j*3+3 : j*3+3]
				r += w * p[0]
				g += w * p[1]
				b += w * p[2]
			}
			out[ox*3] = r*scale - 1
			out[ox*3+1] = g*scale - 1
			out[ox*3+2] = b*scale - 1
		}
	}
}

// boxFactor is the integer pre-shrink for a w×h photo: the largest k that
// keeps both sides at least twice InputSize (1: no pre-shrink).
func boxFactor(w, h int) int {
	return max(1, min(w, h)/(2*InputSize))
}
