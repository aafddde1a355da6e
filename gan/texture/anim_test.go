package texture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// walkFrames returns frames of a smooth latent-walk-like animation: gradients that shift with t.
func walkFrames(n, w, h int, alpha func(i, x, y int) uint8) []image.Image {
	frames := make([]image.Image, n)
	for i := range frames {
		ph := 2 * math.Pi * float64(i) / float64(n)
		frames[i] = nrgbaOf(w, h, func(x, y int) color.NRGBA {
			r := 127.5 + 127.5*math.Sin(2*math.Pi*float64(x)/float64(w)+ph)
			g := 255 * float64(y) / float64(h-1)
			b := 127.5 + 127.5*math.Cos(2*math.Pi*float64(x+y)/float64(w)-ph)
			a := uint8(255)
			if alpha != nil {
				a = alpha(i, x, y)
			}
			return color.NRGBA{uint8(r), uint8(g), uint8(b), a}
		})
	}
	return frames
}

func TestWriteGIF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames []image.Image
		delay  int
		maxErr float64 // mean absolute error per channel after quantisation
	}{
		// The fixed Plan9 palette with the same dithering scores about 3.5 on these frames.
		{"smooth gradients (median cut)", walkFrames(5, 48, 32, nil), 4, 2.5},
		{"few colours (exact palette)", []image.Image{
			nrgbaOf(8, 8, func(x, y int) color.NRGBA { return color.NRGBA{uint8(40 * ((x + y) % 3)), 200, uint8(x * 30), 255} }),
			nrgbaOf(8, 8, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, uint8(3 + y), 255} }),
		}, 0, 0},
		{"offset bounds", []image.Image{testImage(20, 10).SubImage(image.Rect(5, 2, 20, 10)), testImage(20, 10).SubImage(image.Rect(5, 2, 20, 10))}, 65535, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteGIF(&buf, tc.frames, tc.delay); err != nil {
				t.Fatalf("WriteGIF: %v", err)
			}
			g, err := gif.DecodeAll(&buf)
			if err != nil {
				t.Fatalf("image/gif: %v", err)
			}
			if len(g.Image) != len(tc.frames) || g.LoopCount != 0 {
				t.Fatalf("%d frames with loop count %d, want %d frames, loop count 0", len(g.Image), g.LoopCount, len(tc.frames))
			}
			b := tc.frames[0].Bounds()
			if g.Config.Width != b.Dx() || g.Config.Height != b.Dy() {
				t.Errorf("logical screen %dx%d, want %dx%d", g.Config.Width, g.Config.Height, b.Dx(), b.Dy())
			}
			for i, m := range g.Image {
				if g.Delay[i] != tc.delay {
					t.Errorf("frame %d delay %d, want %d", i, g.Delay[i], tc.delay)
				}
				if m.Rect != image.Rect(0, 0, b.Dx(), b.Dy()) {
					t.Errorf("frame %d bounds %v", i, m.Rect)
				}
				e := meanAbsErr(tc.frames[i], m)
				if i == 0 {
					t.Logf("frame 0: %d palette colours, local-mean error %.2f", len(m.Palette), e)
				}
				if e > tc.maxErr {
					t.Errorf("frame %d: mean absolute error %.2f, want <= %.2f", i, e, tc.maxErr)
				}
			}
		})
	}
}

// meanAbsErr is the mean absolute 8-bit RGB error between the 3x3 local means of a and b (b at
// the origin), over interior pixels: dithering trades per-pixel error for correct local averages,
// which is what the eye sees.
func meanAbsErr(a, b image.Image) float64 {
	ab := a.Bounds()
	local := func(m image.Image, x0, y0, x, y int) [3]float64 {
		var s [3]float64
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				r, g, b, _ := m.At(x0+x+dx, y0+y+dy).RGBA()
				s[0] += float64(r>>8) / 9
				s[1] += float64(g>>8) / 9
				s[2] += float64(b>>8) / 9
			}
		}
		return s
	}
	s, n := 0.0, 0
	for y := 1; y+1 < ab.Dy(); y++ {
		for x := 1; x+1 < ab.Dx(); x++ {
			ca, cb := local(a, ab.Min.X, ab.Min.Y, x, y), local(b, 0, 0, x, y)
			for c := 0; c < 3; c++ {
				s += math.Abs(ca[c] - cb[c])
			}
			n += 3
		}
	}
	return s / float64(n)
}

func TestMedianCut(t *testing.T) {
	// 4096 distinct colours: the palette must have 256 distinct entries and beat a uniform
	// 6x7x6 palette on a smooth image.
	m := flatten(nrgbaOf(64, 64, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x * 4), uint8(y * 4), uint8((x + y) * 2), 255} }))
	pal := quantize256(m)
	seen := map[color.Color]bool{}
	for _, c := range pal {
		seen[c] = true
	}
	if len(pal) != 256 || len(seen) != 256 {
		t.Errorf("palette has %d entries, %d distinct; want 256", len(pal), len(seen))
	}
	nearest := func(p color.Palette) float64 {
		s := 0.0
		for i := 0; i < len(m.Pix); i += 4 {
			c := p[p.Index(color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255})].(color.RGBA)
			s += math.Abs(float64(c.R)-float64(m.Pix[i])) + math.Abs(float64(c.G)-float64(m.Pix[i+1])) + math.Abs(float64(c.B)-float64(m.Pix[i+2]))
		}
		return s / float64(len(m.Pix)/4*3)
	}
	var uniform color.Palette
	for r := 0; r < 6; r++ {
		for g := 0; g < 7; g++ {
			for b := 0; b < 6; b++ {
				uniform = append(uniform, color.RGBA{uint8(r * 51), uint8(g * 42), uint8(b * 51), 255})
			}
		}
	}
	mc, un := nearest(pal), nearest(uniform)
	t.Logf("mean error: median cut %.2f, uniform 6x7x6 %.2f", mc, un)
	if mc >= un {
		t.Errorf("median-cut palette (%.2f) no better than a uniform one (%.2f)", mc, un)
	}
}

func TestWriteGIFErrors(t *testing.T) {
	f := testImage(4, 4)
	for _, tc := range []struct {
		name   string
		w      io.Writer
		frames []image.Image
		delay  int
		want   string
	}{
		{"no frames", io.Discard, nil, 1, "no frames"},
		{"nil frame", io.Discard, []image.Image{f, nil}, 1, "frame 1 is nil"},
		{"different bounds", io.Discard, []image.Image{f, testImage(5, 4)}, 1, "frame 1 has bounds"},
		{"empty frame", io.Discard, []image.Image{image.NewNRGBA(image.Rectangle{})}, 1, "empty"},
		{"too wide", io.Discard, []image.Image{image.NewGray(image.Rect(0, 0, 70000, 1))}, 1, "GIF limit"},
		{"negative delay", io.Discard, []image.Image{f}, -1, "delay -1"},
		{"delay too long", io.Discard, []image.Image{f}, 65536, "delay 65536"},
		{"nil writer", nil, []image.Image{f}, 1, "nil writer"},
		{"failing writer", failWriter{}, []image.Image{f}, 1, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := WriteGIF(tc.w, tc.frames, tc.delay); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// apng is an animated PNG as parsed by readAPNG.
type apng struct {
	ihdr      []byte
	numFrames uint32
	numPlays  uint32
	frames    []apngFrame
}

type apngFrame struct {
	w, h, x, y         uint32
	delayNum, delayDen uint16
	dispose, blend     byte
	data               []byte // concatenated IDAT or fdAT payloads (without sequence numbers)
}

// readAPNG is a minimal APNG reader: it checks chunk CRCs and order (acTL before the image data,
// fcTL before each frame's data) and that fcTL and fdAT sequence numbers run from 0 without gaps.
func readAPNG(b []byte) (*apng, error) {
	if len(b) < 8 || string(b[:8]) != "\x89PNG\r\n\x1a\n" {
		return nil, errors.New("no PNG signature")
	}
	a := &apng{}
	nextSeq := uint32(0)
	seq := func(d []byte) error {
		if len(d) < 4 {
			return errors.New("chunk too short for a sequence number")
		}
		if s := binary.BigEndian.Uint32(d); s != nextSeq {
			return fmt.Errorf("sequence number %d, want %d", s, nextSeq)
		}
		nextSeq++
		return nil
	}
	sawIDAT, sawIEND := false, false
	for p := 8; p < len(b); {
		if len(b)-p < 12 {
			return nil, fmt.Errorf("truncated chunk at %d", p)
		}
		n := int(binary.BigEndian.Uint32(b[p:]))
		if n > len(b)-p-12 {
			return nil, fmt.Errorf("chunk at %d overruns the file", p)
		}
		typ, d := string(b[p+4:p+8]), b[p+8:p+8+n]
		if crc := binary.BigEndian.Uint32(b[p+8+n:]); crc != crc32.ChecksumIEEE(b[p+4:p+8+n]) {
			return nil, fmt.Errorf("bad CRC in %s", typ)
		}
		p += 12 + n
		switch typ {
		case "IHDR":
			a.ihdr = d
		case "acTL":
			if sawIDAT || len(d) != 8 {
				return nil, errors.New("acTL after IDAT or of wrong size")
			}
			a.numFrames, a.numPlays = binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
		case "fcTL":
			if len(d) != 26 {
				return nil, errors.New("fcTL of wrong size")
			}
			if err := seq(d); err != nil {
				return nil, fmt.Errorf("fcTL: %w", err)
			}
			be := binary.BigEndian
			a.frames = append(a.frames, apngFrame{
				w: be.Uint32(d[4:]), h: be.Uint32(d[8:]), x: be.Uint32(d[12:]), y: be.Uint32(d[16:]),
				delayNum: be.Uint16(d[20:]), delayDen: be.Uint16(d[22:]), dispose: d[24], blend: d[25],
			})
		case "IDAT":
			if len(a.frames) != 1 {
				return nil, errors.New("IDAT not preceded by exactly one fcTL")
			}
			sawIDAT = true
			a.frames[0].data = append(a.frames[0].data, d...)
		case "fdAT":
			if len(a.frames) < 2 {
				return nil, errors.New("fdAT before the second fcTL")
			}
			if err := seq(d); err != nil {
				return nil, fmt.Errorf("fdAT: %w", err)
			}
			f := &a.frames[len(a.frames)-1]
			f.data = append(f.data, d[4:]...)
		case "IEND":
			sawIEND = true
		}
	}
	if !sawIEND || !sawIDAT || a.ihdr == nil {
		return nil, errors.New("missing IHDR, IDAT or IEND")
	}
	return a, nil
}

// framePNG re-assembles one APNG frame into a standalone PNG.
func framePNG(ihdr []byte, f apngFrame) []byte {
	h := append([]byte(nil), ihdr...)
	binary.BigEndian.PutUint32(h[0:], f.w)
	binary.BigEndian.PutUint32(h[4:], f.h)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, chunkBytes("IHDR", h)...)
	b = append(b, chunkBytes("IDAT", f.data)...)
	return append(b, chunkBytes("IEND", nil)...)
}

// sameNRGBA reports the first pixel where a and b differ as non-premultiplied 8-bit colours.
func sameNRGBA(a, b image.Image) error {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return fmt.Errorf("size %v vs %v", ab.Size(), bb.Size())
	}
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y))
			cb := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y))
			if ca != cb {
				return fmt.Errorf("pixel (%d,%d): %v vs %v", x, y, ca, cb)
			}
		}
	}
	return nil
}

func TestWriteAPNG(t *testing.T) {
	half := func(i, x, y int) uint8 { return uint8(128 + 127*((x+i)%2)) }
	mixed := func(i, x, y int) uint8 {
		if i == 1 {
			return uint8(x * 20)
		}
		return 255
	}
	premul := image.NewRGBA(image.Rect(0, 0, 6, 5))
	for i := range premul.Pix {
		premul.Pix[i] = uint8(i * 3 % 128)
		if i%4 == 3 {
			premul.Pix[i] = 128
		}
	}
	// Noise frames large enough for image/png to split their data over several IDAT chunks.
	big := make([]image.Image, 2)
	for i := range big {
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		big[i] = nrgbaOf(160, 120, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		})
	}
	for _, tc := range []struct {
		name      string
		frames    []image.Image
		num, den  uint16
		colorType byte
	}{
		{"opaque latent walk", walkFrames(6, 24, 16, nil), 1, 25, 2},
		{"translucent", walkFrames(3, 10, 7, half), 3, 100, 6},
		{"mixed opacity", walkFrames(3, 10, 7, mixed), 1, 10, 6},
		{"single frame", walkFrames(1, 5, 5, nil), 0, 0, 2},
		{"offset bounds", []image.Image{testImage(20, 10).SubImage(image.Rect(5, 2, 20, 10)), walkFrames(1, 20, 10, nil)[0].(*image.NRGBA).SubImage(image.Rect(5, 2, 20, 10))}, 1, 1, 2},
		{"premultiplied RGBA and gray", []image.Image{premul, image.NewGray(premul.Rect)}, 1, 2, 6},
		{"large frames", big, 1, 30, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteAPNG(&buf, tc.frames, tc.num, tc.den); err != nil {
				t.Fatalf("WriteAPNG: %v", err)
			}
			b := buf.Bytes()
			// Default image: image/png ignores the APNG chunks and decodes frame 0.
			def, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("image/png: %v", err)
			}
			if err := sameNRGBA(def, tc.frames[0]); err != nil {
				t.Errorf("default image differs from frame 0: %v", err)
			}
			a, err := readAPNG(b)
			if err != nil {
				t.Fatalf("APNG structure: %v", err)
			}
			if a.numFrames != uint32(len(tc.frames)) || a.numPlays != 0 || len(a.frames) != len(tc.frames) {
				t.Fatalf("acTL num_frames %d num_plays %d with %d fcTL; want %d, 0", a.numFrames, a.numPlays, len(a.frames), len(tc.frames))
			}
			if a.ihdr[8] != 8 || a.ihdr[9] != tc.colorType {
				t.Errorf("IHDR bit depth %d colour type %d, want 8, %d", a.ihdr[8], a.ihdr[9], tc.colorType)
			}
			sz := tc.frames[0].Bounds().Size()
			for i, f := range a.frames {
				if f.w != uint32(sz.X) || f.h != uint32(sz.Y) || f.x != 0 || f.y != 0 || f.delayNum != tc.num || f.delayDen != tc.den || f.dispose != 0 || f.blend != 0 {
					t.Errorf("frame %d fcTL %+v", i, f)
				}
				m, err := png.Decode(bytes.NewReader(framePNG(a.ihdr, f)))
				if err != nil {
					t.Fatalf("frame %d does not decode: %v", i, err)
				}
				if err := sameNRGBA(m, tc.frames[i]); err != nil {
					t.Errorf("frame %d: %v", i, err)
				}
			}
		})
	}
	t.Run("large frames are split into several fdAT chunks", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteAPNG(&buf, big, 1, 30); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range walkChunks(t, buf.Bytes()) {
			if c.typ == "fdAT" {
				n++
			}
		}
		if n < 2 {
			t.Errorf("%d fdAT chunks; the test wants a frame spanning several", n)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		var a, b bytes.Buffer
		fs := walkFrames(3, 9, 9, mixed)
		if WriteAPNG(&a, fs, 1, 2) != nil || WriteAPNG(&b, fs, 1, 2) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Error("two encodings differ")
		}
	})
}

func TestReadAPNGDetectsBadSequence(t *testing.T) {
	// The test's reader must itself be able to fail: renumber the second fcTL.
	var buf bytes.Buffer
	if err := WriteAPNG(&buf, walkFrames(2, 4, 4, nil), 1, 1); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	var fctl []rawChunk
	for _, c := range walkChunks(t, b) {
		if c.typ == "fcTL" {
			fctl = append(fctl, c)
		}
	}
	bad := append([]byte(nil), b[:fctl[1].off]...)
	d := append([]byte(nil), fctl[1].data...)
	binary.BigEndian.PutUint32(d, 7)
	bad = append(bad, chunkBytes("fcTL", d)...)
	bad = append(bad, b[fctl[1].off+12+26:]...)
	if _, err := readAPNG(bad); err == nil || !strings.Contains(err.Error(), "sequence number 7") {
		t.Errorf("readAPNG error = %v, want a sequence error", err)
	}
}

func TestWriteAPNGErrors(t *testing.T) {
	f := testImage(4, 4)
	for _, tc := range []struct {
		name   string
		w      io.Writer
		frames []image.Image
		want   string
	}{
		{"no frames", io.Discard, []image.Image{}, "no frames"},
		{"nil frame", io.Discard, []image.Image{nil}, "frame 0 is nil"},
		{"different bounds", io.Discard, []image.Image{f, f, testImage(4, 5)}, "frame 2 has bounds"},
		{"same size, different origin", io.Discard, []image.Image{f, f.SubImage(image.Rect(1, 1, 4, 4)), f}, "frame 1 has bounds"},
		{"empty frame", io.Discard, []image.Image{image.NewRGBA(image.Rect(3, 3, 3, 9))}, "empty"},
		{"unbounded frame", io.Discard, []image.Image{image.NewUniform(color.White)}, "larger than"},
		{"nil writer", nil, []image.Image{f}, "nil writer"},
		{"failing writer", failWriter{}, []image.Image{f}, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := WriteAPNG(tc.w, tc.frames, 1, 10); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
