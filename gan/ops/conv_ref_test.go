package ops

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
)

// naiveConv is the textbook convolution (cross-correlation, as in every DL framework):
// y[n][co][i][j] = scale * sum over ci, ky, kx of w[co][ci][ky][kx] * x[n][ci][i+ky-p][j+kx-p] + b[co].
func naiveConv(x []float32, n, cin, h, w int, wt []float32, cout, k, p int, circ bool, scale float32, b []float32) ([]float32, int, int) {
	oh, ow := h+2*p-k+1, w+2*p-k+1
	y := make([]float32, n*cout*oh*ow)
	for b0 := 0; b0 < n; b0++ {
		for co := 0; co < cout; co++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					for ci := 0; ci < cin; ci++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								yy, xx := i+ky-p, j+kx-p
								if circ {
									yy, xx = mod(yy, h), mod(xx, w)
								} else if yy < 0 || yy >= h || xx < 0 || xx >= w {
									continue
								}
								s += float64(wt[((co*cin+ci)*k+ky)*k+kx]) * float64(x[((b0*cin+ci)*h+yy)*w+xx])
							}
						}
					}
					v := float32(s) * scale
					if b != nil {
						v += b[co]
					}
					y[((b0*cout+co)*oh+i)*ow+j] = v
				}
			}
		}
	}
	return y, oh, ow
}

// TestConvMatchesNaive compares the fused im2col + OpenBLAS convolution with the textbook formula,
// on non-square images (so that a swap of rows and columns would show) and every chunking path.
func TestConvMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, c := range []struct {
		n, cin, h, w, cout, k, p int
		circ                     bool
	}{
		{2, 3, 5, 7, 4, 3, 1, false},
		{2, 3, 5, 7, 4, 3, 1, true},
		{1, 2, 40, 27, 3, 3, 1, true},  // row chunks
		{3, 2, 33, 41, 2, 3, 1, false}, // row chunks, zero pad
		{8, 4, 4, 6, 5, 3, 1, true},    // several images per chunk
		{2, 3, 4, 4, 6, 4, 0, false},   // dense (valid 4x4)
		{2, 5, 6, 3, 2, 1, 0, false},   // 1x1
	} {
		x := randTensor(rng, c.n, c.cin, c.h, c.w)
		w := randTensor(rng, c.cout, c.cin, c.k, c.k)
		b := randTensor(rng, c.cout)
		g := G.NewGraph()
		bl := NewBuilder(NewArena())
		y := bl.Conv(inputNode(g, "x", x), inputNode(g, "w", w), inputNode(g, "b", b), ConvSpec{Pad: c.p, Circular: c.circ, Gain: 1})
		if bl.Err() != nil {
			t.Fatal(bl.Err())
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := y.Value().Data().([]float32)
		scale := EqualizedScale(1, c.cin*c.k*c.k)
		want, _, _ := naiveConv(x.Data().([]float32), c.n, c.cin, c.h, c.w, w.Data().([]float32), c.cout, c.k, c.p, c.circ, scale, b.Data().([]float32))
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: element %d is %g, want %g", c, i, got[i], want[i])
			}
		}
		m.Close()
	}
}
