package captioner

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/captionbot/captionbot/bot"
)

// Decoding memory.
//
// The pixel cap (MaxImagePixels) does not bound memory: a 40-megapixel
// 16-bit PNG of a few hundred kilobytes decodes to 320 MB. So before any
// pixel is decoded, decodeCost estimates from the header the bytes the
// decoder and Preprocess will hold (pixels × bytes per pixel of the image
// type the decoder returns, plus progressive JPEG coefficients and
// preprocessing scratch), a photo costing more than MaxDecodeBytes is
// refused, and every decode first acquires its cost from a process-wide
// budget (a weighted semaphore in bytes), so concurrent decodes together
// stay under it: a burst of bombs waits in line instead of taking the
// process down. The standard library decoders cannot decode at reduced size,
// so a photo within the pixel cap but over MaxDecodeBytes (e.g. a
// 40-megapixel 16-bit PNG) is refused rather than shrunk.

const (
	// MaxDecodeBytes is the most memory one photo may take to decode and
	// preprocess (a 40-megapixel 8-bit PNG takes 160 MB, a 12-megapixel
	// phone JPEG 18 MB).
	MaxDecodeBytes = 192 << 20
	// DefaultDecodeBudget is the memory all decodes in the process share
	// unless SetDecodeBudget says otherwise.
	DefaultDecodeBudget = MaxDecodeBytes
)

// collectAbove is the cost from which release collects garbage before it
// returns the bytes to the budget (a GC of the bot's small heap takes a
// millisecond or two; a 12-megapixel JPEG costs 18 MB and skips it).
const collectAbove = 32 << 20

// decodeBudget is the process-wide budget; a budget is replaced whole so
// that decodes holding the old one release to it.
type decodeBudget struct {
	sem  *semaphore.Weighted
	size int64
}

var budget = func() *atomic.Pointer[decodeBudget] {
	var p atomic.Pointer[decodeBudget]
	p.Store(newDecodeBudget(DefaultDecodeBudget))
	return &p
}()

func newDecodeBudget(n int64) *decodeBudget {
	return &decodeBudget{sem: semaphore.NewWeighted(n), size: n}
}

// SetDecodeBudget sets the bytes that concurrent decodes may hold together;
// n ≤ 0 means DefaultDecodeBudget. A photo costing more than
// min(n, MaxDecodeBytes) is refused with bot.ErrImageTooLarge. Call it at
// start-up, before photos are decoded.
func SetDecodeBudget(n int64) {
	if n <= 0 {
		n = DefaultDecodeBudget
	}
	budget.Store(newDecodeBudget(n))
}

// DecodeBudget returns the bytes concurrent decodes may hold together.
func DecodeBudget() int64 { return budget.Load().size }

// DecodeImageContext is DecodeImage under the process-wide decode budget: it
// checks the header, waits (until ctx ends) for the photo's decoding cost
// to be free in the budget, and decodes. The caller calls release once it
// is done with the image (after Preprocess); release may be called more
// than once. On error there is nothing to release. A wait cut short by ctx
// returns ctx's error.
func DecodeImageContext(ctx context.Context, data []byte) (img image.Image, release func(), err error) {
	return decodeImageContext(ctx, data, 0)
}

// decodeImageContext is DecodeImageContext, with a JPEG reduced to sides of
// at least minSide when minSide > 0 (see DecodeImageReduced). The budget is
// charged for the full-size decode either way.
func decodeImageContext(ctx context.Context, data []byte, minSide int) (img image.Image, release func(), err error) {
	h, err := decodeHeader(data)
	if err != nil {
		return nil, nil, err
	}
	b := budget.Load()
	limit := min(b.size, MaxDecodeBytes)
	if h.cost > limit {
		return nil, nil, fmt.Errorf("the %s image (%dx%d pixels) would take %d MB of memory to decode, more than the %d MB limit: %w",
			h.format, h.cfg.Width, h.cfg.Height, h.cost>>20, limit>>20, bot.ErrImageTooLarge)
	}
	if err := b.sem.Acquire(ctx, h.cost); err != nil {
		return nil, nil, fmt.Errorf("wait for decoding memory: %w", err)
	}
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			if h.cost >= collectAbove {
				// The caller dropped the image; collect it before the next
				// decode may allocate as much again, or the garbage and the
				// new image together would be twice the budget.
				runtime.GC()
			}
			b.sem.Release(h.cost)
		}
	}
	img, err = decodePixels(data, h, minSide)
	if err != nil {
		release()
		return nil, nil, err
	}
	return img, release, nil
}

// decodeCost estimates the bytes that decoding a w×h photo of this format
// and header, then preprocessing it, allocate at most.
func decodeCost(data []byte, cfg image.Config, format string) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	var decode int64
	switch format {
	case "jpeg":
		decode = jpegCost(data, px)
	case "png":
		decode = px * int64(bytesPerPixel(cfg.ColorModel))
		if len(data) > 28 && data[28] == 1 {
			// Adam7: each pass is decoded into an image of its own, then
			// copied; the largest pass is half the image.
			decode += decode / 2
		}
	case "gif":
		decode = px // paletted, one byte a pixel
	case "webp":
		switch cfg.ColorModel {
		case color.YCbCrModel:
			decode = px * 3 / 2 // 4:2:0
		case color.NYCbCrAModel:
			decode = px * 5 / 2
		default:
			// Lossless: ARGB words, then the NRGBA image.
			decode = px * 8
		}
	default:
		decode = px * 8
	}
	// Decoders also keep a few rows (PNG: the current and previous row of
	// up to 8 bytes a pixel) and small tables (zlib, Huffman, LZW).
	const tables = 256 << 10
	return decode + 16*w + tables + preprocessCost(w, h)
}

// preprocessCost is the preprocessing scratch for a w×h image, the
// encoder's and the detector's: the box-shrunk packed RGB plane, the k
// source rows converted at a time, and the float rows of the vertical tent
// pass, and a JPEG's float planes (resize.go).
func preprocessCost(w, h int64) int64 {
	cost := func(size int64) int64 {
		k := int64(boxFactor(int(w), int(h), int(size), int(size)))
		sw, sh := (w+k-1)/k, (h+k-1)/k
		rows := 7 * w * k // k source rows, as RGBA and packed RGB
		if k == 1 {
			rows = 4 * w * h // no shrink: the whole photo converts at once
		}
		return 3*sw*sh + rows + 4*3*size*sw
	}
	// A JPEG's three 224×224 float planes (pooled, but a first call
	// allocates them).
	planes := int64(4 * 3 * InputSize * InputSize)
	// The encoder's (224) and the detector's (416) run at the same time;
	// the detector also resamples into a packed float square (pooled, but a
	// call may allocate it) and may turn it for the EXIF orientation.
	d := int64(detectorBudgetSize)
	return cost(InputSize) + planes + cost(d) + 2*4*3*d*d
}

// bytesPerPixel is the size of a pixel of the image type the standard
// decoders return for a colour model.
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// jpegCost reads the SOF segment: the decoded image holds one byte per
// sample of each component at its sampling resolution; a progressive JPEG
// also keeps every coefficient (int32) until the end; a 4-component
// (CMYK) JPEG is converted to an image of its own. Without a readable SOF
// it assumes the worst of the common layouts.
func jpegCost(data []byte, px int64) int64 {
	comps, progressive, ok := jpegSampling(data)
	if !ok {
		return px * (3 + 4*3) // 4:4:4, progressive
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, int64(c[0])), max(vmax, int64(c[1]))
	}
	var samples int64 // per hmax×vmax pixels
	for _, c := range comps {
		samples += int64(c[0]) * int64(c[1])
	}
	perBlock := hmax * vmax
	planes := px*samples/perBlock + px/8 // + padding to whole blocks
	cost := planes
	if len(comps) == 4 || (len(comps) == 3 && samples == 3*perBlock) {
		// CMYK becomes an image of its own; so may a 4:4:4 JPEG (when its
		// components are RGB, not YCbCr).
		cost += px * 4
	}
	if progressive {
		cost += planes * 4
	}
	return cost
}

// jpegSampling finds the first SOF marker and returns each component's
// horizontal and vertical sampling factors and whether the JPEG is
// progressive.
func jpegSampling(data []byte) (comps [][2]uint8, progressive bool, ok bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return nil, false, false
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil, false, false
		}
		seg := data[i+4 : i+2+n]
		switch marker {
		case 0xC0, 0xC1, 0xC2:
			if len(seg) < 6 {
				return nil, false, false
			}
			nc := int(seg[5])
			if nc == 0 || len(seg) < 6+3*nc {
				return nil, false, false
			}
			for c := range nc {
				hv := seg[6+3*c+1]
				hs, vs := hv>>4, hv&0x0F
				if hs == 0 || vs == 0 {
					return nil, false, false
				}
				comps = append(comps, [2]uint8{hs, vs})
			}
			return comps, marker == 0xC2, true
		case 0xDA, 0xD9:
			return nil, false, false
		}
		i += 2 + n
	}
	return nil, false, false
}

// detectorBudgetSize is the shipped detector's input side, for the budget
// estimate (detector.go reads the real one from the model).
const detectorBudgetSize = 416
