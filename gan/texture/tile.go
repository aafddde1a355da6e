package texture

import "image"

// Tile repeats img nx by ny times (for a 2x2 or 3x3 preview of a seamless texture): the result
// is an (nx*W) x (ny*H) image at the origin whose pixel (x, y) is the pixel (x mod W, y mod H) of
// img relative to its bounds' top-left corner, converted to non-premultiplied 8-bit NRGBA.
//
// It returns an empty image when img is nil or empty, nx or ny is below 1, or the result would
// exceed 2^28 pixels.
func Tile(img image.Image, nx, ny int) *image.NRGBA {
	empty := image.NewNRGBA(image.Rectangle{})
	if img == nil || nx < 1 || ny < 1 {
		return empty
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if !sizeOK(w, h) || nx > maxPixels/w || ny > maxPixels/h || !sizeOK(w*nx, h*ny) {
		return empty
	}
	src := toNRGBA(img)
	dst := image.NewNRGBA(image.Rect(0, 0, w*nx, h*ny))
	for y := 0; y < h*ny; y++ {
		s := src.Pix[(y%h)*src.Stride : (y%h)*src.Stride+4*w]
		d := dst.Pix[y*dst.Stride : (y+1)*dst.Stride]
		for i := 0; i < nx; i++ {
			copy(d[4*w*i:], s)
		}
	}
	return dst
}
