//go:build turbojpeg

package captioner

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>

// scaled is TJSCALED, a macro cgo cannot call.
static int scaled(int dim, tjscalingfactor f) { return TJSCALED(dim, f); }

// decode decompresses at w×h (one of the scaled sizes) into dst.
static int decode(tjhandle h, const unsigned char *buf, unsigned long size,
		unsigned char *dst, int w, int pitch, int hgt, int format) {
	return tjDecompress2(h, buf, size, dst, w, pitch, hgt, format, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
}

// decodeYUV decompresses at w×h into three planes (Y, Cb, Cr) with the given
// strides, without chroma upsampling or colour conversion.
static int decodeYUV(tjhandle h, const unsigned char *buf, unsigned long size,
		unsigned char *y, unsigned char *cb, unsigned char *cr, int ys, int cs, int w, int hgt) {
	unsigned char *planes[3] = {y, cb, cr};
	int strides[3] = {ys, cs, cs};
	return tjDecompressToYUVPlanes(h, buf, size, planes, w, strides, hgt, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
}
*/
import "C"

import (
	"image"
	"unsafe"
)

// TurboJPEGEnabled reports whether this build decodes big JPEGs at reduced
// size with libturbojpeg (build tag turbojpeg; scripts/setup.sh sets it
// when the library is installed).
const TurboJPEGEnabled = true

// decodeJPEGScaled decodes a JPEG of w×h pixels at the smallest of
// libjpeg-turbo's DCT scaling factors (k/8) that keeps both sides at least
// minSide: the IDCT then computes only the coefficients that survive,
// instead of every pixel of a photo Preprocess would shrink anyway. ok is false, and the caller decodes with
// image/jpeg, when no factor below 1 fits (small photos decode exactly as
// without this build tag), for colour spaces other than gray and YCbCr, and
// on any libjpeg-turbo error or warning (image/jpeg then reports damage in
// its own words).
func decodeJPEGScaled(data []byte, w, h, minSide int) (img image.Image, ok bool) {
	if len(data) == 0 {
		return nil, false
	}
	var n C.int
	factors := C.tjGetScalingFactors(&n)
	if factors == nil {
		return nil, false
	}
	best := C.tjscalingfactor{num: 1, denom: 1}
	for _, f := range unsafe.Slice(factors, int(n)) {
		if f.num >= f.denom { // only reductions
			continue
		}
		sw, sh := int(C.scaled(C.int(w), f)), int(C.scaled(C.int(h), f))
		if sw >= minSide && sh >= minSide && f.num*best.denom < best.num*f.denom {
			best = f
		}
	}
	if best.num == best.denom {
		return nil, false
	}
	handle := C.tjInitDecompress()
	if handle == nil {
		return nil, false
	}
	defer C.tjDestroy(handle)
	buf := (*C.uchar)(unsafe.Pointer(&data[0]))
	var jw, jh, subsamp, colorspace C.int
	if C.tjDecompressHeader3(handle, buf, C.ulong(len(data)), &jw, &jh, &subsamp, &colorspace) != 0 ||
		int(jw) != w || int(jh) != h {
		return nil, false
	}
	sw, sh := int(C.scaled(jw, best)), int(C.scaled(jh, best))
	r := image.Rect(0, 0, sw, sh)
	var pix []uint8
	var stride int
	var format C.int
	switch colorspace {
	case C.TJCS_GRAY:
		g := image.NewGray(r)
		img, pix, stride, format = g, g.Pix, g.Stride, C.TJPF_GRAY
	case C.TJCS_YCbCr:
		if m, ok := decodeYCbCrPlanes(handle, data, sw, sh, subsamp); ok {
			return m, true
		}
		// Packed RGB(A), converted by libjpeg-turbo's SIMD code, for the
		// subsamplings image.YCbCr cannot hold (4:1:1).
		rgba := image.NewRGBA(r)
		img, pix, stride, format = rgba, rgba.Pix, rgba.Stride, C.TJPF_RGBA
	default:
		return nil, false // RGB-coded, CMYK, YCCK: rare; image/jpeg handles what it can
	}
	if C.decode(handle, buf, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&pix[0])),
		C.int(sw), C.int(stride), C.int(sh), format) != 0 {
		return nil, false
	}
	return img, true
}

// ycbcrRatios are the chroma subsamplings image.YCbCr holds, by TJSAMP.
var ycbcrRatios = map[C.int]image.YCbCrSubsampleRatio{
	C.TJSAMP_444: image.YCbCrSubsampleRatio444,
	C.TJSAMP_422: image.YCbCrSubsampleRatio422,
	C.TJSAMP_420: image.YCbCrSubsampleRatio420,
	C.TJSAMP_440: image.YCbCrSubsampleRatio440,
}

// decodeYCbCrPlanes decodes at sw×sh straight into an image.YCbCr, the
// planes as the JPEG stores them: no chroma upsampling and no colour
// conversion here, as image/jpeg decodes (and as the training features were
// made); Preprocess resamples each plane at its own resolution. libjpeg-turbo
// pads the luma plane to whole chroma samples (an odd scaled width or
// height gets one more luma column or row), which the stride and the
// buffer's spare row absorb; the chroma planes are ceil(side/2) as
// image.YCbCr expects.
func decodeYCbCrPlanes(handle C.tjhandle, data []byte, sw, sh int, subsamp C.int) (*image.YCbCr, bool) {
	ratio, ok := ycbcrRatios[subsamp]
	if !ok {
		return nil, false
	}
	yw, yh := int(C.tjPlaneWidth(0, C.int(sw), subsamp)), int(C.tjPlaneHeight(0, C.int(sh), subsamp))
	cw, ch := int(C.tjPlaneWidth(1, C.int(sw), subsamp)), int(C.tjPlaneHeight(1, C.int(sh), subsamp))
	m := &image.YCbCr{
		Y:              make([]uint8, yw*yh),
		Cb:             make([]uint8, cw*ch),
		Cr:             make([]uint8, cw*ch),
		YStride:        yw,
		CStride:        cw,
		SubsampleRatio: ratio,
		Rect:           image.Rect(0, 0, sw, sh),
	}
	// Go's layout: chroma is ceil(w/2) (or w) by ceil(h/2) (or h); anything else
	// and the planes would not line up.
	want := image.NewYCbCr(m.Rect, ratio)
	if yw < sw || yh < sh || cw != want.CStride || ch != len(want.Cb)/want.CStride {
		return nil, false
	}
	if C.decodeYUV(handle, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&m.Y[0])), (*C.uchar)(unsafe.Pointer(&m.Cb[0])), (*C.uchar)(unsafe.Pointer(&m.Cr[0])),
		C.int(yw), C.int(cw), C.int(sw), C.int(sh)) != 0 {
		return nil, false
	}
	return m, true
}
