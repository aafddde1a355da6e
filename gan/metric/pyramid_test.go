package metric

import (
	"math"
	"math/rand/v2"
	"testing"
)

// plane returns an h x w plane with values f(x, y).
func plane(h, w int, f func(x, y int) float64) []float64 {
	p := make([]float64, h*w)
	for y := range h {
		for x := range w {
			p[y*w+x] = f(x, y)
		}
	}
	return p
}

func TestMirror(t *testing.T) {
	tests := []struct{ i, n, want int }{
		{-1, 5, 1}, {-2, 5, 2}, {0, 5, 0}, {4, 5, 4}, {5, 5, 3}, {6, 5, 2}, {-3, 2, 1}, {3, 1, 0},
	}
	for _, tt := range tests {
		if got := mirror(tt.i, tt.n); got != tt.want {
			t.Errorf("mirror(%d, %d) = %d, want %d", tt.i, tt.n, got, tt.want)
		}
	}
}

// TestBlurByHand checks single pixels of the 5x5 binomial blur with mirrored borders.
// The image is x^2 + 10 y^2, so the blur is blur1d(x^2) + 10 blur1d(y^2). In 1-D, x^2 on
// 0..4 is [0 1 4 9 16] and mirroring gives (index -2..6) [4 1 | 0 1 4 9 16 | 9 4]:
//
//	x=0: (1*4 + 4*1 + 6*0 + 4*1 + 1*4)/16  = 16/16 = 1
//	x=2: (1*0 + 4*1 + 6*4 + 4*9 + 1*16)/16 = 80/16 = 5
//	x=4: (1*4 + 4*9 + 6*16 + 4*9 + 1*4)/16 = 176/16 = 11
//
// (Edge-duplicating "reflect" borders would give 9/16 at x=0.)
func TestBlurByHand(t *testing.T) {
	img := plane(5, 5, func(x, y int) float64 { return float64(x*x + 10*y*y) })
	b := blur(img, 5, 5, binomial)
	tests := []struct {
		x, y int
		want float64
	}{
		{0, 0, 1 + 10*1},
		{4, 0, 11 + 10*1},
		{2, 4, 5 + 10*11},
		{0, 4, 1 + 10*11},
		{2, 2, 5 + 10*5},
	}
	for _, tt := range tests {
		if got := b[tt.y*5+tt.x]; math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("blur at (%d,%d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}

// TestPyrDownByHand: x^2 on an 8x8 plane, downsampled to 4x4, keeps the blur at even x:
//
//	x=0: (4 + 4*1 + 0 + 4*1 + 4)/16           = 1
//	x=2: (0 + 4*1 + 6*4 + 4*9 + 16)/16        = 5
//	x=4: (4 + 4*9 + 6*16 + 4*25 + 36)/16      = 17
//	x=6: (16 + 4*25 + 6*36 + 4*49 + 36)/16    = 35.25 (tap 8 -> 6)
func TestPyrDownByHand(t *testing.T) {
	d := pyrDown(plane(8, 8, func(x, y int) float64 { return float64(x * x) }), 8, 8)
	if len(d) != 16 {
		t.Fatalf("len = %d, want 16", len(d))
	}
	want := []float64{1, 5, 17, 35.25}
	for y := range 4 {
		for x := range 4 {
			if got := d[y*4+x]; math.Abs(got-want[x]) > 1e-12 {
				t.Errorf("pyrDown at (%d,%d) = %v, want %v", x, y, got, want[x])
			}
		}
	}
}

// TestPyrUpByHand: x^2 on a 4x4 plane ([0 1 4 9]) is zero-stuffed to [0 0 1 0 4 0 9 0]
// and blurred with 2*[1 4 6 4 1]/16 per axis (mirrored, so index 8 -> 6 and -2 -> 2):
//
//	x=0: 2*(1*1 + 6*0 + 1*1)/16       = 0.25   (taps -2->2 and 2)
//	x=1: 2*(4*0 + 4*1)/16             = 0.5
//	x=2: 2*(1*0 + 6*1 + 1*4)/16       = 1.25
//	x=6: 2*(1*4 + 6*9 + 1*9)/16       = 8.375  (tap 8 -> 6)
//	x=7: 2*(4*9 + 4*9)/16             = 9      (tap 8 -> 6)
//
// Along y the plane is constant and the same filter reproduces constants exactly.
func TestPyrUpByHand(t *testing.T) {
	u := pyrUp(plane(4, 4, func(x, y int) float64 { return float64(x * x) }), 4, 4)
	if len(u) != 64 {
		t.Fatalf("len = %d, want 64", len(u))
	}
	want := map[int]float64{0: 0.25, 1: 0.5, 2: 1.25, 6: 8.375, 7: 9}
	for y := range 8 {
		for x, w := range want {
			if got := u[y*8+x]; math.Abs(got-w) > 1e-12 {
				t.Errorf("pyrUp at (%d,%d) = %v, want %v", x, y, got, w)
			}
		}
	}
}

func TestLaplacianConstant(t *testing.T) {
	const c = 191.25
	pyr := laplacian(plane(64, 64, func(x, y int) float64 { return c }), 64, 3)
	if len(pyr) != 3 {
		t.Fatalf("got %d levels, want 3", len(pyr))
	}
	for l, lev := range pyr {
		size := 64 >> l
		if len(lev) != size*size {
			t.Fatalf("level %d has %d values, want %d", l, len(lev), size*size)
		}
		want := 0.0
		if l == len(pyr)-1 {
			want = c // the low-pass residual keeps the constant
		}
		for i, v := range lev {
			if math.Abs(v-want) > 1e-9 {
				t.Fatalf("level %d value %d = %v, want %v", l, i, v, want)
			}
		}
	}
}

// TestLaplacianReconstructs collapses the pyramid (residual, then upsample and add each
// finer level) and expects the input back, which checks that each level is the Gaussian
// level minus the upsampled next one.
func TestLaplacianReconstructs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	img := plane(32, 32, func(x, y int) float64 { return 255 * rng.Float64() })
	pyr := laplacian(img, 32, 2)
	g := pyr[1]
	for l := len(pyr) - 2; l >= 0; l-- {
		size := 32 >> l
		up := pyrUp(g, size/2, size/2)
		for i := range up {
			up[i] += pyr[l][i]
		}
		g = up
	}
	for i := range img {
		if math.Abs(g[i]-img[i]) > 1e-9 {
			t.Fatalf("pixel %d: reconstructed %v, want %v", i, g[i], img[i])
		}
	}
	var energy float64
	for _, v := range pyr[0] {
		energy += v * v
	}
	if energy == 0 {
		t.Error("finest Laplacian level of a noise image is zero")
	}
}

func TestLevelCount(t *testing.T) {
	tests := []struct{ res, want int }{{8, 1}, {16, 1}, {32, 2}, {64, 3}, {256, 5}}
	for _, tt := range tests {
		if got := levelCount(tt.res); got != tt.want {
			t.Errorf("levelCount(%d) = %d, want %d", tt.res, got, tt.want)
		}
	}
}
