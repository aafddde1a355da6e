package texture

import (
	"image"
	"image/color"
	"math"
)

// Rec. 709 luma weights, applied to the (gamma-encoded) sRGB values in [0, 1].
const (
	lumaR = 0.2126
	lumaG = 0.7152
	lumaB = 0.0722
)

// Field is a scalar field sampled on a W x H grid, stored row-major: the value at column x and
// row y (y grows downwards, as in images) is V[y*W+x]. A Field is valid when W > 0, H > 0 and
// len(V) == W*H; the functions of this package treat an invalid Field as empty.
type Field struct {
	W, H int
	V    []float64
}

// valid reports whether f can be indexed as documented on Field.
func (f *Field) valid() bool {
	return f != nil && sizeOK(f.W, f.H) && len(f.V) == f.W*f.H
}

// Gray16 returns the field as a 16-bit grayscale image (for a 16-bit height PNG): each value is
// clamped to [0, 1] and mapped to round(v*65535); NaN maps to 0. An invalid field gives an empty
// image.
func (f *Field) Gray16() *image.Gray16 {
	if !f.valid() {
		return image.NewGray16(image.Rectangle{})
	}
	img := image.NewGray16(image.Rect(0, 0, f.W, f.H))
	for i, v := range f.V {
		q := uint16(quantize(v, 65535))
		img.Pix[2*i] = uint8(q >> 8)
		img.Pix[2*i+1] = uint8(q)
	}
	return img
}

// Gray returns the field as an 8-bit grayscale image: each value is clamped to [0, 1] and mapped
// to round(v*255); NaN maps to 0. An invalid field gives an empty image.
func (f *Field) Gray() *image.Gray {
	if !f.valid() {
		return image.NewGray(image.Rectangle{})
	}
	img := image.NewGray(image.Rect(0, 0, f.W, f.H))
	for i, v := range f.V {
		img.Pix[i] = uint8(quantize(v, 255))
	}
	return img
}

// quantize clamps v to [0, 1] (NaN to 0) and returns round(v*top).
func quantize(v, top float64) float64 {
	if !(v > 0) { // also catches NaN
		return 0
	}
	if v >= 1 {
		return top
	}
	return math.Round(v * top)
}

// Height returns a height field in [0,1] from a texture: its luminance (Rec. 709 weights on the
// sRGB values, normalised to span [0,1] over the image; a flat image gives all 0.5), optionally
// blurred with a small wrap-around Gaussian of radius blur pixels (0: none) to suppress pixel
// noise.
//
// Luminance is computed from the non-premultiplied colour values; alpha is ignored. The blur is
// applied after normalisation, so the result stays within [0, 1] (a blurred field may no longer
// reach exactly 0 and 1). blur is the Gaussian's standard deviation in pixels; the kernel is
// truncated at 3*blur and wraps around the borders, so a seamless texture gives a seamless height
// field. A blur that is negative or NaN means no blur; a blur larger than the image is reduced to
// the image's larger side (the wrapped kernel is then nearly uniform and the field nearly flat).
//
// A nil or empty image, or one larger than 2^28 pixels, gives an empty Field (W = H = 0).
func Height(img image.Image, blur float64) *Field {
	if img == nil {
		return &Field{}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if !sizeOK(w, h) {
		return &Field{}
	}
	v := make([]float64, w*h)
	luminance(img, b, v)
	normalize(v)
	if blur > 0 { // false for NaN
		blurWrap(v, w, h, math.Min(blur, float64(max(w, h))))
	}
	return &Field{W: w, H: h, V: v}
}

// luminance writes the Rec. 709 luma of every pixel of img (bounds b) to v, row-major.
func luminance(img image.Image, b image.Rectangle, v []float64) {
	w := b.Dx()
	luma8 := func(r, g, bl uint8) float64 {
		return (lumaR*float64(r) + lumaG*float64(g) + lumaB*float64(bl)) / 255
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			row := v[(y-b.Min.Y)*w:]
			for x := 0; x < w; x++ {
				row[x] = luma8(p[4*x], p[4*x+1], p[4*x+2])
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			row := v[(y-b.Min.Y)*w:]
			for x := 0; x < w; x++ {
				r, g, bl, a := p[4*x], p[4*x+1], p[4*x+2], p[4*x+3]
				switch a {
				case 255:
					row[x] = luma8(r, g, bl)
				case 0:
					row[x] = 0
				default: // un-premultiply
					s := 255 / float64(a)
					row[x] = (lumaR*float64(r) + lumaG*float64(g) + lumaB*float64(bl)) * s / 255
				}
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			row := v[(y-b.Min.Y)*w:]
			for x := 0; x < w; x++ {
				row[x] = float64(p[x]) / 255
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := v[(y-b.Min.Y)*w:]
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, y)).(color.NRGBA64)
				row[x] = (lumaR*float64(c.R) + lumaG*float64(c.G) + lumaB*float64(c.B)) / 65535
			}
		}
	}
}

// normalize maps v affinely onto [0, 1]; a constant v becomes all 0.5.
func normalize(v []float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	span := hi - lo
	if !(span > 1e-12) {
		for i := range v {
			v[i] = 0.5
		}
		return
	}
	for i, x := range v {
		v[i] = (x - lo) / span
	}
}

// periodicKernel is a 1-D convolution kernel on a periodic signal of length n:
// out[i] = sum_j k[j] * in[(i+j-shift) mod n].
type periodicKernel struct {
	k     []float64
	shift int
}

// gaussKernel returns the wrap-around Gaussian of standard deviation sigma (> 0) for a periodic
// signal of length n, truncated at 3 sigma and, when wider than the period, folded into it.
func gaussKernel(sigma float64, n int) periodicKernel {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := -r; i <= r; i++ {
		w := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = w
		sum += w
	}
	for i := range k {
		k[i] /= sum
	}
	if len(k) <= n {
		return periodicKernel{k: k, shift: r}
	}
	folded := make([]float64, n)
	for i := -r; i <= r; i++ {
		folded[((i%n)+n)%n] += k[i+r]
	}
	return periodicKernel{k: folded, shift: 0}
}

// apply convolves the periodic signal src into dst (both of length n), using ext as scratch
// space of length n+len(k)-1.
func (pk periodicKernel) apply(dst, src, ext []float64) {
	n := len(src)
	for t := range ext {
		ext[t] = src[(((t-pk.shift)%n)+n)%n]
	}
	for i := range dst {
		s := 0.0
		for j, w := range pk.k {
			s += w * ext[i+j]
		}
		dst[i] = s
	}
}

// blurWrap blurs the w x h row-major field v in place with a separable wrap-around Gaussian.
func blurWrap(v []float64, w, h int, sigma float64) {
	kx, ky := gaussKernel(sigma, w), gaussKernel(sigma, h)
	n := max(w, h)
	src := make([]float64, n)
	dst := make([]float64, n)
	ext := make([]float64, n+max(len(kx.k), len(ky.k)))
	for y := 0; y < h; y++ {
		row := v[y*w : (y+1)*w]
		copy(src, row)
		kx.apply(row, src[:w], ext[:w+len(kx.k)-1])
	}
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			src[y] = v[y*w+x]
		}
		ky.apply(dst[:h], src[:h], ext[:h+len(ky.k)-1])
		for y := 0; y < h; y++ {
			v[y*w+x] = dst[y]
		}
	}
}

// Normal returns a tangent-space normal map of the height field f.
//
// Convention (OpenGL, "+Y up", green = up): red encodes the normal's X component pointing right,
// green its Y component pointing UP the image (towards row 0), blue its Z component pointing out
// of the surface. Set flipY for the DirectX convention ("+Y down"), which negates Y (green).
//
// Slopes are central differences that wrap around at the borders, so the normal map of a seamless
// height field is itself seamless:
//
//	dx = (h[x+1, y] - h[x-1, y]) / 2   (x grows to the right)
//	dy = (h[x, y+1] - h[x, y-1]) / 2   (y grows downwards, as in the image)
//
// with indices taken modulo W and H. Because image y grows downwards, the slope towards +Y up is
// -dy, and the surface normal of z = strength*h is
//
//	n = normalize(-strength*dx, +strength*dy, 1)   (OpenGL; DirectX uses -strength*dy)
//
// Each component c in [-1, 1] is stored as round((c*0.5+0.5)*255); alpha is 255. A flat field
// (or strength 0) gives (128, 128, 255). Heights are in pixel-width units scaled by strength.
// Pixels whose normal is not finite (NaN or infinite heights or strength) are written flat. An
// invalid field gives an empty image.
func Normal(f *Field, strength float64, flipY bool) *image.NRGBA {
	if !f.valid() {
		return image.NewNRGBA(image.Rectangle{})
	}
	w, h := f.W, f.H
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	sy := strength
	if flipY {
		sy = -strength
	}
	for y := 0; y < h; y++ {
		up, down := (y-1+h)%h, (y+1)%h
		for x := 0; x < w; x++ {
			left, right := (x-1+w)%w, (x+1)%w
			dx := (f.V[y*w+right] - f.V[y*w+left]) / 2
			dy := (f.V[down*w+x] - f.V[up*w+x]) / 2
			nx, ny := -strength*dx, sy*dy
			l := math.Hypot(math.Hypot(nx, ny), 1)
			nz := 1 / l
			nx, ny = nx/l, ny/l
			if math.IsNaN(nx) || math.IsNaN(ny) || math.IsNaN(nz) || math.IsInf(l, 0) {
				nx, ny, nz = 0, 0, 1
			}
			p := img.Pix[y*img.Stride+4*x:]
			p[0] = encodeUnit(nx)
			p[1] = encodeUnit(ny)
			p[2] = encodeUnit(nz)
			p[3] = 255
		}
	}
	return img
}

// encodeUnit maps c in [-1, 1] to round((c*0.5+0.5)*255).
func encodeUnit(c float64) uint8 {
	return uint8(math.Round(math.Max(0, math.Min(255, (c*0.5+0.5)*255))))
}
