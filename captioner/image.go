package captioner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF (first frame) with image.Decode
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG

	_ "golang.org/x/image/webp" // registers WebP

	"github.com/captionbot/captionbot/bot"
)

// Limits on the photos DecodeImage accepts. Both are checked before any
// pixel is decoded, so a hostile file cannot make the process allocate
// gigabytes.
const (
	// MaxImageBytes is the largest file accepted (Telegram and Discord
	// uploads are far below it).
	MaxImageBytes = 50 << 20
	// MaxImagePixels is the largest width×height accepted (40 megapixels:
	// a full-size photo from any current phone fits).
	MaxImagePixels = 40_000_000
)

// Geometry of the encoder's input tensor: NHWC, RGB.
const (
	InputSize     = 224
	InputChannels = 3
	// InputLen is the number of float32 values of one image in the tensor.
	InputLen = InputSize * InputSize * InputChannels
)

// DecodeImage decodes a JPEG, PNG, GIF (first frame) or WebP photo. A JPEG's
// EXIF orientation is honoured: the result is the photo as a person sees it.
//
// The header is checked before the pixels are decoded, and the decode
// waits for its memory in the process-wide decode budget (see
// DecodeImageContext, which also covers preprocessing and should be used
// where a context is at hand). Errors wrap the sentinels of package bot:
// bot.ErrEmptyImage, bot.ErrNotImage, bot.ErrCorruptImage,
// bot.ErrImageTooLarge, bot.ErrImageTooSmall.
func DecodeImage(data []byte) (image.Image, error) {
	img, release, err := DecodeImageContext(context.Background(), data)
	if err != nil {
		return nil, err
	}
	release()
	return img, nil
}

// DecodeImageReduced is DecodeImage for a photo that will be shrunk anyway:
// in builds with the turbojpeg tag (scripts/setup.sh chooses it when
// libturbojpeg is installed), a JPEG big enough comes back decoded at a
// reduced size by libjpeg-turbo's DCT scaling (k/8), both sides still at
// least minSide, which is several times faster for phone photos. Other
// images, smaller JPEGs and other builds decode exactly as DecodeImage.
func DecodeImageReduced(data []byte, minSide int) (image.Image, error) {
	img, release, err := decodeImageContext(context.Background(), data, max(minSide, 1))
	if err != nil {
		return nil, err
	}
	release()
	return img, nil
}

// imageHeader is what decodeHeader learnt before any pixel is decoded.
type imageHeader struct {
	cfg    image.Config
	format string
	// cost is decodeCost's estimate of the bytes decoding and
	// preprocessing take.
	cost int64
}

// decodeHeader checks the file's size and header.
func decodeHeader(data []byte) (imageHeader, error) {
	if len(data) == 0 {
		return imageHeader{}, fmt.Errorf("the file is empty: %w", bot.ErrEmptyImage)
	}
	if len(data) > MaxImageBytes {
		return imageHeader{}, fmt.Errorf("the file is %d MB, more than the %d MB limit: %w",
			len(data)>>20, MaxImageBytes>>20, bot.ErrImageTooLarge)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return imageHeader{}, fmt.Errorf("the file is not a JPEG, PNG, GIF or WebP image: %w", bot.ErrNotImage)
	}
	if err != nil {
		return imageHeader{}, fmt.Errorf("the image header cannot be read (%v): %w", err, bot.ErrCorruptImage)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return imageHeader{}, fmt.Errorf("the %s image is %dx%d pixels: %w", format, cfg.Width, cfg.Height, bot.ErrImageTooSmall)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return imageHeader{}, fmt.Errorf("the %s image is %dx%d pixels, more than %d megapixels: %w",
			format, cfg.Width, cfg.Height, MaxImagePixels/1_000_000, bot.ErrImageTooLarge)
	}
	return imageHeader{cfg: cfg, format: format, cost: decodeCost(data, cfg, format)}, nil
}

// decodePixels decodes a photo whose header decodeHeader accepted; a JPEG
// reduced to sides of at least minSide when minSide > 0 and the build can.
func decodePixels(data []byte, h imageHeader, minSide int) (image.Image, error) {
	format := h.format
	img, ok, err := image.Image(nil), false, error(nil)
	if format == "jpeg" && minSide > 0 {
		img, ok = decodeJPEGScaled(data, h.cfg.Width, h.cfg.Height, minSide) // turbojpeg builds only
	}
	if !ok {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("the %s image is damaged or truncated (%v): %w", format, err, bot.ErrCorruptImage)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("the %s image has no pixels: %w", format, bot.ErrImageTooSmall)
	}
	if b := img.Bounds(); b.Dx() > h.cfg.Width || b.Dy() > h.cfg.Height {
		// The budget was sized from the header (a GIF's first frame may be
		// smaller than its screen, never larger).
		return nil, fmt.Errorf("the %s image is %v but its header says %dx%d: %w",
			format, b.Size(), h.cfg.Width, h.cfg.Height, bot.ErrCorruptImage)
	}
	if format == "jpeg" {
		if o := jpegOrientation(data); o != orientNormal {
			return &orientedImage{src: img, o: o}, nil
		}
	}
	return img, nil
}

// Preprocess writes img into dst as the encoder expects it: squashed (aspect
// ratio not kept) to InputSize×InputSize, RGB, HWC, each value
// pixel/127.5 - 1. Resizing uses a bilinear (tent) kernel stretched to the
// scale factor, so big photos are area-averaged rather than aliased — the
// same filter as PIL's Image.resize(BILINEAR), which the converter uses
// (resize.go). Transparent pixels become black.
//
// dst must hold at least InputLen values; Preprocess panics otherwise, as
// copy would.
func Preprocess(img image.Image, dst []float32) {
	dst = dst[:InputLen]
	o := orientNormal
	if oi, ok := img.(*orientedImage); ok {
		img, o = oi.src, oi.o
	}
	b := img.Bounds()
	src224, isYCbCr := img.(*image.YCbCr)
	rgba224, isRGBA := img.(*image.RGBA)
	switch {
	case isYCbCr && b.Dx() == InputSize && b.Dy() == InputSize:
		ycbcrToTensor(src224, dst)
	case isRGBA && b.Dx() == InputSize && b.Dy() == InputSize:
		rgbaToTensor(rgba224, dst)
	default:
		resizeToTensor(img, dst)
	}
	if o != orientNormal {
		orientTensor(dst, o)
	}
}

// byteToInput maps a 0..255 channel value to the encoder's -1..1 range.
func byteToInput(v uint8) float32 { return float32(v)/127.5 - 1 }

// ycbcrToTensor is the fast path for a 224×224 JPEG (the training images
// are exactly that): no resampling, just colour conversion.
func ycbcrToTensor(src *image.YCbCr, dst []float32) {
	b := src.Bounds()
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := src.YOffset(x, y), src.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
			dst[i], dst[i+1], dst[i+2] = byteToInput(r), byteToInput(g), byteToInput(bl)
			i += 3
		}
	}
}

// rgbaToTensor is the fast path for a 224×224 *image.RGBA (alpha
// premultiplied, so transparent pixels are already black).
func rgbaToTensor(src *image.RGBA, dst []float32) {
	b := src.Bounds()
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := src.Pix[src.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+3 : 4*x+3]
			dst[i], dst[i+1], dst[i+2] = byteToInput(p[0]), byteToInput(p[1]), byteToInput(p[2])
			i += 3
		}
	}
}
