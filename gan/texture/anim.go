package texture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
	"sort"
)

// checkFrames validates an animation's frames: at least one, none nil, all with the same
// non-empty bounds of at most maxPixels pixels. It returns the common bounds.
func checkFrames(frames []image.Image) (image.Rectangle, error) {
	if len(frames) == 0 {
		return image.Rectangle{}, errors.New("no frames")
	}
	var b image.Rectangle
	for i, f := range frames {
		if f == nil {
			return image.Rectangle{}, fmt.Errorf("frame %d is nil", i)
		}
		fb := f.Bounds()
		if i == 0 {
			b = fb
			if !sizeOK(b.Dx(), b.Dy()) {
				return image.Rectangle{}, fmt.Errorf("frame size %dx%d is empty or larger than %d pixels", b.Dx(), b.Dy(), maxPixels)
			}
		} else if fb != b {
			return image.Rectangle{}, fmt.Errorf("frame %d has bounds %v, frame 0 has %v", i, fb, b)
		}
	}
	return b, nil
}

// WriteGIF writes frames as an animated GIF that loops forever (loop count 0), showing each
// frame for delay hundredths of a second (0 to 65535).
//
// Each frame gets its own 256-colour palette computed by median cut (or its exact colours when it
// has at most 256), and is mapped to it with Floyd-Steinberg dithering. GIF has no partial
// transparency: frames are flattened onto black. All frames must have the same bounds, of at most
// 65535 x 65535 pixels; they are written with their top-left corner at the origin. A single frame
// is written without the looping extension (image/gif then reports LoopCount -1).
func WriteGIF(w io.Writer, frames []image.Image, delay int) error {
	if w == nil {
		return errors.New("texture: write GIF: nil writer")
	}
	b, err := checkFrames(frames)
	if err != nil {
		return fmt.Errorf("texture: write GIF: %w", err)
	}
	if b.Dx() > 65535 || b.Dy() > 65535 {
		return fmt.Errorf("texture: write GIF: frame size %dx%d exceeds the GIF limit of 65535", b.Dx(), b.Dy())
	}
	if delay < 0 || delay > 65535 {
		return fmt.Errorf("texture: write GIF: delay %d outside 0..65535 hundredths of a second", delay)
	}
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	g := &gif.GIF{
		Config:    image.Config{Width: r.Dx(), Height: r.Dy()},
		LoopCount: 0,
	}
	for _, f := range frames {
		src := flatten(f)
		pm := image.NewPaletted(r, quantize256(src))
		draw.FloydSteinberg.Draw(pm, r, src, image.Point{})
		g.Image = append(g.Image, pm)
		g.Delay = append(g.Delay, delay)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	if err := gif.EncodeAll(w, g); err != nil {
		return fmt.Errorf("texture: write GIF: %w", err)
	}
	return nil
}

// flatten returns img composited onto opaque black, as an *image.RGBA at the origin.
func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	for i := 3; i < len(dst.Pix); i += 4 {
		dst.Pix[i] = 255 // premultiplied colour over black: just drop alpha
	}
	return dst
}

// quantize256 returns a palette of at most 256 colours for the opaque image m: its exact colours
// if it has no more than 256, otherwise a median-cut palette.
func quantize256(m *image.RGBA) color.Palette {
	const n = 256
	exact := make(map[[3]uint8]struct{}, n+1)
	for i := 0; i < len(m.Pix) && len(exact) <= n; i += 4 {
		exact[[3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}] = struct{}{}
	}
	if len(exact) <= n {
		keys := make([][3]uint8, 0, len(exact))
		for c := range exact {
			keys = append(keys, c)
		}
		sort.Slice(keys, func(i, j int) bool { // deterministic output
			a, b := keys[i], keys[j]
			return a[0] < b[0] || a[0] == b[0] && (a[1] < b[1] || a[1] == b[1] && a[2] < b[2])
		})
		pal := make(color.Palette, len(keys))
		for i, c := range keys {
			pal[i] = color.RGBA{c[0], c[1], c[2], 255}
		}
		return pal
	}
	return medianCut(m, n)
}

// bucket is one cell of a 5-bit-per-channel colour histogram.
type bucket struct {
	q     [3]uint8  // quantised colour (0..31 per channel)
	count uint64    // pixels in the cell
	sum   [3]uint64 // sum of their 8-bit channel values
}

// medianCut returns a palette of at most n colours for the opaque image m: the histogram of
// 5-bit-per-channel colours is split recursively at the population median of the longest
// channel range of the box with the largest population x range; each box contributes its mean.
func medianCut(m *image.RGBA, n int) color.Palette {
	hist := make([]bucket, 1<<15)
	for i := 0; i < len(m.Pix); i += 4 {
		r, g, b := m.Pix[i], m.Pix[i+1], m.Pix[i+2]
		k := int(r>>3)<<10 | int(g>>3)<<5 | int(b>>3)
		h := &hist[k]
		h.q = [3]uint8{r >> 3, g >> 3, b >> 3}
		h.count++
		h.sum[0] += uint64(r)
		h.sum[1] += uint64(g)
		h.sum[2] += uint64(b)
	}
	entries := make([]bucket, 0, 1024)
	for _, h := range hist {
		if h.count > 0 {
			entries = append(entries, h)
		}
	}
	type box struct {
		e     []bucket
		count uint64
		axis  int
		rng   int
	}
	mk := func(e []bucket) box {
		bx := box{e: e}
		lo, hi := [3]int{255, 255, 255}, [3]int{}
		for _, h := range e {
			bx.count += h.count
			for c := 0; c < 3; c++ {
				lo[c] = min(lo[c], int(h.q[c]))
				hi[c] = max(hi[c], int(h.q[c]))
			}
		}
		for c := 0; c < 3; c++ {
			if hi[c]-lo[c] > bx.rng {
				bx.rng, bx.axis = hi[c]-lo[c], c
			}
		}
		return bx
	}
	boxes := []box{mk(entries)}
	for len(boxes) < n {
		best, score := -1, uint64(0)
		for i, bx := range boxes {
			if s := bx.count * uint64(bx.rng); len(bx.e) > 1 && s > score {
				best, score = i, s
			}
		}
		if best < 0 {
			break
		}
		bx := boxes[best]
		a := bx.axis
		sort.Slice(bx.e, func(i, j int) bool { return bx.e[i].q[a] < bx.e[j].q[a] })
		half, acc, cut := bx.count/2, uint64(0), 1
		for i := 0; i < len(bx.e)-1; i++ {
			acc += bx.e[i].count
			cut = i + 1
			if acc >= half {
				break
			}
		}
		boxes[best] = mk(bx.e[:cut])
		boxes = append(boxes, mk(bx.e[cut:]))
	}
	pal := make(color.Palette, 0, len(boxes))
	for _, bx := range boxes {
		var s [3]uint64
		for _, h := range bx.e {
			for c := 0; c < 3; c++ {
				s[c] += h.sum[c]
			}
		}
		mean := func(v uint64) uint8 { return uint8((v + bx.count/2) / bx.count) }
		pal = append(pal, color.RGBA{mean(s[0]), mean(s[1]), mean(s[2]), 255})
	}
	return pal
}

// toNRGBA returns img as an *image.NRGBA with bounds at the origin. It returns img itself, not a
// copy, when it already has that form, so the result must be treated as read-only.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if m, ok := img.(*image.NRGBA); ok && b.Min == (image.Point{}) {
		return m
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}

// pngChunk is one chunk of a PNG stream.
type pngChunk struct {
	typ  string
	data []byte
}

// splitPNG splits a PNG stream produced by image/png into its chunks (CRCs are not checked).
func splitPNG(b []byte) ([]pngChunk, error) {
	if len(b) < 8 || string(b[:8]) != pngSignature {
		return nil, errors.New("missing PNG signature")
	}
	var cs []pngChunk
	for p := 8; p < len(b); {
		if len(b)-p < 12 {
			return nil, errors.New("truncated chunk")
		}
		n := int(binary.BigEndian.Uint32(b[p:]))
		if n > len(b)-p-12 {
			return nil, errors.New("truncated chunk")
		}
		cs = append(cs, pngChunk{typ: string(b[p+4 : p+8]), data: b[p+8 : p+8+n]})
		p += 12 + n
	}
	return cs, nil
}

// encodedFrame is one frame of an APNG: the IHDR data it was encoded with and its image data,
// as the sequence of IDAT chunk payloads of that encoding.
type encodedFrame struct {
	ihdr []byte
	idat [][]byte
}

// encodeFrame encodes m with image/png and extracts its IHDR and IDAT payloads.
func encodeFrame(m *image.NRGBA) (encodedFrame, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		return encodedFrame{}, err
	}
	cs, err := splitPNG(buf.Bytes())
	if err != nil {
		return encodedFrame{}, err
	}
	var f encodedFrame
	for _, c := range cs {
		switch c.typ {
		case "IHDR":
			f.ihdr = c.data
		case "IDAT":
			f.idat = append(f.idat, c.data)
		}
	}
	if f.ihdr == nil || f.idat == nil {
		return encodedFrame{}, errors.New("image/png output lacks IHDR or IDAT")
	}
	return f, nil
}

// encodeRGBA encodes m as 8-bit RGBA image data (IHDR colour type 6, filter None on every row).
// image/png writes fully opaque images as RGB; this keeps opaque frames of an animation that
// also has translucent frames in the RGBA format that APNG requires all frames to share.
func encodeRGBA(m *image.NRGBA) (encodedFrame, error) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // bit depth 8, colour type RGBA; compression, filter, interlace 0
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	for y := 0; y < h; y++ {
		zw.Write([]byte{0}) // filter type None; writes to a bytes.Buffer cannot fail
		zw.Write(m.Pix[y*m.Stride : y*m.Stride+4*w])
	}
	if err := zw.Close(); err != nil {
		return encodedFrame{}, err
	}
	return encodedFrame{ihdr: ihdr, idat: [][]byte{buf.Bytes()}}, nil
}

// WriteAPNG writes frames as an animated PNG (APNG) that loops forever (num_plays 0), showing
// each frame for delayNum/delayDen seconds (a delayDen of 0 means hundredths, per the APNG
// specification).
//
// The frames are stored in 8-bit RGB when all of them are opaque, 8-bit RGBA otherwise (colours
// are converted to non-premultiplied 8-bit NRGBA first). The first frame is also the default image
// (its data is in IDAT chunks, so viewers without APNG support show it); every frame is a full
// frame at offset (0, 0) with dispose op NONE and blend op SOURCE. The frames are encoded by
// image/png and their IDAT data re-chunked into fdAT chunks; sequence numbers of fcTL and fdAT
// chunks run consecutively from 0. All frames must have the same non-empty bounds.
func WriteAPNG(w io.Writer, frames []image.Image, delayNum, delayDen uint16) error {
	if w == nil {
		return errors.New("texture: write APNG: nil writer")
	}
	if _, err := checkFrames(frames); err != nil {
		return fmt.Errorf("texture: write APNG: %w", err)
	}
	if uint64(len(frames)) > 1<<31-1 {
		return fmt.Errorf("texture: write APNG: too many frames (%d)", len(frames))
	}
	ms := make([]*image.NRGBA, len(frames))
	allOpaque := true
	for i, f := range frames {
		ms[i] = toNRGBA(f)
		allOpaque = allOpaque && ms[i].Opaque()
	}
	enc := make([]encodedFrame, len(ms))
	for i, m := range ms {
		var err error
		if allOpaque || !m.Opaque() {
			enc[i], err = encodeFrame(m)
		} else {
			enc[i], err = encodeRGBA(m)
		}
		if err != nil {
			return fmt.Errorf("texture: write APNG: frame %d: %w", i, err)
		}
		if !bytes.Equal(enc[i].ihdr, enc[0].ihdr) {
			return fmt.Errorf("texture: write APNG: frame %d encoded with header % x, frame 0 with % x", i, enc[i].ihdr, enc[0].ihdr)
		}
	}
	var out bytes.Buffer
	out.WriteString(pngSignature)
	appendChunk(&out, "IHDR", enc[0].ihdr)
	actl := make([]byte, 8)
	binary.BigEndian.PutUint32(actl[0:], uint32(len(frames)))
	binary.BigEndian.PutUint32(actl[4:], 0) // num_plays: loop forever
	appendChunk(&out, "acTL", actl)
	seq := uint32(0)
	for i, f := range enc {
		fctl := make([]byte, 26)
		binary.BigEndian.PutUint32(fctl[0:], seq)
		copy(fctl[4:12], f.ihdr[0:8]) // width, height
		// x_offset, y_offset = 0 (bytes 12..19)
		binary.BigEndian.PutUint16(fctl[20:], delayNum)
		binary.BigEndian.PutUint16(fctl[22:], delayDen)
		fctl[24], fctl[25] = 0, 0 // dispose_op NONE, blend_op SOURCE
		appendChunk(&out, "fcTL", fctl)
		seq++
		for _, d := range f.idat {
			if i == 0 {
				appendChunk(&out, "IDAT", d)
				continue
			}
			fdat := make([]byte, 4+len(d))
			binary.BigEndian.PutUint32(fdat, seq)
			copy(fdat[4:], d)
			appendChunk(&out, "fdAT", fdat)
			seq++
		}
	}
	appendChunk(&out, "IEND", nil)
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("texture: write APNG: write: %w", err)
	}
	return nil
}
