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
// BiLinear kernel computes the same filter (it matches PIL to 1.5e-5), but
// generically: float64 and a colour conversion per tap and per pixel, 2-4×
// slower on photos. This file is the same filter specialised to 8-bit
// planes in float32, written here because the per-photo cost matters (the
// target is decoding + preprocessing cheaper than the network).
//
// A JPEG's Y, Cb and Cr planes are resampled separately, each at its own
// resolution (chroma is usually half), and converted to RGB only at
// 224×224: the conversion is affine, so this gives the same colours (up to
// clamping) as converting every source pixel first, at a fraction of the
// cost. Other images are converted to packed RGB, then resampled.
//
// Photos much larger than the output (a 12-megapixel phone photo is 13×
// too wide) are first box-averaged by an integer factor that keeps at least
// twice the output size, then tent-filtered: the box is cheap (each sample
// once, integer sums) and the tent over ≥ 2× still antialiases; the result
// differs from a single wide tent only by slightly different weights.

// plane is 8-bit samples with ch interleaved channels per pixel (1: a Y, Cb
// or Cr plane; 3: packed RGB), rows stride bytes apart.
type plane struct {
	pix          []uint8
	stride, w, h int
	ch           int
}

func newPlane(w, h, ch int) plane {
	return plane{pix: make([]uint8, w*h*ch), stride: w * ch, w: w, h: h, ch: ch}
}

func (p plane) row(y int) []uint8 { return p.pix[y*p.stride : y*p.stride+p.w*p.ch] }

// boxFactor is the integer pre-shrink of a w×h plane resampled to ow×oh:
// the largest k that keeps both sides at least twice the output (1: no
// pre-shrink).
func boxFactor(w, h, ow, oh int) int {
	return max(1, min(w/(2*ow), h/(2*oh)))
}

// shrink box-averages k×k blocks (edge blocks average what they have); k ≤ 1
// returns p.
func (p plane) shrink(k int) plane {
	if k <= 1 {
		return p
	}
	out := newPlane((p.w+k-1)/k, (p.h+k-1)/k, p.ch)
	sums := make([]uint32, out.w*p.ch)
	for oy := 0; oy < out.h; oy++ {
		p.shrinkRows(k, oy*k, min((oy+1)*k, p.h), sums, out.row(oy))
	}
	return out
}

// shrinkRows box-averages rows y0..y1-1 (at most k) into one output row
// dst of (p.w+k-1)/k pixels; sums is scratch of len(dst).
func (p plane) shrinkRows(k, y0, y1 int, sums []uint32, dst []uint8) {
	clear(sums)
	for y := y0; y < y1; y++ {
		r := p.row(y)
		for ox := 0; ox < len(dst)/p.ch; ox++ {
			x0, x1 := ox*k, min((ox+1)*k, p.w)
			if p.ch == 1 {
				var s uint32
				for _, v := range r[x0:x1] {
					s += uint32(v)
				}
				sums[ox] += s
				continue
			}
			var s0, s1, s2 uint32
			for x := x0; x < x1; x++ {
				px := r[3*x : 3*x+3 : 3*x+3]
				s0, s1, s2 = s0+uint32(px[0]), s1+uint32(px[1]), s2+uint32(px[2])
			}
			sums[3*ox], sums[3*ox+1], sums[3*ox+2] = sums[3*ox]+s0, sums[3*ox+1]+s1, sums[3*ox+2]+s2
		}
	}
	for ox := 0; ox < len(dst)/p.ch; ox++ {
		n := uint32((y1 - y0) * (min((ox+1)*k, p.w) - ox*k))
		for c := 0; c < p.ch; c++ {
			dst[ox*p.ch+c] = uint8((sums[ox*p.ch+c] + n/2) / n)
		}
	}
}

// tentWeights are the filter taps of one output sample: source indices
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
		ws := make([]float64, hi-lo)
		var sum float64
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
		w := make([]float32, len(ws))
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

// paddedTapCache is tapCache with every output's taps padded to the same
// count (see padTaps).
var paddedTapCache sync.Map

func cachedPaddedTaps(in, out int) []tentWeights {
	key := [2]int{in, out}
	if t, ok := paddedTapCache.Load(key); ok {
		return t.([]tentWeights)
	}
	t := padTaps(cachedTaps(in, out), in)
	paddedTapCache.Store(key, t)
	return t
}

// padTaps gives every output as many taps as the widest, with zero weights
// after its own (before, at the right edge). Samples and weights are never
// negative, so a zero-weight tap adds +0 and the sums are the same bit for
// bit; with equal counts horizontalTaps sums four outputs side by side.
func padTaps(taps []tentWeights, in int) []tentWeights {
	n := 0
	for _, t := range taps {
		n = max(n, len(t.w))
	}
	n = min(n, in)
	out := make([]tentWeights, len(taps))
	for i, t := range taps {
		start := min(t.start, in-n)
		w := make([]float32, n)
		copy(w[t.start-start:], t.w)
		out[i] = tentWeights{start: start, w: w}
	}
	return out
}

// floatBufs are scratch float32 buffers, reused between calls.
var floatBufs = sync.Pool{New: func() any { return new([]float32) }}

func getFloats(n int) *[]float32 {
	b := floatBufs.Get().(*[]float32)
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return b
}

// resize tent-filters p to ow×oh×p.ch samples (0..255) in dst: the
// vertical pass first (it shrinks the most data), then the horizontal one.
func (p plane) resize(dst []float32, ow, oh int) {
	vt, ht := cachedTaps(p.h, oh), cachedTaps(p.w, ow)
	var hp []tentWeights
	if p.ch == 1 {
		hp = cachedPaddedTaps(p.w, ow)
	}
	rowLen := p.w * p.ch
	tp := getFloats(oh * rowLen)
	defer floatBufs.Put(tp)
	tmp := *tp
	for oy, t := range vt {
		p.verticalTaps(tmp[oy*rowLen:(oy+1)*rowLen], t)
	}
	ch := p.ch
	for oy := 0; oy < oh; oy++ {
		row := tmp[oy*rowLen : (oy+1)*rowLen]
		out := dst[oy*ow*ch : (oy+1)*ow*ch]
		if ch == 1 {
			horizontalTaps(out, row, hp)
			continue
		}
		for ox, t := range ht {
			s := row[t.start*ch : (t.start+len(t.w))*ch]
			if ch == 1 {
				var v float32
				for j, w := range t.w {
					v += w * s[j]
				}
				out[ox] = v
				continue
			}
			var r, g, b float32
			for j, w := range t.w {
				px := s[j*3 : j*3+3 : j*3+3]
				r += w * px[0]
				g += w * px[1]
				b += w * px[2]
			}
			out[ox*3], out[ox*3+1], out[ox*3+2] = r, g, b
		}
	}
}

// verticalTaps sets acc to the tap-weighted sum of rows t.start.. of p,
// four rows per pass over acc, adding in tap order: the same float32 sums,
// rounded the same way, as one row at a time into a cleared acc, with a
// quarter of the loads and stores of acc.
func (p plane) verticalTaps(acc []float32, t tentWeights) {
	ws := t.w
	if len(ws) == 0 {
		clear(acc)
		return
	}
	n := len(acc)
	r0 := p.row(t.start)[:n]
	w0 := ws[0]
	for i, v := range r0 {
		acc[i] = w0 * float32(v)
	}
	y := t.start + 1
	ws = ws[1:]
	for len(ws) >= 4 {
		a, b, c, d := p.row(y)[:n], p.row(y + 1)[:n], p.row(y + 2)[:n], p.row(y + 3)[:n]
		wa, wb, wc, wd := ws[0], ws[1], ws[2], ws[3]
		for i := range acc {
			v := acc[i] + wa*float32(a[i])
			v += wb * float32(b[i])
			v += wc * float32(c[i])
			acc[i] = v + wd*float32(d[i])
		}
		y, ws = y+4, ws[4:]
	}
	switch len(ws) {
	case 3:
		a, b, c := p.row(y)[:n], p.row(y + 1)[:n], p.row(y + 2)[:n]
		wa, wb, wc := ws[0], ws[1], ws[2]
		for i := range acc {
			v := acc[i] + wa*float32(a[i])
			v += wb * float32(b[i])
			acc[i] = v + wc*float32(c[i])
		}
	case 2:
		a, b := p.row(y)[:n], p.row(y + 1)[:n]
		wa, wb := ws[0], ws[1]
		for i := range acc {
			v := acc[i] + wa*float32(a[i])
			acc[i] = v + wb*float32(b[i])
		}
	case 1:
		a, wa := p.row(y)[:n], ws[0]
		for i := range acc {
			acc[i] += wa * float32(a[i])
		}
	}
}

// horizontalTaps sets out[ox] to the tap-weighted sum of row around ox,
// for a one-channel plane. Each sum adds its taps in order from zero, as a
// plain loop would, but four neighbouring outputs with as many taps are
// summed side by side: one sum is a chain of dependent adds, and four
// chains keep the core busy while each waits on its last add.
func horizontalTaps(out, row []float32, ht []tentWeights) {
	ox := 0
	for ; ox+4 <= len(ht); ox += 4 {
		t0, t1, t2, t3 := ht[ox], ht[ox+1], ht[ox+2], ht[ox+3]
		n := len(t0.w)
		if len(t1.w) != n || len(t2.w) != n || len(t3.w) != n {
			for k := range 4 {
				out[ox+k] = tapSum(row, ht[ox+k])
			}
			continue
		}
		s0, s1, s2, s3 := row[t0.start:t0.start+n], row[t1.start:t1.start+n], row[t2.start:t2.start+n], row[t3.start:t3.start+n]
		w0, w1, w2, w3 := t0.w[:n], t1.w[:n], t2.w[:n], t3.w[:n]
		var v0, v1, v2, v3 float32
		for j := range n {
			v0 += w0[j] * s0[j]
			v1 += w1[j] * s1[j]
			v2 += w2[j] * s2[j]
			v3 += w3[j] * s3[j]
		}
		out[ox], out[ox+1], out[ox+2], out[ox+3] = v0, v1, v2, v3
	}
	for ; ox < len(ht); ox++ {
		out[ox] = tapSum(row, ht[ox])
	}
}

func tapSum(row []float32, t tentWeights) float32 {
	s := row[t.start : t.start+len(t.w)]
	var v float32
	for j, w := range t.w {
		v += w * s[j]
	}
	return v
}

// resizeToTensor writes any image into the encoder's tensor.
func resizeToTensor(img image.Image, dst []float32) {
	resizeRGB(img, InputSize, InputSize, dst)
	for i, v := range dst[:InputLen] {
		dst[i] = v/127.5 - 1
	}
}

// resizeRGB resamples img to ow×oh packed RGB samples (0..255, HWC) in dst:
// YCbCr plane by plane when it can, otherwise through packed RGB.
func resizeRGB(img image.Image, ow, oh int, dst []float32) {
	if src, ok := img.(*image.YCbCr); ok && ycbcrPlanesToRGB(src, ow, oh, dst) {
		return
	}
	b := img.Bounds()
	shrinkRGB(img, boxFactor(b.Dx(), b.Dy(), ow, oh)).resize(dst, ow, oh)
}

// ycbcrPlanesToRGB resamples the Y, Cb and Cr planes separately and
// converts at ow×oh. It returns false, doing nothing, for the rare layouts
// it does not handle (4:1:1, 4:1:0, or chroma not aligned with the bounds,
// as in some sub-images).
func ycbcrPlanesToRGB(src *image.YCbCr, ow, oh int, dst []float32) bool {
	sh := chromaShifts(src)
	b := src.Bounds()
	if sh == nil || b.Min.X&(1<<sh[0]-1) != 0 || b.Min.Y&(1<<sh[1]-1) != 0 {
		return false
	}
	cw, ch := (b.Dx()+1<<sh[0]-1)>>sh[0], (b.Dy()+1<<sh[1]-1)>>sh[1]
	co := src.COffset(b.Min.X, b.Min.Y)
	planes := [3]plane{
		{pix: src.Y[src.YOffset(b.Min.X, b.Min.Y):], stride: src.YStride, w: b.Dx(), h: b.Dy(), ch: 1},
		{pix: src.Cb[co:], stride: src.CStride, w: cw, h: ch, ch: 1},
		{pix: src.Cr[co:], stride: src.CStride, w: cw, h: ch, ch: 1},
	}
	n := ow * oh
	bufp := getFloats(3 * n)
	defer floatBufs.Put(bufp)
	buf := *bufp
	for i, p := range planes {
		p.shrink(boxFactor(p.w, p.h, ow, oh)).resize(buf[i*n:(i+1)*n], ow, oh)
	}
	ys, cbs, crs := buf[:n], buf[n:2*n], buf[2*n:]
	clamp := func(v float32) float32 { return min(max(v, 0), 255) }
	for i := range n {
		y, cb, cr := ys[i], cbs[i]-128, crs[i]-128
		// JFIF's equations, with color.YCbCrToRGB's constants.
		dst[3*i] = clamp(y + 1.40200*cr)
		dst[3*i+1] = clamp(y - 0.34414*cb - 0.71414*cr)
		dst[3*i+2] = clamp(y + 1.77200*cb)
	}
	return true
}

// chromaShifts returns the horizontal and vertical chroma subsampling shifts
// of src, or nil for the rare ratios (4:1:1, 4:1:0).
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

// shrinkRGB converts img to packed RGB box-shrunk by k, k source rows at a
// time, so a big photo never exists twice at full size (as RGBA and as
// packed RGB): the scratch is the shrunk plane and one strip of k rows.
// The result equals toRGB(img).shrink(k).
func shrinkRGB(img image.Image, k int) plane {
	if k <= 1 {
		return toRGB(img)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newPlane((w+k-1)/k, (h+k-1)/k, 3)
	strip := newPlane(w, k, 3)
	sums := make([]uint32, out.w*3)
	var rgba *image.RGBA
	for oy := 0; oy < out.h; oy++ {
		y0, y1 := oy*k, min((oy+1)*k, h)
		rgba = rgbRows(img, y0, y1, strip, rgba)
		strip.shrinkRows(k, 0, y1-y0, sums, out.row(oy))
	}
	return out
}

// toRGB converts img to packed RGB. Alpha is premultiplied, so transparent
// pixels are black, as draw.Src would give.
func toRGB(img image.Image) plane {
	b := img.Bounds()
	out := newPlane(b.Dx(), b.Dy(), 3)
	rgbRows(img, 0, out.h, out, nil)
	return out
}

// rgbRows converts rows y0..y1-1 (relative to img's bounds) into out's
// rows 0..y1-y0-1. Types without a direct conversion are drawn into an
// RGBA scratch of those rows first; rgbRows returns it for reuse (pass nil
// the first time).
func rgbRows(img image.Image, y0, y1 int, out plane, scratch *image.RGBA) *image.RGBA {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.RGBA:
		for y := y0; y < y1; y++ {
			p, dst := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):], out.row(y-y0)
			for x := 0; x < out.w; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = p[4*x], p[4*x+1], p[4*x+2]
			}
		}
	case *image.NRGBA:
		for y := y0; y < y1; y++ {
			p, dst := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):], out.row(y-y0)
			for x := 0; x < out.w; x++ {
				a := uint32(p[4*x+3])
				dst[3*x] = uint8((uint32(p[4*x])*a + 127) / 255)
				dst[3*x+1] = uint8((uint32(p[4*x+1])*a + 127) / 255)
				dst[3*x+2] = uint8((uint32(p[4*x+2])*a + 127) / 255)
			}
		}
	case *image.YCbCr: // only the layouts ycbcrPlanesToTensor leaves
		for y := y0; y < y1; y++ {
			dst := out.row(y - y0)
			for x := 0; x < out.w; x++ {
				yi, ci := src.YOffset(b.Min.X+x, b.Min.Y+y), src.COffset(b.Min.X+x, b.Min.Y+y)
				dst[3*x], dst[3*x+1], dst[3*x+2] = color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
			}
		}
	default:
		// Paletted (GIF), grey, CMYK, 16-bit: draw converts them to RGBA.
		n := y1 - y0
		if scratch == nil || scratch.Rect.Dy() < n {
			scratch = image.NewRGBA(image.Rect(0, 0, b.Dx(), n))
		}
		m := scratch.SubImage(image.Rect(0, 0, b.Dx(), n)).(*image.RGBA)
		draw.Draw(m, m.Bounds(), img, image.Pt(b.Min.X, b.Min.Y+y0), draw.Src)
		rgbRows(m, 0, n, out, nil)
	}
	return scratch
}
