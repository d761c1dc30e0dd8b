//go:build !turbojpeg

package captioner

import "image"

// TurboJPEGEnabled reports whether this build decodes big JPEGs at reduced
// size with libturbojpeg (build tag turbojpeg; scripts/setup.sh sets it
// when the library is installed). This build uses image/jpeg only.
const TurboJPEGEnabled = false

// decodeJPEGScaled is the turbojpeg build's reduced-size decoder; without
// it every JPEG goes through image/jpeg.
func decodeJPEGScaled([]byte, int, int, int) (image.Image, bool) { return nil, false }
