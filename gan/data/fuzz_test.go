package data

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"tessera/assets"
)

// FuzzDecode feeds arbitrary bytes to the path that turns a file into a
// working copy (header check, EXIF parsing, decoding, conversion,
// resampling, pyramid). It must never panic, and a header may not make it
// allocate more than MaxPixels allows.
func FuzzDecode(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 128}})
	small := gradient(9, 7)
	jpg := encJPEG(f, small)
	f.Add(encPNG(f, small))
	f.Add(encPNG(f, gray))
	f.Add(encPNG(f, image.NewGray16(image.Rect(0, 0, 3, 3))))
	f.Add(encPNG(f, pal))
	f.Add(jpg)
	f.Add(encJPEG(f, gray))
	f.Add(withOrientation(jpg, 6, true))
	f.Add(withOrientation(jpg, 7, false))
	f.Add(encGIF(f, pal))
	f.Add(encBMP(f, small))
	f.Add(encTIFF(f, small))
	f.Add(cmykJPEG(1, 1, func(int, int) color.CMYK { return color.CMYK{1, 2, 3, 4} }))
	f.Add(bombPNG(30000, 30000))
	if webp, err := os.ReadFile("testdata/quadrants.webp"); err == nil {
		f.Add(webp)
	}
	opt := Options{MaxSide: 32, MaxPixels: 1 << 20, MinSide: 2, Upscale: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		wi, hd, err := decodeBytes(b, opt)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		p := wi.levels[0]
		if p.w != hd.w || p.h != hd.h || len(p.pix) != p.w*p.h*p.c || max(p.w, p.h) > opt.MaxSide {
			t.Fatalf("working copy %dx%dx%d (%d bytes) for header %+v", p.w, p.h, p.c, len(p.pix), hd)
		}
		ds := datasetOf()
		ds.images = []*workImage{wi}
		ds.cum = []float64{float64(p.w * p.h)}
		dst := make([]float32, 3*4*4)
		if err := ds.Batch(dst, 1, CropOptions{Res: 4, Jitter: [2]float64{0.5, 2}, Rotate90: true}, 1); err != nil {
			t.Fatal(err)
		}
		for _, v := range dst {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("value %v", v)
			}
		}
	})
}

// BenchmarkBatch64 cuts 16-image batches of 64x64 crops (Source 256) from
// a 1024x1024 working copy.
func BenchmarkBatch64(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1024, 1024))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i>>12)
	}
	ds := datasetOf(img)
	opts := CropOptions{Res: 64, Source: 256, Jitter: [2]float64{0.8, 1.25}, FlipH: true}
	const n = 16
	dst := make([]float32, n*3*64*64)
	var s resampler
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := ds.batch(dst, n, opts, uint64(i), &s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "crops/s")
}

// BenchmarkStream64 is the pipeline as training uses it: the built-in photos, 16-image
// batches of 64x64 crops with jitter and flips, produced ahead by the stream's goroutine and
// taken by the caller (crops/s is what the trainer could consume at most).
func BenchmarkStream64(b *testing.B) {
	ds, err := LoadFS(context.Background(), assets.Textures(), "built-in", DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	const n = 16
	opts := CropOptions{Res: 64, Source: 256, Jitter: [2]float64{0.8, 1.25}, FlipH: true, FlipV: true}
	st := ds.Stream(context.Background(), n, opts, 1, 0)
	defer st.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := st.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "crops/s")
}

// BenchmarkBatchRes sweeps the output resolution (Source 256, batch 16).
func BenchmarkBatchRes(b *testing.B) {
	img := gradient(1024, 1024)
	ds := datasetOf(img)
	for _, res := range []int{4, 16, 256} {
		b.Run(fmt.Sprint(res), func(b *testing.B) {
			opts := CropOptions{Res: res, Source: 256, Jitter: [2]float64{0.8, 1.25}}
			const n = 16
			dst := make([]float32, n*3*res*res)
			var s resampler
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := ds.batch(dst, n, opts, uint64(i), &s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "crops/s")
		})
	}
}

// BenchmarkLoadBuiltIn loads the built-in texture set (three JPEG photos).
func BenchmarkLoadBuiltIn(b *testing.B) {
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ds, err := LoadFS(context.Background(), assets.Textures(), "built-in", DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		if ds.Len() != 3 {
			b.Fatal(ds.Len())
		}
	}
	b.ReportMetric(float64(b.N*3)/time.Since(start).Seconds(), "images/s")
}

// BenchmarkLoadPhoto decodes and downscales one 3000x2000 JPEG photo to the
// 1024 working copy.
func BenchmarkLoadPhoto(b *testing.B) {
	fsys := fstest.MapFS{"photo.jpg": {Data: encJPEG(b, gradient(3000, 2000))}}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := LoadFS(context.Background(), fsys, "photo", DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*6/time.Since(start).Seconds(), "megapixels/s")
}
