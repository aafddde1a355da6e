package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runConvMember computes one member of the convolution family with the given engine.
func runConvMember(t *testing.T, engine string, c convCfg, in ...*tensor.Dense) []float32 {
	t.Helper()
	if err := SetConvEngine(engine); err != nil {
		t.Fatal(err)
	}
	defer SetConvEngine("onednn")
	g := G.NewGraph()
	b := NewBuilder(NewArena())
	nodes := make([]*Node, len(in))
	for i, v := range in {
		nodes[i] = inputNode(g, fmt.Sprintf("in%d", i), v)
	}
	y := b.do(convDef(c), nodes...)
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Value().Data().([]float32)...)
}

// TestDNNLMatchesIm2col checks every member of the zero-padded convolution family on oneDNN
// against the im2col + OpenBLAS engine, on shapes that take one part and shapes split over the
// pool (weight gradients summed over parts), with odd channel counts (oneDNN pads its blocked
// layouts to 16 channels), 1x1 and dense (valid 4x4) kernels, non-square images, circular
// padding, and the pixel norm fused into inference graphs.
func TestDNNLMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, s := range []struct {
		n, cin, h, w, cout, k, pad int
		circ                       bool
	}{
		{2, 3, 5, 7, 4, 3, 1, false},
		{16, 32, 32, 32, 64, 3, 1, false}, // split over the pool
		{12, 129, 8, 8, 40, 3, 1, false},  // minibatch-stddev channel; 12 images: 4 parts of 3
		{6, 17, 16, 24, 5, 3, 1, false},   // non-square, odd channels
		{32, 3, 64, 64, 32, 1, 0, false},  // fromRGB
		{16, 128, 4, 4, 128, 4, 0, false}, // dense
		{5, 8, 33, 33, 16, 3, 1, false},   // a batch with no even split
	} {
		scale := float32(0.7)
		x := randTensor(rng, s.n, s.cin, s.h, s.w)
		w := randTensor(rng, s.cout, s.cin, s.k, s.k)
		bias := randTensor(rng, s.cout)
		oh, ow := s.h+2*s.pad-s.k+1, s.w+2*s.pad-s.k+1
		gy := randTensor(rng, s.n, s.cout, oh, ow)
		for _, c := range []struct {
			cfg convCfg
			in  []*tensor.Dense
		}{
			{convCfg{kind: convFwd, bias: true, act: true}, []*tensor.Dense{x, w, bias}},
			{convCfg{kind: convFwd, bias: true, act: true, pn: true}, []*tensor.Dense{x, w, bias}},
			{convCfg{kind: convFwd}, []*tensor.Dense{x, w}},
			{convCfg{kind: convData}, []*tensor.Dense{gy, w}},
			{convCfg{kind: convWeight}, []*tensor.Dense{x, gy}},
		} {
			c.cfg.k, c.cfg.pad, c.cfg.circ, c.cfg.scale = s.k, s.pad, s.circ, scale
			want := runConvMember(t, "im2col", c.cfg, c.in...)
			got := runConvMember(t, "onednn", c.cfg, c.in...)
			var maxAbs, maxErr float64
			for i := range want {
				maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
				maxErr = math.Max(maxErr, math.Abs(float64(got[i]-want[i])))
			}
			if len(got) != len(want) || maxErr > 1e-5*maxAbs || maxAbs == 0 {
				t.Errorf("%+v %s: max error %.3g against max |value| %.3g (%d and %d values)", s, c.cfg.name(), maxErr, maxAbs, len(got), len(want))
			}
		}
	}
}

// TestDNNLDeterministic runs a split weight gradient twice: the parts may land on either worker,
// but their sum is taken in a fixed order, so the results are bit-identical.
func TestDNNLDeterministic(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	x, gy := randTensor(rng, 16, 32, 32, 32), randTensor(rng, 16, 64, 32, 32)
	c := convCfg{kind: convWeight, k: 3, pad: 1, scale: 0.5}
	a := runConvMember(t, "onednn", c, x, gy)
	for r := 0; r < 3; r++ {
		b := runConvMember(t, "onednn", c, x, gy)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("run %d: element %d is %g, first run %g", r, i, b[i], a[i])
			}
		}
	}
}
