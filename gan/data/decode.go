package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
)

// header is what a file's header tells before decoding, and the working
// copy it will give.
type header struct {
	format       string
	orientation  int // EXIF orientation 1..8 (1 for non-JPEG)
	origW, origH int // displayed size (after orientation)
	w, h         int // working copy size (displayed orientation)
	channels     int // 1 for grayscale, 3 otherwise
	upscaled     bool
	bytes        int64 // memory of the working copy and its pyramid
}

// decodeError is a reason for not using a file.
type decodeError struct{ reason string }

func (e *decodeError) Error() string { return e.reason }

// errUnknownFormat is the reason for content no registered decoder knows.
var errUnknownFormat error = &decodeError{reason: "not an image: unknown format"}

func reasonf(format string, args ...any) error {
	return &decodeError{reason: fmt.Sprintf(format, args...)}
}

// decodeBytes turns a file's bytes into a working copy: header check,
// decoding, colour conversion, downscale or upscale, EXIF orientation and
// pyramid. Errors describe why the file cannot be used.
func decodeBytes(b []byte, opt Options) (*workImage, header, error) {
	hd, err := inspect(b, opt)
	if err != nil {
		return nil, hd, err
	}
	wi, hd, err := decodeImage(b, hd, opt)
	return wi, hd, err
}

// inspect reads the image header and plans the working copy, refusing
// images that are too large or too small before anything big is allocated.
func inspect(b []byte, opt Options) (header, error) {
	opt = opt.withDefaults()
	var hd header
	if len(b) == 0 {
		return hd, reasonf("empty file")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	hd.format = format
	if err != nil {
		return hd, describe(format, err)
	}
	hd.channels = 3
	if isGrayModel(cfg.ColorModel) {
		hd.channels = 1
	}
	hd.orientation = 1
	if format == "jpeg" {
		hd.orientation = jpegOrientation(b)
	}
	return plan(hd, cfg.Width, cfg.Height, opt)
}

// plan fills in the displayed and working sizes of an image stored as
// w x h pixels.
func plan(hd header, w, h int, opt Options) (header, error) {
	if w <= 0 || h <= 0 {
		return hd, reasonf("invalid %s: image is %dx%d", formatLabel(hd.format), w, h)
	}
	if px := int64(w) * int64(h); px > opt.MaxPixels {
		return hd, reasonf("%dx%d is %s megapixels, above the %s megapixel limit", w, h, megapixels(px), megapixels(opt.MaxPixels))
	}
	if hd.orientation >= 5 {
		w, h = h, w
	}
	hd.origW, hd.origH = w, h
	if max(w, h) > opt.MaxSide {
		w, h = fitLong(w, h, opt.MaxSide)
	}
	if short := min(w, h); short < opt.MinSide {
		size := fmt.Sprintf("%dx%d", hd.origW, hd.origH)
		if w != hd.origW || h != hd.origH {
			size += fmt.Sprintf(" (%dx%d after the %d pixel MaxSide cap)", w, h, opt.MaxSide)
		}
		if !opt.Upscale {
			return hd, reasonf("too small: %s is below the %d pixel minimum side", size, opt.MinSide)
		}
		long := math.Ceil(float64(max(w, h)) * float64(opt.MinSide) / float64(short))
		if long > float64(opt.MaxSide) {
			return hd, reasonf("too narrow: %s cannot be upscaled to a %d pixel short side within the %d pixel maximum side", size, opt.MinSide, opt.MaxSide)
		}
		if w < h {
			w, h = opt.MinSide, int(long)
		} else {
			w, h = int(long), opt.MinSide
		}
		hd.upscaled = true
	}
	hd.w, hd.h = w, h
	hd.bytes = pyramidBytes(w, h, hd.channels)
	return hd, nil
}

// decodeImage decodes b as planned by hd.
func decodeImage(b []byte, hd header, opt Options) (wi *workImage, _ header, err error) {
	opt = opt.withDefaults()
	img, err := safeDecode(b)
	if err != nil {
		if truncated(hd.format, b) {
			err = io.ErrUnexpectedEOF
		}
		return nil, hd, describe(hd.format, err)
	}
	r := img.Bounds()
	sw, sh := r.Dx(), r.Dy() // stored size
	if dw, dh := hd.origW, hd.origH; hd.orientation >= 5 {
		dw, dh = dh, dw
		if sw != dw || sh != dh {
			return nil, hd, reasonf("invalid %s: header says %dx%d but the image is %dx%d", formatLabel(hd.format), dw, dh, sw, sh)
		}
	} else if sw != dw || sh != dh {
		// A GIF's first frame may be smaller than its logical screen.
		if int64(sw)*int64(sh) > int64(dw)*int64(dh) {
			return nil, hd, reasonf("invalid %s: header says %dx%d but the image is %dx%d", formatLabel(hd.format), dw, dh, sw, sh)
		}
		if hd, err = plan(hd, sw, sh, opt); err != nil {
			return nil, hd, err
		}
	}
	tw, th := hd.w, hd.h // working size in stored orientation
	if hd.orientation >= 5 {
		tw, th = th, tw
	}
	var s resampler
	base := convert(&s, img, hd.channels, tw, th)
	base = orient(base, hd.orientation)
	return newWorkImage(base), hd, nil
}

// safeDecode decodes b, turning a decoder panic into an error.
func safeDecode(b []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	img, _, err = image.Decode(bytes.NewReader(b))
	return img, err
}

// truncated reports a file that lacks the end marker of its format.
func truncated(format string, b []byte) bool {
	tail := b[max(len(b)-16, 0):]
	switch format {
	case "png":
		return !bytes.Contains(tail, []byte("IEND"))
	case "jpeg":
		return !bytes.Contains(tail, []byte{0xff, 0xd9})
	case "gif":
		return !bytes.HasSuffix(b, []byte{0x3b})
	}
	return false
}

// describe turns a decoding error into a reason.
func describe(format string, err error) error {
	var de *decodeError
	switch {
	case errors.As(err, &de):
		return err
	case errors.Is(err, image.ErrFormat):
		return errUnknownFormat
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return reasonf("truncated %s: %v", formatLabel(format), io.ErrUnexpectedEOF)
	}
	return reasonf("invalid %s: %v", formatLabel(format), err)
}

// isGrayModel reports colour models whose every colour is gray.
func isGrayModel(m color.Model) bool {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	p, ok := m.(color.Palette)
	if !ok || len(p) == 0 {
		return false
	}
	for _, c := range p {
		r, g, b, _ := c.RGBA()
		if r != g || g != b {
			return false
		}
	}
	return true
}

// convert turns img into a w x h plane of c channels (c == 1 only for
// gray images), compositing alpha over mid-grey and resampling on the way.
func convert(s *resampler, img image.Image, c, w, h int) plane {
	r := img.Bounds()
	sw, sh := r.Dx(), r.Dy()
	rowFn := rowConverter(img, c)
	buf := make([]uint8, sw*c)
	src := func(y int) []uint8 {
		rowFn(y, buf)
		return buf
	}
	out := newPlane(w, h, c)
	if w == sw && h == sh {
		for y := 0; y < h; y++ {
			rowFn(y, out.row(y))
		}
		return out
	}
	s.hw.build(sw, 0, float64(sw), w)
	s.vw.build(sh, 0, float64(sh), h)
	s.resample(c, src, func(y int, row []float32) { toBytes(out.row(y), row) })
	return out
}

// grey is the background alpha is composited over (mid-grey).
const grey = 128

// over composites a premultiplied 8-bit value with alpha a over grey.
func over(v, a uint32) uint8 {
	return uint8(v + ((255-a)*grey+127)/255)
}

// rowConverter returns a function writing row y (0-based) of img as 8-bit
// sRGB with c channels into dst (len width*c). For c == 1 the image is
// known to be gray and the red channel is kept.
func rowConverter(img image.Image, c int) func(y int, dst []uint8) {
	r := img.Bounds()
	w := r.Dx()
	switch m := img.(type) {
	case *image.Gray:
		return func(y int, dst []uint8) {
			i := m.PixOffset(r.Min.X, r.Min.Y+y)
			row := m.Pix[i : i+w]
			if c == 1 {
				copy(dst, row)
				return
			}
			for x, v := range row {
				dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		return func(y int, dst []uint8) {
			i := m.PixOffset(r.Min.X, r.Min.Y+y)
			for x := 0; x < w; x++ {
				v := m.Pix[i+2*x] // high byte
				if c == 1 {
					dst[x] = v
				} else {
					dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
				}
			}
		}
	case *image.YCbCr:
		if c == 3 {
			return func(y int, dst []uint8) {
				yy := r.Min.Y + y
				for x := 0; x < w; x++ {
					xx := r.Min.X + x
					yi, ci := m.YOffset(xx, yy), m.COffset(xx, yy)
					dst[3*x], dst[3*x+1], dst[3*x+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				}
			}
		}
	case *image.CMYK:
		if c == 3 {
			return func(y int, dst []uint8) {
				i := m.PixOffset(r.Min.X, r.Min.Y+y)
				for x := 0; x < w; x++ {
					p := m.Pix[i+4*x : i+4*x+4 : i+4*x+4]
					dst[3*x], dst[3*x+1], dst[3*x+2] = color.CMYKToRGB(p[0], p[1], p[2], p[3])
				}
			}
		}
	case *image.RGBA:
		if c == 3 {
			return func(y int, dst []uint8) {
				i := m.PixOffset(r.Min.X, r.Min.Y+y)
				for x := 0; x < w; x++ {
					p := m.Pix[i+4*x : i+4*x+4 : i+4*x+4]
					a := uint32(p[3])
					// Clamp: premultiplied values above alpha are invalid input.
					dst[3*x] = over(min(uint32(p[0]), a), a)
					dst[3*x+1] = over(min(uint32(p[1]), a), a)
					dst[3*x+2] = over(min(uint32(p[2]), a), a)
				}
			}
		}
	case *image.NRGBA:
		if c == 3 {
			return func(y int, dst []uint8) {
				i := m.PixOffset(r.Min.X, r.Min.Y+y)
				for x := 0; x < w; x++ {
					p := m.Pix[i+4*x : i+4*x+4 : i+4*x+4]
					a := uint32(p[3])
					dst[3*x] = over((uint32(p[0])*a+127)/255, a)
					dst[3*x+1] = over((uint32(p[1])*a+127)/255, a)
					dst[3*x+2] = over((uint32(p[2])*a+127)/255, a)
				}
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, col := range m.Palette {
			if i < len(lut) {
				lut[i] = compositeRGB(col)
			}
		}
		return func(y int, dst []uint8) {
			i := m.PixOffset(r.Min.X, r.Min.Y+y)
			for x := 0; x < w; x++ {
				e := lut[m.Pix[i+x]] // out-of-palette indices read as black
				if c == 1 {
					dst[x] = e[0]
				} else {
					dst[3*x], dst[3*x+1], dst[3*x+2] = e[0], e[1], e[2]
				}
			}
		}
	}
	// Generic path: 16-bit RGBA, NYCbCrA, gray from other types, ...
	return func(y int, dst []uint8) {
		for x := 0; x < w; x++ {
			e := compositeRGB(img.At(r.Min.X+x, r.Min.Y+y))
			if c == 1 {
				dst[x] = e[0]
			} else {
				dst[3*x], dst[3*x+1], dst[3*x+2] = e[0], e[1], e[2]
			}
		}
	}
}

// compositeRGB converts a colour to 8-bit sRGB, composited over mid-grey.
func compositeRGB(col color.Color) [3]uint8 {
	r, g, b, a := col.RGBA()
	const g16 = grey * 0x101
	f := func(v uint32) uint8 {
		v = min(v, a) + ((0xffff-a)*g16+0x7fff)/0xffff
		return uint8(min(v, 0xffff) >> 8)
	}
	return [3]uint8{f(r), f(g), f(b)}
}

// orient applies an EXIF orientation (1..8) to p: the result is how the
// image is displayed.
func orient(p plane, o int) plane {
	if o <= 1 || o > 8 {
		return p
	}
	w, h, c := p.w, p.h, p.c
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := newPlane(ow, oh, c)
	for dy := 0; dy < oh; dy++ {
		for dx := 0; dx < ow; dx++ {
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = w-1-dx, dy
			case 3: // rotated 180
				sx, sy = w-1-dx, h-1-dy
			case 4: // mirrored vertically
				sx, sy = dx, h-1-dy
			case 5: // transposed
				sx, sy = dy, dx
			case 6: // rotate 90 clockwise to display
				sx, sy = dy, h-1-dx
			case 7: // transversed
				sx, sy = w-1-dy, h-1-dx
			case 8: // rotate 90 counter-clockwise to display
				sx, sy = w-1-dy, dx
			}
			copy(out.pix[(dy*ow+dx)*c:(dy*ow+dx+1)*c], p.pix[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}
