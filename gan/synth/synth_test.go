package synth

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"tessera/gan/metric"
	"tessera/gan/model"
)

func testModel() (model.Config, *model.Params) {
	cfg := model.Config{MaxRes: 16, Channels: map[int]int{4: 16, 8: 12, 16: 8}, StyleDim: 8, NoiseDim: 4, MbstdGroup: 4}
	return cfg, model.NewGenerator(cfg, rand.New(rand.NewPCG(1, 2)))
}

// tileLatent repeats a latent grid k x k times.
func tileLatent(cfg model.Config, lt model.Latent, k int) model.Latent {
	l := lt.L * k
	out := model.Latent{N: lt.N, L: l, Style: append([]float32(nil), lt.Style...), Noise: make([]float32, lt.N*cfg.NoiseDim*l*l)}
	for i := 0; i < lt.N*cfg.NoiseDim; i++ {
		for y := 0; y < l; y++ {
			for x := 0; x < l; x++ {
				out.Noise[i*l*l+y*l+x] = lt.Noise[i*lt.L*lt.L+(y%lt.L)*lt.L+x%lt.L]
			}
		}
	}
	return out
}

// TestCircularPadding: with every convolution wrapping around, generating from a latent grid
// tiled 2x2 must give exactly the 2x2 tiling of the image of the original grid. This is what makes
// exports seamless at any size.
func TestCircularPadding(t *testing.T) {
	cfg, p := testModel()
	for _, alpha := range []float64{1, 0.4} {
		g := New(cfg, p, 16, alpha)
		lt := model.RandomLatent(cfg, 2, 3, rand.New(rand.NewPCG(3, 4)))
		small, s, err := g.Generate(lt)
		if err != nil {
			t.Fatal(err)
		}
		big, b, err := g.Generate(tileLatent(cfg, lt, 2))
		if err != nil {
			t.Fatal(err)
		}
		if s != 12 || b != 24 {
			t.Fatalf("sizes %d and %d, want 12 and 24 (3 and 6 cells of 4 px)", s, b)
		}
		var worst float64
		for i := 0; i < 2*3; i++ {
			for y := 0; y < b; y++ {
				for x := 0; x < b; x++ {
					d := math.Abs(float64(big[i*b*b+y*b+x] - small[i*s*s+(y%s)*s+x%s]))
					worst = math.Max(worst, d)
				}
			}
		}
		if worst > 1e-4 {
			t.Errorf("alpha %g: the tiled latent's image differs from the tiled image by up to %g", alpha, worst)
		}
	}
}

// TestLargerGridSeam: a larger latent grid gives a larger image whose wrap-around seam is as
// smooth as its interior. The wrap edge falls on a latent cell boundary (every 4 px at 16 px
// resolution), where an untrained generator's nearest-neighbour upsampling makes steps larger
// than inside a cell, so the seam is compared with the interior cell boundaries.
func TestLargerGridSeam(t *testing.T) {
	cfg, p := testModel()
	g := New(cfg, p, 16, 1)
	lt := model.RandomLatent(cfg, 4, 32, rand.New(rand.NewPCG(5, 6)))
	imgs, side, err := g.Generate(lt)
	if err != nil {
		t.Fatal(err)
	}
	if side != 128 {
		t.Fatalf("side %d, want 128", side)
	}
	cell := g.Scale()
	for i := 0; i < 4; i++ {
		img := imgs[i*3*side*side : (i+1)*3*side*side]
		at := func(c, y, x int) float64 { return float64(img[c*side*side+((y+side)%side)*side+(x+side)%side]) }
		var seam, interior float64
		var ns, ni int
		for c := 0; c < 3; c++ {
			for x := 0; x < side; x += cell { // vertical lines between columns x-1 and x
				for y := 0; y < side; y++ {
					d := math.Abs(at(c, y, x)-at(c, y, x-1)) + math.Abs(at(c, x, y)-at(c, x-1, y))
					if x == 0 {
						seam += d
						ns++
					} else {
						interior += d
						ni++
					}
				}
			}
		}
		ratio := (seam / float64(ns)) / (interior / float64(ni))
		if ratio < 0.9 || ratio > 1.1 {
			t.Errorf("image %d: wrap seam step / interior cell-boundary step = %.3f, want within 10%% of 1", i, ratio)
		}
		// and the plain seam score (all interior steps) stays close to 1 as well
		if sc := metric.SeamScoreImages(metric.Images{N: 4, C: 3, H: side, W: side, Data: imgs}, i); sc > 1.3 {
			t.Errorf("image %d: seam score %.2f", i, sc)
		}
	}
}

// TestTiledEqualsWhole: generating in tiles with a halo gives the same image as one pass.
func TestTiledEqualsWhole(t *testing.T) {
	cfg, p := testModel()
	g := New(cfg, p, 16, 1)
	lt := model.RandomLatent(cfg, 1, 21, rand.New(rand.NewPCG(8, 9)))
	whole, side, err := g.Generate(lt)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	tiled, tside, err := g.GenerateTiled(context.Background(), lt, 8, func(float64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if side != tside || calls != 9 {
		t.Fatalf("sizes %d/%d, %d progress calls (want 9 tiles)", side, tside, calls)
	}
	var worst float64
	for i := range whole {
		worst = math.Max(worst, math.Abs(float64(whole[i]-tiled[i])))
	}
	if worst > 1e-4 {
		t.Fatalf("tiled and whole generation differ by up to %g", worst)
	}
}
