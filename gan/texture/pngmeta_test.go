package texture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkBytes builds a PNG chunk by hand: length, type, data, CRC-32 of type and data.
func chunkBytes(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// rawChunk is a chunk as found by walkChunks, with its offset in the file.
type rawChunk struct {
	typ  string
	data []byte
	off  int
}

// walkChunks splits a well-formed PNG into chunks, checking every CRC.
func walkChunks(t *testing.T, b []byte) []rawChunk {
	t.Helper()
	if len(b) < 8 || string(b[:8]) != "\x89PNG\r\n\x1a\n" {
		t.Fatalf("missing PNG signature")
	}
	var cs []rawChunk
	for p := 8; p < len(b); {
		if len(b)-p < 12 {
			t.Fatalf("truncated chunk at %d", p)
		}
		n := int(binary.BigEndian.Uint32(b[p:]))
		if n > len(b)-p-12 {
			t.Fatalf("chunk at %d overruns the file", p)
		}
		if crc32.ChecksumIEEE(b[p+4:p+8+n]) != binary.BigEndian.Uint32(b[p+8+n:]) {
			t.Fatalf("bad CRC for chunk %q at %d", b[p+4:p+8], p)
		}
		cs = append(cs, rawChunk{string(b[p+4 : p+8]), b[p+8 : p+8+n], p})
		p += 12 + n
	}
	return cs
}

// insertAfterIHDR inserts raw chunk bytes right after the IHDR chunk of a PNG.
func insertAfterIHDR(png []byte, chunks ...[]byte) []byte {
	out := append([]byte(nil), png[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, png[33:]...)
}

func testImage(w, h int) *image.NRGBA {
	return nrgbaOf(w, h, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 37), uint8(y * 59), uint8(x*y + 11), 255}
	})
}

func plainPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeMeta(t *testing.T, img image.Image, m Meta) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img, m); err != nil {
		t.Fatalf("EncodePNG: %v", err)
	}
	return buf.Bytes()
}

func longJSON(t *testing.T) string {
	t.Helper()
	type layer struct {
		Name   string    `json:"name"`
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	}
	var ls []layer
	for i := 0; len(ls) < 40; i++ {
		ls = append(ls, layer{Name: "conv" + strings.Repeat("é", i%3), Shape: []int{3, 3, i}, Values: []float64{float64(i) / 7, -float64(i) * 1e-3}})
	}
	b, err := json.Marshal(map[string]any{"seed": 42, "latent": "walk", "layers": ls})
	if err != nil {
		t.Fatal(err)
	}
	for len(b) < 10<<10 {
		b = append(b[:len(b)-1], []byte(`,"pad`+string(rune('a'+len(b)%26))+`":"`+strings.Repeat("x", 200)+`"}`)...)
	}
	if !json.Valid(b) {
		t.Fatal("test JSON is invalid")
	}
	return string(b)
}

func TestEncodePNGRoundTrip(t *testing.T) {
	js := longJSON(t)
	meta := Meta{
		{"Software", "Tessera"},
		{"tessera.config", js},
		{"Comment", "Grüße, 日本語, emoji 🧱, tab\tand newline\n"},
		{"Größe", "Latin-1 key"},
		{"Empty", ""},
		{"Comment", "duplicate keys keep their order"},
		{"NUL inside", "a\x00b"},
	}
	img := testImage(17, 9)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"NRGBA opaque", img},
		{"NRGBA translucent", nrgbaOf(5, 4, func(x, y int) color.NRGBA { return color.NRGBA{uint8(x * 50), 9, 200, uint8(y * 80)} })},
		{"RGBA", func() image.Image { m := image.NewRGBA(img.Rect); copy(m.Pix, img.Pix); return m }()},
		{"Gray", grayRow(0, 1, 2, 250)},
		{"Gray16", (&Field{W: 3, H: 1, V: []float64{0, 0.123456, 1}}).Gray16()},
		{"NRGBA64", func() image.Image {
			m := image.NewNRGBA64(image.Rect(0, 0, 3, 2))
			m.SetNRGBA64(1, 1, color.NRGBA64{1, 65534, 12345, 40000})
			return m
		}()},
		{"Paletted", func() image.Image {
			m := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
			m.Pix[5] = 1
			return m
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeMeta(t, tc.img, meta)
			got, err := ReadPNGMeta(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("ReadPNGMeta: %v", err)
			}
			if !reflect.DeepEqual(got, meta) {
				t.Errorf("meta round trip:\n got %q\nwant %q", got, meta)
			}
			// The iTXt chunks sit right after IHDR, and removing them gives exactly image/png's output.
			cs := walkChunks(t, b)
			if cs[0].typ != "IHDR" {
				t.Fatalf("first chunk %s", cs[0].typ)
			}
			for i := range meta {
				if cs[1+i].typ != "iTXt" {
					t.Fatalf("chunk %d is %s, want iTXt", 1+i, cs[1+i].typ)
				}
			}
			stripped := append(append([]byte(nil), b[:33]...), b[cs[1+len(meta)].off:]...)
			if !bytes.Equal(stripped, plainPNG(t, tc.img)) {
				t.Error("PNG without the inserted chunks differs from image/png's encoding")
			}
			// Pixels decode unchanged.
			dec, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("image/png cannot decode the result: %v", err)
			}
			ref, err := png.Decode(bytes.NewReader(plainPNG(t, tc.img)))
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(dec) != reflect.TypeOf(ref) {
				t.Errorf("decoded as %T, image/png alone gives %T", dec, ref)
			}
			bd := tc.img.Bounds()
			for y := bd.Min.Y; y < bd.Max.Y; y++ {
				for x := bd.Min.X; x < bd.Max.X; x++ {
					want := color.NRGBA64Model.Convert(tc.img.At(x, y))
					if g := color.NRGBA64Model.Convert(dec.At(x, y)); g != want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
	t.Run("bit depth follows the image type", func(t *testing.T) {
		for _, tc := range []struct {
			img   image.Image
			depth byte
		}{{img, 8}, {grayRow(1, 2), 8}, {(&Field{W: 2, H: 1, V: []float64{0, 1}}).Gray16(), 16}, {image.NewNRGBA64(image.Rect(0, 0, 2, 2)), 16}} {
			if d := encodeMeta(t, tc.img, Meta{{"k", "v"}})[24]; d != tc.depth {
				t.Errorf("%T: IHDR bit depth %d, want %d", tc.img, d, tc.depth)
			}
		}
	})
	t.Run("Get", func(t *testing.T) {
		if v, ok := meta.Get("Comment"); !ok || v != meta[2].Value {
			t.Errorf("Get(Comment) = %q, %v; want the first Comment", v, ok)
		}
		if v, ok := meta.Get("tessera.config"); !ok || v != js {
			t.Errorf("Get(tessera.config) = %d bytes, %v", len(v), ok)
		}
		if _, ok := meta.Get("missing"); ok {
			t.Error("Get(missing) reported a value")
		}
		if _, ok := Meta(nil).Get(""); ok {
			t.Error("Get on nil Meta reported a value")
		}
	})
	t.Run("no metadata", func(t *testing.T) {
		b := encodeMeta(t, img, nil)
		if !bytes.Equal(b, plainPNG(t, img)) {
			t.Error("EncodePNG without metadata differs from image/png's encoding")
		}
		if m, err := ReadPNGMeta(bytes.NewReader(b)); err != nil || len(m) != 0 {
			t.Errorf("ReadPNGMeta = %q, %v; want empty, nil", m, err)
		}
	})
}

func TestEncodePNGDeterministic(t *testing.T) {
	meta := Meta{{"a", "1"}, {"seed", "12345"}, {"json", longJSON(t)}}
	first := encodeMeta(t, testImage(64, 64), meta)
	for i := 0; i < 3; i++ {
		if b := encodeMeta(t, testImage(64, 64), append(Meta(nil), meta...)); !bytes.Equal(b, first) {
			t.Fatalf("encoding %d differs from the first", i+1)
		}
	}
}

func TestEncodePNGErrors(t *testing.T) {
	img := testImage(2, 2)
	for _, tc := range []struct {
		name string
		w    io.Writer
		img  image.Image
		meta Meta
		want string
	}{
		{"empty key", io.Discard, img, Meta{{"", "v"}}, "empty key"},
		{"80-character key", io.Discard, img, Meta{{strings.Repeat("k", 80), "v"}}, "maximum is 79"},
		{"leading space", io.Discard, img, Meta{{" key", "v"}}, "leading or trailing space"},
		{"trailing space", io.Discard, img, Meta{{"key ", "v"}}, "leading or trailing space"},
		{"consecutive spaces", io.Discard, img, Meta{{"a  b", "v"}}, "consecutive spaces"},
		{"newline in key", io.Discard, img, Meta{{"a\nb", "v"}}, "not printable"},
		{"NUL in key", io.Discard, img, Meta{{"a\x00b", "v"}}, "not printable"},
		{"non-breaking space", io.Discard, img, Meta{{"a\u00a0b", "v"}}, "not printable"},
		{"DEL", io.Discard, img, Meta{{"a\x7fb", "v"}}, "not printable"},
		{"non-Latin-1 key", io.Discard, img, Meta{{"日本", "v"}}, "not Latin-1"},
		{"invalid UTF-8 key", io.Discard, img, Meta{{"a\xff", "v"}}, "not valid UTF-8"},
		{"invalid UTF-8 value", io.Discard, img, Meta{{"ok", "a\xffb"}}, "not valid UTF-8"},
		{"bad entry after good ones", io.Discard, img, Meta{{"ok", "v"}, {"", "v"}}, "entry 1"},
		{"nil image", io.Discard, nil, nil, "nil image"},
		{"empty image", io.Discard, image.NewNRGBA(image.Rectangle{}), nil, "empty"},
		{"unbounded image", io.Discard, image.NewUniform(color.Black), nil, "larger than"},
		{"nil writer", nil, img, nil, "nil writer"},
		{"failing writer", failWriter{}, img, nil, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := tc.w
			if w == io.Discard {
				w = &buf
			}
			err := EncodePNG(w, tc.img, tc.meta)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
	// Valid edge cases.
	for _, key := range []string{"k", strings.Repeat("k", 79), "a b c", "Größe ÿ¡", "~!@#"} {
		if err := EncodePNG(io.Discard, img, Meta{{key, "v"}}); err != nil {
			t.Errorf("key %q rejected: %v", key, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadPNGMetaHandCrafted(t *testing.T) {
	base := plainPNG(t, testImage(3, 3))
	tEXt := chunkBytes("tEXt", []byte("Title\x00caf\xe9 au lait")) // Latin-1 é
	zTXt := chunkBytes("zTXt", append([]byte("Description\x00\x00"), zlibBytes(t, []byte("r\xe9sum\xe9 "+strings.Repeat("ab", 500)))...))
	iTXtZ := chunkBytes("iTXt", append([]byte("Author\x00\x01\x00de\x00Urheber\x00"), zlibBytes(t, []byte("Jürgen 日本"))...))
	iTXt := chunkBytes("iTXt", []byte("Note\x00\x00\x00en-GB\x00Note\x00plain ✓"))
	gAMA := chunkBytes("gAMA", []byte{0, 0, 0xb1, 0x8f})
	b := insertAfterIHDR(base, tEXt, gAMA, zTXt, iTXtZ, iTXt)
	// Also a text chunk after the image data (allowed by the spec): insert before IEND.
	end := len(b) - 12
	b = append(append(append([]byte(nil), b[:end]...), chunkBytes("tEXt", []byte("Late\x00after IDAT"))...), b[end:]...)

	want := Meta{
		{"Title", "café au lait"},
		{"Description", "résumé " + strings.Repeat("ab", 500)},
		{"Author", "Jürgen 日本"},
		{"Note", "plain ✓"},
		{"Late", "after IDAT"},
	}
	got, err := ReadPNGMeta(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadPNGMeta: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// A one-byte-at-a-time reader without Len() gives the same result.
	got2, err := ReadPNGMeta(iotest.OneByteReader(bytes.NewReader(b)))
	if err != nil || !reflect.DeepEqual(got2, want) {
		t.Errorf("OneByteReader: got %q, %v", got2, err)
	}
	// image/png still decodes it.
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("image/png rejects the hand-crafted file: %v", err)
	}
	// Latin-1 keys written by EncodePNG come back as the same UTF-8 string.
	if m, err := ReadPNGMeta(bytes.NewReader(insertAfterIHDR(base, chunkBytes("tEXt", []byte("Gr\xf6\xdfe\x00x"))))); err != nil || !reflect.DeepEqual(m, Meta{{"Größe", "x"}}) {
		t.Errorf("Latin-1 key: got %q, %v", m, err)
	}
}

// setUint32 returns a copy of b with a big-endian uint32 written at off.
func setUint32(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(c[off:], v)
	return c
}

func TestReadPNGMetaErrors(t *testing.T) {
	good := encodeMeta(t, testImage(4, 4), Meta{{"key", "value"}, {"second", "ü"}})
	cs := walkChunks(t, good)
	itxt := cs[1] // first iTXt chunk
	idat := cs[3] // the image data
	iend := cs[len(cs)-1]
	flip := func(off int) []byte { c := append([]byte(nil), good...); c[off] ^= 0x20; return c }
	base := plainPNG(t, testImage(2, 2))
	bomb := zlibBytes(t, make([]byte, MaxInflatedText+1))

	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty input", nil, "not a PNG"},
		{"bad signature", append([]byte("GIF89a.."), good[8:]...), "bad signature"},
		{"signature only", good[:8], "no IEND"},
		{"truncated chunk header", good[:itxt.off+5], "chunk header at offset"},
		{"truncated text data", good[:itxt.off+12], "declares"},
		{"truncated image data", good[:idat.off+20], "chunk IDAT at offset"},
		{"truncated CRC", good[:iend.off-2], "CRC of chunk"},
		{"missing IEND", good[:iend.off], "no IEND"},
		{"wrong CRC in text data", flip(itxt.off + 9), "computed"},
		{"wrong CRC value", flip(itxt.off + 8 + len(itxt.data)), "computed"},
		{"wrong CRC in image data", flip(idat.off + 10), "chunk IDAT"},
		{"length larger than the file", setUint32(good, itxt.off, 1<<30), "declares 1073741824 data bytes"},
		{"length larger than the PNG limit", setUint32(good, itxt.off, 1<<31), "PNG limit"},
		{"invalid chunk type", func() []byte { c := flip(itxt.off + 4); c[itxt.off+4] = '1'; return c }(), "invalid chunk type"},
		{"first chunk not IHDR", append(append([]byte(nil), good[:8]...), good[itxt.off:]...), "want IHDR"},
		{"tEXt without separator", insertAfterIHDR(base, chunkBytes("tEXt", []byte("nokey"))), "no NUL separator"},
		{"empty keyword", insertAfterIHDR(base, chunkBytes("tEXt", []byte("\x00v"))), "keyword length 0"},
		{"80-byte keyword", insertAfterIHDR(base, chunkBytes("tEXt", []byte(strings.Repeat("k", 80)+"\x00v"))), "keyword length 80"},
		{"zTXt bad method", insertAfterIHDR(base, chunkBytes("zTXt", append([]byte("k\x00\x01"), zlibBytes(t, []byte("x"))...))), "compression method 1"},
		{"zTXt no method", insertAfterIHDR(base, chunkBytes("zTXt", []byte("k\x00"))), "missing compression method"},
		{"zTXt corrupt zlib", insertAfterIHDR(base, chunkBytes("zTXt", []byte("k\x00\x00not zlib"))), "decompressing"},
		{"zTXt truncated zlib", insertAfterIHDR(base, chunkBytes("zTXt", append([]byte("k\x00\x00"), zlibBytes(t, []byte(strings.Repeat("hello", 100)))[:10]...))), "decompressing"},
		{"zTXt decompression bomb", insertAfterIHDR(base, chunkBytes("zTXt", append([]byte("k\x00\x00"), bomb...))), "exceeds the limit"},
		{"iTXt bad flag", insertAfterIHDR(base, chunkBytes("iTXt", []byte("k\x00\x02\x00\x00\x00v"))), "compression flag 2"},
		{"iTXt short", insertAfterIHDR(base, chunkBytes("iTXt", []byte("k\x00\x00"))), "missing compression flag"},
		{"iTXt no language NUL", insertAfterIHDR(base, chunkBytes("iTXt", []byte("k\x00\x00\x00en"))), "language tag"},
		{"iTXt no translated NUL", insertAfterIHDR(base, chunkBytes("iTXt", []byte("k\x00\x00\x00en\x00K"))), "translated keyword"},
		{"iTXt invalid UTF-8", insertAfterIHDR(base, chunkBytes("iTXt", []byte("k\x00\x00\x00\x00\x00\xff\xfe"))), "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{{"bytes.Reader", bytes.NewReader(tc.in)}, {"plain reader", iotest.HalfReader(bytes.NewReader(tc.in))}} {
				m, err := ReadPNGMeta(r.r)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error = %v, want one containing %q", r.name, err, tc.want)
				}
				if m != nil {
					t.Errorf("%s: got metadata %q along with the error", r.name, m)
				}
			}
		})
	}

	t.Run("every truncation fails", func(t *testing.T) {
		for n := 0; n < len(good); n++ {
			if _, err := ReadPNGMeta(bytes.NewReader(good[:n])); err == nil {
				t.Fatalf("prefix of %d/%d bytes accepted", n, len(good))
			}
		}
	})
	t.Run("reader error is wrapped", func(t *testing.T) {
		_, err := ReadPNGMeta(io.MultiReader(bytes.NewReader(good[:40]), iotest.ErrReader(errors.New("disk on fire"))))
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("nil reader", func(t *testing.T) {
		if _, err := ReadPNGMeta(nil); err == nil {
			t.Error("no error")
		}
	})
}

func TestReadPNGMetaBoundedAllocation(t *testing.T) {
	// A 60-byte file whose text chunk claims 2 GiB must not make the reader allocate it. Use a
	// reader without Len() so the early size check cannot help.
	base := plainPNG(t, testImage(1, 1))
	in := append(append([]byte(nil), base[:33]...), binary.BigEndian.AppendUint32(nil, 1<<31-1)...)
	in = append(in, "tEXtkey\x00value"...)
	for _, typ := range []string{"tEXt", "IDAT"} {
		copy(in[37:41], typ)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ReadPNGMeta(iotest.OneByteReader(bytes.NewReader(in)))
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "file ends after") {
			t.Errorf("%s: error = %v", typ, err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
			t.Errorf("%s: reading a %d-byte file allocated %d bytes", typ, len(in), d)
		}
	}
}
