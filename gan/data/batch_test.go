package data

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"
	"time"
)

func TestBatchDeterministic(t *testing.T) {
	ds := datasetOf(gradient(128, 96), quadrants(64, 64))
	opts := CropOptions{Res: 16, Source: 48, Jitter: [2]float64{0.8, 1.25}, FlipH: true, FlipV: true, Rotate90: true}
	const n = 8
	a := make([]float32, n*3*16*16)
	b := make([]float32, len(a))
	c := make([]float32, len(a))
	if err := ds.Batch(a, n, opts, 42); err != nil {
		t.Fatal(err)
	}
	// Another batch in between must not change anything.
	if err := ds.Batch(c, n, opts, 7); err != nil {
		t.Fatal(err)
	}
	if err := ds.Batch(b, n, opts, 42); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different batches")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same batch")
	}
	for i, v := range a {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("value %d = %v outside [-1,1]", i, v)
		}
	}
	// Crops within a batch differ.
	size := 3 * 16 * 16
	if slices.Equal(a[:size], a[size:2*size]) {
		t.Error("the first two crops are identical")
	}
}

func TestBatchErrors(t *testing.T) {
	ds := datasetOf(gradient(32, 32))
	ok := CropOptions{Res: 8}
	for _, tc := range []struct {
		name string
		dst  []float32
		n    int
		opts CropOptions
	}{
		{"res not power of two", make([]float32, 3*12*12), 1, CropOptions{Res: 12}},
		{"res too small", make([]float32, 3*2*2), 1, CropOptions{Res: 2}},
		{"res too large", make([]float32, 3*2048*2048), 1, CropOptions{Res: 2048}},
		{"short dst", make([]float32, 3*8*8), 2, ok},
		{"zero n", nil, 0, ok},
		{"bad jitter", make([]float32, 3*8*8), 1, CropOptions{Res: 8, Jitter: [2]float64{1.2, 0.8}}},
	} {
		if err := ds.Batch(tc.dst, tc.n, tc.opts, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := (&Dataset{}).Batch(make([]float32, 3*8*8), 1, ok, 1); err == nil {
		t.Error("empty dataset: no error")
	}
}

// TestBatchOrientation checks that crops keep the image's orientation when
// flips and rotations are off, and that enabled flips and rotations happen.
func TestBatchOrientation(t *testing.T) {
	ds := datasetOf(gradient(200, 160))
	const res, n = 16, 64
	plane := res * res
	// dir returns the mean increase of red along x and y, and green along y.
	dir := func(crop []float32) (redX, redY, greenY float32) {
		for i := range res {
			redX += crop[i*res+res-1] - crop[i*res]
			redY += crop[(res-1)*res+i] - crop[i]
			greenY += crop[plane+(res-1)*res+i] - crop[plane+i]
		}
		return redX / res, redY / res, greenY / res
	}
	run := func(opts CropOptions) (flippedH, flippedV, rotated int) {
		dst := make([]float32, n*3*plane)
		if err := ds.Batch(dst, n, opts, 3); err != nil {
			t.Fatal(err)
		}
		for k := range n {
			rx, ry, gy := dir(dst[k*3*plane : (k+1)*3*plane])
			switch {
			case math.Abs(float64(ry)) > math.Abs(float64(rx)):
				rotated++
			case rx < 0:
				flippedH++
			case gy < 0:
				flippedV++
			}
		}
		return
	}
	base := CropOptions{Res: res, Source: 64, Jitter: [2]float64{0.8, 1.25}}
	if h, v, r := run(base); h+v+r != 0 {
		t.Errorf("no flips allowed: %d flipped horizontally, %d vertically, %d rotated", h, v, r)
	}
	withH := base
	withH.FlipH = true
	if h, v, r := run(withH); h == 0 || v+r != 0 {
		t.Errorf("FlipH: %d flipped horizontally, %d vertically, %d rotated", h, v, r)
	}
	withV := base
	withV.FlipV = true
	if h, v, r := run(withV); v == 0 || h+r != 0 {
		t.Errorf("FlipV: %d flipped horizontally, %d vertically, %d rotated", h, v, r)
	}
	withR := base
	withR.Rotate90 = true
	if _, _, r := run(withR); r == 0 {
		t.Error("Rotate90: no crop rotated")
	}
}

// TestBatchAntialias checks that shrinking a one-pixel checkerboard gives
// flat mid-grey, not aliasing.
func TestBatchAntialias(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			if (x+y)%2 == 0 {
				img.SetGray(x, y, color.Gray{255})
			}
		}
	}
	ds := datasetOf(img)
	const res, n = 16, 8
	dst := make([]float32, n*3*res*res)
	if err := ds.Batch(dst, n, CropOptions{Res: res, Source: 200, Jitter: [2]float64{0.7, 1.3}}, 9); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if math.Abs(float64(v)) > 0.02 {
			t.Fatalf("value %d = %v, want about 0 (mid-grey)", i, v)
		}
	}
}

func TestBatchGrayChannels(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	ds := datasetOf(img)
	const res = 8
	dst := make([]float32, 2*3*res*res)
	if err := ds.Batch(dst, 2, CropOptions{Res: res, Source: 20}, 5); err != nil {
		t.Fatal(err)
	}
	p := res * res
	for k := range 2 {
		c := dst[k*3*p:]
		if !slices.Equal(c[:p], c[p:2*p]) || !slices.Equal(c[:p], c[2*p:3*p]) {
			t.Fatalf("crop %d: gray channels differ", k)
		}
	}
}

// TestBatchAreaWeighting checks that images are picked in proportion to
// their area: a 128x128 black image and a 64x64 white one give 80% black.
func TestBatchAreaWeighting(t *testing.T) {
	black := image.NewGray(image.Rect(0, 0, 128, 128))
	white := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	ds := datasetOf(black, white)
	const res, n = 4, 2000
	dst := make([]float32, n*3*res*res)
	if err := ds.Batch(dst, n, CropOptions{Res: res, Source: 32}, 11); err != nil {
		t.Fatal(err)
	}
	blacks := 0
	for k := range n {
		if dst[k*3*res*res] < 0 {
			blacks++
		}
	}
	if frac := float64(blacks) / n; math.Abs(frac-0.8) > 0.04 {
		t.Errorf("black fraction %.3f, want 0.8", frac)
	}
}

// TestBatchUpscaledCrop samples crops larger than the image (enlarging).
func TestBatchUpscaledCrop(t *testing.T) {
	ds := datasetOf(gradient(8, 8))
	dst := make([]float32, 3*32*32)
	if err := ds.Batch(dst, 1, CropOptions{Res: 32, Source: 100}, 1); err != nil {
		t.Fatal(err)
	}
	if dst[0] >= dst[31] {
		t.Errorf("red does not grow along x: %v .. %v", dst[0], dst[31])
	}
}

func TestStream(t *testing.T) {
	ds := datasetOf(gradient(96, 96), quadrants(64, 48))
	opts := CropOptions{Res: 8, Source: 32, FlipH: true}
	const n, base, start = 4, 1234, 10
	s := ds.Stream(context.Background(), n, opts, base, start)
	want := make([]float32, n*3*8*8)
	for k := uint64(start); k < start+6; k++ {
		got, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.Batch(want, n, opts, Mix(base, k)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stream batch %d differs from Batch(Mix(base, %d))", k, k)
		}
	}
	s.Close()
	s.Close() // idempotent
	if _, err := s.Next(); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

func TestStreamCancel(t *testing.T) {
	ds := datasetOf(gradient(64, 64))
	ctx, cancel := context.WithCancel(context.Background())
	s := ds.Stream(ctx, 2, CropOptions{Res: 8}, 1, 0)
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Next()
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next blocked after cancel")
	}
}

func TestStreamBadOptions(t *testing.T) {
	ds := datasetOf(gradient(64, 64))
	s := ds.Stream(context.Background(), 2, CropOptions{Res: 7}, 1, 0)
	defer s.Close()
	for range 2 {
		if _, err := s.Next(); err == nil {
			t.Fatal("no error for a bad resolution")
		}
	}
}

func TestMix(t *testing.T) {
	seen := map[uint64]bool{}
	for k := range uint64(1000) {
		v := Mix(99, k)
		if seen[v] {
			t.Fatalf("Mix(99, %d) repeats", k)
		}
		seen[v] = true
	}
	if Mix(1, 0) == Mix(2, 0) {
		t.Error("Mix ignores its base")
	}
}
