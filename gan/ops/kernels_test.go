package ops

import (
	"math"
	"math/rand"
	"testing"
)

// TestSumPlanes checks the vectorised per-channel sum against a float64 sum, on planes that are
// all vector body, all tail, and both.
func TestSumPlanes(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, s := range []struct{ n, c, plane int }{{1, 1, 1}, {3, 2, 15}, {2, 3, 16}, {4, 5, 17}, {2, 2, 1027}, {0, 2, 8}} {
		g := make([]float32, s.n*s.c*s.plane)
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		out := make([]float32, s.c+1)
		out[s.c] = 42 // outside [lo, hi): must stay
		sumPlanes(g, s.n, s.c, s.plane, 0, s.c, out)
		for ch := 0; ch < s.c; ch++ {
			var want, mag float64
			for b := 0; b < s.n; b++ {
				for _, v := range g[(b*s.c+ch)*s.plane : (b*s.c+ch+1)*s.plane] {
					want += float64(v)
					mag += math.Abs(float64(v))
				}
			}
			if math.Abs(float64(out[ch])-want) > 1e-6*(1+mag) {
				t.Errorf("%+v: channel %d sums to %g, want %g", s, ch, out[ch], want)
			}
		}
		if out[s.c] != 42 {
			t.Errorf("%+v: wrote past the channel range", s)
		}
	}
}
