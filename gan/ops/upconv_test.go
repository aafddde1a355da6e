package ops

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naiveUpsample is nearest-neighbour 2x upsampling of an NCHW batch of planes.
func naiveUpsample(x []float32, planes, h, w int) []float32 {
	y := make([]float32, planes*4*h*w)
	for p := 0; p < planes; p++ {
		for i := 0; i < 2*h; i++ {
			for j := 0; j < 2*w; j++ {
				y[(p*2*h+i)*2*w+j] = x[(p*h+i/2)*w+j/2]
			}
		}
	}
	return y
}

// TestUpsampleConvMatchesNaive compares the phase-decomposed convolution of an upsampled image
// with the textbook convolution of the upsampled image, forward, and its two adjoints with those
// of Upsample followed by Conv, on non-square images and every chunking path.
func TestUpsampleConvMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, c := range []struct {
		n, cin, h, w, cout int
		circ               bool
		act                bool
	}{
		{2, 3, 3, 5, 4, false, false},
		{2, 3, 3, 5, 4, true, true},
		{1, 2, 1, 1, 3, true, false},    // a single pixel: every tap wraps onto itself
		{1, 2, 30, 21, 3, true, true},   // row chunks
		{3, 2, 17, 23, 2, false, false}, // row chunks, zero pad
		{8, 4, 2, 3, 5, true, false},    // several images per chunk
	} {
		x := randTensor(rng, c.n, c.cin, c.h, c.w)
		w := randTensor(rng, c.cout, c.cin, 3, 3)
		b := randTensor(rng, c.cout)
		r := randTensor(rng, c.n, c.cout, 2*c.h, 2*c.w)
		spec := ConvSpec{Pad: 1, Circular: c.circ, Gain: 1.3, LeakyReLU: c.act}

		// the fused op and the composition it replaces, each with its gradients of sum(y*r)
		run := func(fused bool) (y, gx, gw, gb []float32) {
			g := G.NewGraph()
			arena := NewArena()
			bl := NewBuilder(arena)
			xn, wn, bn, rn := inputNode(g, "x", x), inputNode(g, "w", w), inputNode(g, "b", b), inputNode(g, "r", r)
			var yn *Node
			if fused {
				s := spec
				s.Upsample = true
				yn = bl.Conv(xn, wn, bn, s)
			} else {
				yn = bl.Conv(bl.Upsample(xn), wn, bn, spec)
			}
			cost := bl.add(apply(arena, bl.pool, dotDef(), yn, rn))
			if bl.Err() != nil {
				t.Fatal(bl.Err())
			}
			grads, err := G.Grad(cost, xn, wn, bn)
			if err != nil {
				t.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			get := func(n *Node) []float32 { return append([]float32(nil), n.Value().Data().([]float32)...) }
			return get(yn), get(grads[0]), get(grads[1]), get(grads[2])
		}
		y, gx, gw, gb := run(true)

		up := naiveUpsample(x.Data().([]float32), c.n*c.cin, c.h, c.w)
		want, _, _ := naiveConv(up, c.n, c.cin, 2*c.h, 2*c.w, w.Data().([]float32), c.cout, 3, 1, c.circ,
			EqualizedScale(1.3, c.cin*9), b.Data().([]float32))
		if c.act {
			for i, v := range want {
				if v < 0 {
					want[i] = v * Slope
				}
			}
		}
		compare(t, c, "forward vs naive", y, want)
		ry, rgx, rgw, rgb := run(false)
		compare(t, c, "forward vs Upsample+Conv", y, ry)
		compare(t, c, "input gradient", gx, rgx)
		compare(t, c, "weight gradient", gw, rgw)
		compare(t, c, "bias gradient", gb, rgb)
	}
}

func compare(t *testing.T, c any, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%+v: %s: %d values, want %d", c, what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%+v: %s: element %d is %g, want %g", c, what, i, got[i], want[i])
		}
	}
}

// TestPhaseKernelsAdjoint checks that foldPhaseGrads is the transpose of phaseKernels:
// <phaseKernels(w), g> = <w, fold(g)> for random w and g (the layouts of g and the phase kernels
// differ: g is [ph][ci*4+t][co]).
func TestPhaseKernelsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const cout, cin = 3, 2
	w := randTensor(rng, cout, cin, 3, 3).Data().([]float32)
	gp := randTensor(rng, 4, cin*4, cout).Data().([]float32)
	wp := make([]float32, 16*cout*cin)
	phaseKernels(w, cout, cin, wp)
	var lhs float64
	for ph := 0; ph < 4; ph++ {
		for co := 0; co < cout; co++ {
			for k := 0; k < cin*4; k++ {
				lhs += float64(wp[(ph*cout+co)*cin*4+k]) * float64(gp[(ph*cin*4+k)*cout+co])
			}
		}
	}
	dw := make([]float32, len(w))
	foldPhaseGrads(gp, cout, cin, dw)
	var rhs float64
	for i := range w {
		rhs += float64(w[i]) * float64(dw[i])
	}
	if math.Abs(lhs-rhs) > 1e-4*math.Abs(lhs) {
		t.Fatalf("<P w, g> = %g, <w, P^T g> = %g", lhs, rhs)
	}
	// every 3x3 tap is used by exactly 4 phase taps in total (once per phase)
	ones := make([]float32, len(gp))
	for i := range ones {
		ones[i] = 1
	}
	clear(dw)
	foldPhaseGrads(ones, cout, cin, dw)
	for i, v := range dw {
		if v != 4 {
			t.Fatalf("tap %d is summed by %g phase taps, want 4", i, v)
		}
	}
}

// TestFusedPixelNormBitIdentical checks that an inference builder's convolutions with fused pixel
// norm give exactly the values of the convolution followed by PixelNorm, plain and upsampling,
// and that the fused form refuses to be differentiated.
func TestFusedPixelNormBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, c := range []struct {
		n, cin, h, w, cout int
		up, act            bool
	}{
		{2, 3, 5, 7, 4, false, true},
		{1, 4, 30, 21, 6, false, false}, // row chunks
		{2, 3, 3, 5, 4, true, true},
		{1, 2, 30, 21, 3, true, false},
		{8, 4, 2, 3, 5, true, true}, // several images per chunk
	} {
		x := randTensor(rng, c.n, c.cin, c.h, c.w)
		w := randTensor(rng, c.cout, c.cin, 3, 3)
		bias := randTensor(rng, c.cout)
		spec := ConvSpec{Pad: 1, Circular: true, Gain: 1.4, LeakyReLU: c.act, Upsample: c.up, PixelNorm: true}
		run := func(inference bool) []float32 {
			g := G.NewGraph()
			b := NewBuilder(NewArena())
			if inference {
				b = NewInferenceBuilder(NewArena())
			}
			y := b.Conv(inputNode(g, "x", x), inputNode(g, "w", w), inputNode(g, "b", bias), spec)
			if b.Err() != nil {
				t.Fatal(b.Err())
			}
			if inference {
				if name := y.Op().(*op).def.name; !strings.Contains(name, "PixelNorm{") {
					t.Fatalf("inference builder did not fuse: %s", name)
				}
				// in a graph of its own, as the failed differentiation leaves nodes behind
				g2 := G.NewGraph()
				b2 := NewInferenceBuilder(NewArena())
				xn := inputNode(g2, "x", x)
				y2 := b2.Conv(xn, inputNode(g2, "w", w), inputNode(g2, "b", bias), spec)
				_, err := G.Grad(G.Must(G.Sum(y2)), xn)
				if err == nil || !strings.Contains(err.Error(), "no derivative") {
					t.Errorf("differentiating the fused op: got error %v, want one saying it has no derivative", err)
				}
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), y.Value().Data().([]float32)...)
		}
		fused, plain := run(true), run(false)
		for i := range plain {
			if fused[i] != plain[i] {
				t.Fatalf("%+v: element %d: fused %g, separate %g", c, i, fused[i], plain[i])
			}
		}
	}
}

// TestConvThen1x1 checks that the fused convolution + 1x1 convolution of an inference builder
// matches the two separate convolutions, with and without pixel norm, and on every chunking path.
func TestConvThen1x1(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, c := range []struct {
		n, cin, h, w, cout int
		pn                 bool
	}{
		{2, 3, 5, 7, 4, true},
		{1, 4, 30, 21, 6, true}, // row chunks
		{8, 4, 2, 3, 5, false},  // several images per chunk
	} {
		x := randTensor(rng, c.n, c.cin, c.h, c.w)
		w := randTensor(rng, c.cout, c.cin, 3, 3)
		bias := randTensor(rng, c.cout)
		w2 := randTensor(rng, 3, c.cout, 1, 1)
		b2 := randTensor(rng, 3)
		spec := ConvSpec{Pad: 1, Circular: true, Gain: 1.4, LeakyReLU: true, PixelNorm: c.pn}
		spec2 := ConvSpec{Gain: 1}
		run := func(inference bool) []float32 {
			g := G.NewGraph()
			b := NewBuilder(NewArena())
			if inference {
				b = NewInferenceBuilder(NewArena())
			}
			y := b.ConvThen1x1(inputNode(g, "x", x), inputNode(g, "w", w), inputNode(g, "b", bias), spec,
				inputNode(g, "w2", w2), inputNode(g, "b2", b2), spec2)
			if b.Err() != nil {
				t.Fatal(b.Err())
			}
			if got := y.Shape(); !got.Eq(tensor.Shape{c.n, 3, c.h, c.w}) {
				t.Fatalf("shape %v", got)
			}
			if name := y.Op().(*op).def.name; inference != strings.Contains(name, "Then1x1") {
				t.Fatalf("inference %t but op %s", inference, name)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), y.Value().Data().([]float32)...)
		}
		compare(t, c, "fused vs separate", run(true), run(false))
	}
}
