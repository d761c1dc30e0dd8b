package openai

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	_ "image/gif" // decoders for the formats captionbot accepts
	"image/jpeg"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// ImageSide is the longest side, in pixels, of the photo sent to a vision
// model: enough for a caption, small enough to be cheap ("low" detail).
const ImageSide = 512

// maxImagePixels refuses decompression bombs before decoding.
const maxImagePixels = 50_000_000

var errImageTooLarge = errors.New("image too large")

// decodeImage is the default Config.DecodeImage: the standard decoders with
// a pixel limit checked on the header, and no EXIF orientation.
func decodeImage(photo []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(photo))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return nil, errImageTooLarge
	}
	src, _, err := image.Decode(bytes.NewReader(photo))
	return src, err
}

// imageDataURL decodes a photo, downscales it to ImageSide and returns it as
// a JPEG data URL.
func imageDataURL(photo []byte, decode func([]byte) (image.Image, error)) (string, error) {
	src, err := decode(photo)
	if err != nil {
		return "", err
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ImageSide || h > ImageSide {
		if w >= h {
			w, h = ImageSide, max(1, h*ImageSide/w)
		} else {
			w, h = max(1, w*ImageSide/h), ImageSide
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// JPEG has no transparency: transparent pixels become white, not black.
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return "", err
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(out.Bytes()), nil
}
