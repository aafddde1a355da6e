package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// gradient returns an opaque image whose red grows with x and green with y.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 60, 255})
		}
	}
	return img
}

// quadrants returns a w x h image with flat red, green, blue and white
// quadrants (top-left, top-right, bottom-left, bottom-right).
func quadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, quadrantColor(x < w/2, y < h/2))
		}
	}
	return img
}

func quadrantColor(left, top bool) color.NRGBA {
	switch {
	case left && top:
		return color.NRGBA{255, 0, 0, 255}
	case top:
		return color.NRGBA{0, 255, 0, 255}
	case left:
		return color.NRGBA{0, 0, 255, 255}
	}
	return color.NRGBA{255, 255, 255, 255}
}

func encPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encBMP(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encTIFF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tiff.Encode(&b, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation inserts an APP1 EXIF segment with the given orientation
// right after the SOI marker of a JPEG, in big- or little-endian order.
func withOrientation(jpg []byte, o uint16, bigEndian bool) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	tiffHdr := []byte("II*\x00")
	if bigEndian {
		bo, tiffHdr = binary.BigEndian, []byte("MM\x00*")
	}
	t := append([]byte{}, tiffHdr...)
	t = bo.AppendUint32(t, 8) // IFD0 offset
	t = bo.AppendUint16(t, 2) // two entries: an unrelated one first
	// ImageWidth (0x0100), LONG, 1, 640
	t = bo.AppendUint16(t, 0x0100)
	t = bo.AppendUint16(t, 4)
	t = bo.AppendUint32(t, 1)
	t = bo.AppendUint32(t, 640)
	// Orientation (0x0112), SHORT, 1, o
	t = bo.AppendUint16(t, 0x0112)
	t = bo.AppendUint16(t, 3)
	t = bo.AppendUint32(t, 1)
	t = bo.AppendUint16(t, o)
	t = bo.AppendUint16(t, 0)
	t = bo.AppendUint32(t, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), t...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// bombPNG returns a PNG whose header declares w x h pixels, followed by a
// tiny (invalid) IDAT.
func bombPNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		td := append([]byte(typ), data...)
		b = append(b, td...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00})
	chunk("IEND", nil)
	return b
}

// cmykJPEG hand-encodes a baseline 4-component Adobe CMYK JPEG (transform
// 0) in which every 8x8 block is flat, with the colour at(bx, by) of block
// (bx, by). Go's encoder cannot write CMYK. Only DC coefficients are coded.
func cmykJPEG(bw, bh int, at func(bx, by int) color.CMYK) []byte {
	var b []byte
	seg := func(marker byte, data []byte) {
		b = append(b, 0xff, marker)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)+2))
		b = append(b, data...)
	}
	b = append(b, 0xff, 0xd8)
	seg(0xee, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")) // transform 0: CMYK
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt)
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(bh*8))
	sof = binary.BigEndian.AppendUint16(sof, uint16(bw*8))
	sof = append(sof, 4)
	for c := byte(1); c <= 4; c++ {
		sof = append(sof, c, 0x11, 0)
	}
	seg(0xc0, sof)
	dcBits := [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1}
	acBits := [16]byte{1, 1}
	dht := []byte{0x00}
	dht = append(dht, dcBits[:]...)
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	dht = append(dht, 0x10)
	dht = append(dht, acBits[:]...)
	dht = append(dht, 0x00, 0xf0)
	seg(0xc4, dht)
	sos := []byte{4}
	for c := byte(1); c <= 4; c++ {
		sos = append(sos, c, 0x00)
	}
	sos = append(sos, 0, 63, 0)
	seg(0xda, sos)

	// Canonical codes of the DC table (categories 0..11) and the EOB code.
	type code struct{ bits, n uint32 }
	var dc [12]code
	c, sym := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for range dcBits[l-1] {
			dc[sym] = code{c, uint32(l)}
			sym++
			c++
		}
		c <<= 1
	}
	eob := code{0, 1}
	var acc, nacc uint32
	put := func(bits, n uint32) {
		for i := int(n) - 1; i >= 0; i-- {
			acc = acc<<1 | (bits>>uint(i))&1
			nacc++
			if nacc == 8 {
				b = append(b, byte(acc))
				if byte(acc) == 0xff {
					b = append(b, 0)
				}
				acc, nacc = 0, 0
			}
		}
	}
	var pred [4]int
	for by := range bh {
		for bx := range bw {
			col := at(bx, by)
			samples := [4]uint8{255 - col.C, 255 - col.M, 255 - col.Y, 255 - col.K} // Adobe inversion
			for k, s := range samples {
				dcv := 8 * (int(s) - 128)
				diff := dcv - pred[k]
				pred[k] = dcv
				mag, cat := diff, uint32(0)
				if mag < 0 {
					mag = -mag
				}
				for mag>>cat != 0 {
					cat++
				}
				put(dc[cat].bits, dc[cat].n)
				if cat > 0 {
					v := diff
					if v < 0 {
						v += 1<<cat - 1
					}
					put(uint32(v), cat)
				}
				put(eob.bits, eob.n)
			}
		}
	}
	for nacc != 0 {
		put(1, 1)
	}
	return append(b, 0xff, 0xd9)
}

// writeFile writes data at dir/name, creating folders.
func writeFile(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// datasetOf builds a dataset directly from images (no files).
func datasetOf(imgs ...image.Image) *Dataset {
	d := &Dataset{summary: Summary{Source: "memory"}}
	var s resampler
	for _, img := range imgs {
		r := img.Bounds()
		c := 3
		if isGrayModel(img.ColorModel()) {
			c = 1
		}
		base := convert(&s, img, c, r.Dx(), r.Dy())
		d.images = append(d.images, newWorkImage(base))
		area := float64(r.Dx() * r.Dy())
		if k := len(d.cum); k > 0 {
			area += d.cum[k-1]
		}
		d.cum = append(d.cum, area)
	}
	return d
}

// pixel returns the RGB of a working copy's level-0 pixel.
func pixel(wi *workImage, x, y int) [3]uint8 {
	p := wi.levels[0]
	i := (y*p.w + x) * p.c
	if p.c == 1 {
		return [3]uint8{p.pix[i], p.pix[i], p.pix[i]}
	}
	return [3]uint8{p.pix[i], p.pix[i+1], p.pix[i+2]}
}

// near reports whether two colours differ by at most tol per channel.
func near(a, b [3]uint8, tol int) bool {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < -tol || d > tol {
			return false
		}
	}
	return true
}

func rgbOf(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}
