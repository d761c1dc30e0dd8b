package captioner

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF (first frame) with image.Decode
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG

	"golang.org/x/image/draw"
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
// The header is checked before the pixels are decoded. Errors wrap the
// sentinels of package bot: bot.ErrEmptyImage, bot.ErrNotImage,
// bot.ErrCorruptImage, bot.ErrImageTooLarge, bot.ErrImageTooSmall.
func DecodeImage(data []byte) (image.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("the file is empty: %w", bot.ErrEmptyImage)
	}
	if len(data) > MaxImageBytes {
		return nil, fmt.Errorf("the file is %d MB, more than the %d MB limit: %w",
			len(data)>>20, MaxImageBytes>>20, bot.ErrImageTooLarge)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return nil, fmt.Errorf("the file is not a JPEG, PNG, GIF or WebP image: %w", bot.ErrNotImage)
	}
	if err != nil {
		return nil, fmt.Errorf("the image header cannot be read (%v): %w", err, bot.ErrCorruptImage)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("the %s image is %dx%d pixels: %w", format, cfg.Width, cfg.Height, bot.ErrImageTooSmall)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("the %s image is %dx%d pixels, more than %d megapixels: %w",
			format, cfg.Width, cfg.Height, MaxImagePixels/1_000_000, bot.ErrImageTooLarge)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the %s image is damaged or truncated (%v): %w", format, err, bot.ErrCorruptImage)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("the %s image has no pixels: %w", format, bot.ErrImageTooSmall)
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
// pixel/127.5 - 1. Downscaling uses a bilinear (tent) kernel stretched to the
// scale factor, so big photos are area-averaged rather than aliased — the
// same filter as PIL's Image.resize(BILINEAR), which the converter uses.
// Transparent pixels become black.
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
	switch src := img.(type) {
	case *image.YCbCr:
		if b.Dx() == InputSize && b.Dy() == InputSize {
			ycbcrToTensor(src, dst)
			break
		}
		scaleToTensor(src, dst)
	case *image.RGBA:
		if b.Dx() == InputSize && b.Dy() == InputSize {
			rgbaToTensor(src, dst)
			break
		}
		scaleToTensor(src, dst)
	default:
		scaleToTensor(src, dst)
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

// scaleToTensor resamples src straight into the tensor with
// golang.org/x/image/draw, through tensorImage: no 8-bit intermediate image,
// so the only rounding is draw's 16-bit output.
func scaleToTensor(src image.Image, dst []float32) {
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
