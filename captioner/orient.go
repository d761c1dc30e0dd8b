package captioner

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// orientation is a JPEG's EXIF Orientation tag (1..8): how the stored pixels
// must be turned to show the photo upright. Cameras and phones store the
// sensor's pixels as they come and set this tag instead of rotating them.
type orientation uint8

const (
	orientNormal     orientation = 1
	orientMirrorH    orientation = 2
	orientRotate180  orientation = 3
	orientMirrorV    orientation = 4
	orientTranspose  orientation = 5
	orientRotate90   orientation = 6 // 90° clockwise
	orientTransverse orientation = 7
	orientRotate270  orientation = 8 // 90° counter-clockwise
)

// swapsAxes reports whether the upright photo's width is the stored height.
func (o orientation) swapsAxes() bool { return o >= orientTranspose && o <= orientRotate270 }

// source maps the upright pixel (x, y) to the stored pixel, for a stored
// image of w×h pixels, all coordinates zero-based.
func (o orientation) source(x, y, w, h int) (sx, sy int) {
	switch o {
	case orientMirrorH:
		return w - 1 - x, y
	case orientRotate180:
		return w - 1 - x, h - 1 - y
	case orientMirrorV:
		return x, h - 1 - y
	case orientTranspose:
		return y, x
	case orientRotate90:
		return y, h - 1 - x
	case orientTransverse:
		return w - 1 - y, h - 1 - x
	case orientRotate270:
		return w - 1 - y, x
	}
	return x, y
}

// orientedImage shows a decoded JPEG upright without copying its pixels:
// Preprocess resamples src and turns the small tensor instead, which costs
// far less than turning a 12-megapixel photo.
type orientedImage struct {
	src image.Image
	o   orientation
}

func (m *orientedImage) ColorModel() color.Model { return m.src.ColorModel() }

func (m *orientedImage) Bounds() image.Rectangle {
	b := m.src.Bounds()
	if m.o.swapsAxes() {
		return image.Rect(0, 0, b.Dy(), b.Dx())
	}
	return image.Rect(0, 0, b.Dx(), b.Dy())
}

func (m *orientedImage) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(m.Bounds())) {
		return color.RGBA{}
	}
	b := m.src.Bounds()
	sx, sy := m.o.source(x, y, b.Dx(), b.Dy())
	return m.src.At(b.Min.X+sx, b.Min.Y+sy)
}

// orientTensor turns a square HWC tensor (InputSize×InputSize×3) in place.
// The photo is squashed to a square before it is turned, which gives the
// same pixels as turning first: squashing treats both axes alike.
func orientTensor(t []float32, o orientation) { orientSquare(t, InputSize, o) }

// orientSquare turns a size×size×3 HWC tensor in place.
func orientSquare(t []float32, size int, o orientation) {
	n := size * size * InputChannels
	tp := getFloats(n)
	defer floatBufs.Put(tp)
	tmp := *tp
	copy(tmp, t[:n])
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			sx, sy := o.source(x, y, size, size)
			d, s := (y*size+x)*InputChannels, (sy*size+sx)*InputChannels
			copy(t[d:d+InputChannels], tmp[s:s+InputChannels])
		}
	}
}

// jpegOrientation reads the EXIF Orientation tag of a JPEG, or returns
// orientNormal when there is none or it cannot be read. Neither the
// standard library nor golang.org/x/image reads EXIF, and this needs one tag
// of one IFD, so it is parsed here rather than pulling in an EXIF library.
func jpegOrientation(data []byte) orientation {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return orientNormal
	}
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xFF {
			return orientNormal
		}
		marker := data[pos+1]
		switch {
		case marker == 0xFF: // fill byte
			pos++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8): // no length
			pos += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return orientNormal
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 || pos+2+n > len(data) {
			return orientNormal
		}
		seg := data[pos+4 : pos+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		pos += 2 + n
	}
	return orientNormal
}

// exifOrientation finds tag 0x0112 in IFD0 of a TIFF-structured EXIF block.
func exifOrientation(tiff []byte) orientation {
	if len(tiff) < 8 {
		return orientNormal
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return orientNormal
	}
	if order.Uint16(tiff[2:]) != 42 {
		return orientNormal
	}
	ifd := uint64(order.Uint32(tiff[4:]))
	if ifd+2 > uint64(len(tiff)) {
		return orientNormal
	}
	count := uint64(order.Uint16(tiff[ifd:]))
	const (
		entrySize      = 12
		tagOrientation = 0x0112
		typeShort      = 3
	)
	for i := uint64(0); i < count; i++ {
		e := ifd + 2 + i*entrySize
		if e+entrySize > uint64(len(tiff)) {
			return orientNormal
		}
		entry := tiff[e : e+entrySize]
		if order.Uint16(entry) != tagOrientation {
			continue
		}
		if order.Uint16(entry[2:]) != typeShort || order.Uint32(entry[4:]) != 1 {
			return orientNormal
		}
		if v := order.Uint16(entry[8:]); v >= uint16(orientNormal) && v <= uint16(orientRotate270) {
			return orientation(v)
		}
		return orientNormal
	}
	return orientNormal
}
