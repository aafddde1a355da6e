package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"tessera/assets"
	"tessera/gan/metric"
	"tessera/gan/model"
	"tessera/gan/texture"
)

func exportModel(t testing.TB, res int) *Model {
	cfg := model.DefaultConfig()
	cfg.MaxRes = res
	return &Model{Config: cfg, Res: res, Alpha: 1, Params: model.NewGenerator(cfg, rand.New(rand.NewPCG(3, 3))),
		Images: 1234, RunDir: t.TempDir(), Seed: 1}
}

// cellSeam compares the wrap-around step of a tile with the steps across the interior latent
// cell boundaries (see synth.TestLargerGridSeam for why cell boundaries).
func cellSeam(img image.Image, cell int) float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	val := func(x, y int) float64 {
		r, g, bl, _ := img.At(b.Min.X+(x+w)%w, b.Min.Y+(y+h)%h).RGBA()
		return float64(r+g+bl) / 3
	}
	var seam, interior float64
	var ns, ni int
	for x := 0; x < w; x += cell {
		for y := 0; y < h; y++ {
			d := math.Abs(val(x, y)-val(x-1, y)) + math.Abs(val(y, x)-val(y, x-1))
			if x == 0 {
				seam, ns = seam+d, ns+1
			} else {
				interior, ni = interior+d, ni+1
			}
		}
	}
	return (seam / float64(ns)) / (interior / float64(ni))
}

func TestExport(t *testing.T) {
	m := exportModel(t, 32)
	ex := NewRenderer(m)
	out := t.TempDir()
	spec := ExportSpec{Size: 512, Dir: out, Normal: true, Height: true, Preview: true, Variants: 2, Spread: 0.3}
	p := ex.Random(7)
	res, err := Export(context.Background(), ex, p, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 8 || len(res.Seams) != 2 {
		t.Fatalf("files %v, seams %v", res.Files, res.Seams)
	}
	f, _ := os.Open(res.Files[0])
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 512 {
		t.Fatalf("texture: %v, %v", err, img.Bounds())
	}
	// seamless: the wrap-around step is within 10% of the interior's
	if r := cellSeam(img, ex.Scale()); r < 0.9 || r > 1.1 {
		t.Errorf("512 px export: wrap seam / interior cell-boundary step = %.3f, want within 10%% of 1", r)
	}
	// ...while a plain crop of a training photo is not seamless
	photo, err := assets.Textures().Open("castell_wall_gk_v01_cc.jpg")
	if err != nil {
		t.Fatal(err)
	}
	pimg, _, err := image.Decode(photo)
	photo.Close()
	if err != nil {
		t.Fatal(err)
	}
	crop := pimg.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(100, 100, 612, 612))
	// by the same statistic, and by the plain seam score
	if r := cellSeam(crop, ex.Scale()); r < 1.1 {
		t.Errorf("a 512 px crop of a photo: wrap seam / interior step = %.3f; want it visibly seamed (> 1.1)", r)
	}
	if s := metric.SeamScore(crop); s < 1.1 {
		t.Errorf("a crop of a photo has seam score %.2f; the test needs it to be visibly seamed", s)
	}
	if s := metric.SeamScore(img); math.Abs(s-res.Seams[0]) > 1e-9 {
		t.Errorf("reported seam %.4f, recomputed %.4f", res.Seams[0], s)
	}

	// deterministic: the same point and size give the same bytes
	out2 := t.TempDir()
	spec2 := spec
	spec2.Dir, spec2.Variants, spec2.Normal, spec2.Height, spec2.Preview = out2, 1, false, false, false
	res2, err := Export(context.Background(), ex, p, spec2, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(res.Files[0])
	b, _ := os.ReadFile(res2.Files[0])
	if !bytes.Equal(a, b) {
		t.Error("two exports of the same point and size differ")
	}

	// a second export into the same folder keeps the first
	again, err := Export(context.Background(), ex, p, ExportSpec{Size: 512, Dir: out, Variants: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files[0] == res.Files[0] {
		t.Errorf("the second export replaced %s", res.Files[0])
	}
	if kept, _ := os.ReadFile(res.Files[0]); !bytes.Equal(kept, a) {
		t.Error("the first export's file changed")
	}
	// ...and so do animations: two walks from the same point are two files
	anim := ExportSpec{Size: 128, Dir: t.TempDir(), Variants: 1, Animation: "gif", Frames: 4}
	w1, err := Export(context.Background(), ex, p, anim, nil)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := Export(context.Background(), ex, p, anim, nil)
	if err != nil {
		t.Fatal(err)
	}
	walk1, walk2 := w1.Files[len(w1.Files)-1], w2.Files[len(w2.Files)-1]
	if !strings.HasSuffix(walk1, "-walk.gif") || !strings.HasSuffix(walk2, "-walk.gif") || walk1 == walk2 {
		t.Errorf("animations %s and %s: want two distinct -walk.gif files", walk1, walk2)
	}

	// metadata round trip: the file names its model, point and size; regenerating gives it again
	m2, p2, size, err := FromPNG(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if size != 512 || m2.Res != m.Res || m2.Images != m.Images || !equal(p2.Style, p.Style) || p2.NoiseA != p.NoiseA {
		t.Fatalf("metadata: size %d res %d images %d", size, m2.Res, m2.Images)
	}
	out3 := t.TempDir()
	res3, err := Export(context.Background(), NewRenderer(m2), p2, ExportSpec{Size: size, Dir: out3, Variants: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(res3.Files[0])
	if !bytes.Equal(a, c) {
		t.Error("regenerating from the PNG's metadata gives a different file")
	}
	meta, err := texture.ReadPNGMeta(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := meta.Get(MetaSeed); !ok || v != "7" {
		t.Errorf("seed metadata %q", v)
	}
	for _, bad := range []ExportSpec{{Size: 2, Dir: out}, {Size: 512}, {Size: 100000, Dir: out}} {
		if _, err := Export(context.Background(), ex, p, bad, nil); err == nil {
			t.Errorf("Export(%+v) should fail", bad)
		}
	}
}

// BenchmarkExport1024 exports one 1024 px texture of a default 64 px model (weights random:
// the work is the same as for a trained one).
func BenchmarkExport1024(b *testing.B) {
	m := exportModel(b, 64)
	ex := NewRenderer(m)
	p := ex.Random(1)
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := Export(context.Background(), ex, p, ExportSpec{Size: 1024, Dir: dir, Variants: 1}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPreviewTile(t *testing.T) {
	for _, c := range []struct{ w, h, wantW, wantH int }{
		{512, 512, 512, 512},
		{2048, 2048, 2048, 2048},
		{4096, 4096, 2048, 2048},
		{8192, 4096, 2048, 1024},
	} {
		got := previewTile(image.NewNRGBA(image.Rect(0, 0, c.w, c.h))).Bounds()
		if got.Dx() != c.wantW || got.Dy() != c.wantH {
			t.Errorf("%dx%d: preview tile %v, want %dx%d", c.w, c.h, got, c.wantW, c.wantH)
		}
	}
}

// TestPNGBits: a 16-bit export reads back as 16 bits per channel and an 8-bit one as 8, which
// `export --from` uses to regenerate a texture at its own depth.
func TestPNGBits(t *testing.T) {
	m := exportModel(t, 8)
	ex := NewRenderer(m)
	p := ex.Random(3)
	for _, bits := range []int{8, 16} {
		res, err := Export(context.Background(), ex, p, ExportSpec{Size: 16, Dir: t.TempDir(), Variants: 1, Bits16: bits == 16}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PNGBits(res.Files[0])
		if err != nil || got != bits {
			t.Errorf("%d-bit export: PNGBits = %d, %v", bits, got, err)
		}
	}
	if _, err := PNGBits(t.TempDir() + "/missing.png"); err == nil {
		t.Error("PNGBits of a missing file should fail")
	}
}
