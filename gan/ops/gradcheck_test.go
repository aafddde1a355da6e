package ops

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dotDef: (x, r) -> sum(x*r), a scalar cost with a random upstream gradient r (test only).
func dotDef() *opDef {
	return &opDef{name: "Dot", arity: 2, typ: fn(t4, t4, scalar), diffWRT: []bool{true, false},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		exec: func(o *op, _ []float32, in args) (G.Value, error) {
			x := in.t[0]
			r := in.t[1]
			var s float64
			for i := range x {
				s += float64(x[i]) * float64(r[i])
			}
			return G.NewF32(float32(s)), nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(scaleByScalarDef(1), in[1], grad)
			return []*Node{g, nil}, err
		},
	}
}

func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	d := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func inputNode(g *G.ExprGraph, name string, v *tensor.Dense) *Node {
	if v.Dims() == 0 {
		return G.NewScalar(g, G.Float32, G.WithName(name), G.WithValue(v.Data().(float32)))
	}
	return G.NewTensor(g, G.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
}

// gradCase builds out = f(inputs) (a tensor) and checks d(sum(out*r))/d(input) for every
// differentiable input against central finite differences.
type gradCase struct {
	name   string
	inputs []*tensor.Dense
	diff   []bool // which inputs to check (default: all)
	build  func(b *Builder, in []*Node) *Node
	eps    float64
	tol    float64
	// directional compares derivatives along random directions (all entries of an input moved
	// at once) instead of entry by entry: in deep float32 networks single entries of early
	// layers move the output by less than its rounding error.
	directional bool
}

func checkGrad(t *testing.T, c gradCase) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	g := G.NewGraph()
	arena := NewArena()
	b := NewBuilder(arena)
	in := make([]*Node, len(c.inputs))
	for i, v := range c.inputs {
		in[i] = inputNode(g, fmt.Sprintf("in%d", i), v)
	}
	out := c.build(b, in)
	if b.Err() != nil {
		t.Fatalf("%s: build: %v", c.name, b.Err())
	}
	var cost *Node
	if out.IsScalar() {
		cost = out
	} else {
		r := randTensor(rng, out.Shape()...)
		cost = b.add(apply(arena, b.pool, dotDef(), out, inputNode(g, "r", r)))
	}
	var wrt []*Node
	var wrtIdx []int
	for i, n := range in {
		if (c.diff == nil || c.diff[i]) && c.inputs[i].Dims() > 0 {
			wrt = append(wrt, n)
			wrtIdx = append(wrtIdx, i)
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatalf("%s: Grad: %v", c.name, err)
	}
	keep := append([]*Node{cost}, grads...)
	if os.Getenv("NOPLAN") == "" {
		arena.Plan(g, keep...)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatalf("%s: run: %v", c.name, err)
		}
		v, err := scalarOf(cost.Value())
		if err != nil {
			t.Fatal(err)
		}
		return float64(v)
	}
	run()
	analytic := make([][]float32, len(grads))
	for i, gn := range grads {
		d, err := data(gn.Value())
		if err != nil {
			t.Fatal(err)
		}
		analytic[i] = append([]float32(nil), d...)
	}
	eps, tol := c.eps, c.tol
	if eps == 0 {
		eps = 1e-2
	}
	if tol == 0 {
		tol = 2e-3
	}
	for k, i := range wrtIdx {
		x := c.inputs[i].Data().([]float32)
		// Central differences at eps and eps/2. Where they disagree, the step crossed a kink of a
		// leaky ReLU (the function is only piecewise smooth): such probes are skipped, but they
		// must stay a small minority. Elsewhere the Richardson extrapolation of the two is compared.
		type probe struct {
			dir      []float32 // nil: the single entry j
			j        int
			analytic float64
		}
		var probes []probe
		if c.directional {
			for p := 0; p < 8; p++ {
				dir := make([]float32, len(x))
				var a float64
				for j := range dir {
					dir[j] = float32(rng.NormFloat64())
					a += float64(dir[j]) * float64(analytic[k][j])
				}
				probes = append(probes, probe{dir: dir, analytic: a})
			}
		} else {
			idx := rng.Perm(len(x))
			if len(idx) > 40 {
				idx = idx[:40]
			}
			for _, j := range idx {
				probes = append(probes, probe{j: j, analytic: float64(analytic[k][j])})
			}
		}
		orig := append([]float32(nil), x...)
		move := func(p probe, h float64) {
			if p.dir == nil {
				x[p.j] = orig[p.j] + float32(h)
				return
			}
			for j := range x {
				x[j] = orig[j] + float32(h)*p.dir[j]
			}
		}
		fd := func(p probe, h float64) float64 {
			move(p, h)
			fp := run()
			move(p, -h)
			fm := run()
			copy(x, orig)
			return (fp - fm) / (2 * h)
		}
		var errSq, refSq float64
		skipped := 0
		for _, p := range probes {
			n1, n2 := fd(p, eps), fd(p, eps/2)
			if math.Abs(n1-n2) > 0.1*math.Max(math.Abs(n2), 1e-2) {
				skipped++
				continue
			}
			num := (4*n2 - n1) / 3
			if testing.Verbose() && math.Abs(num-p.analytic) > tol*math.Max(math.Abs(num), 1e-3) {
				t.Logf("%s input %d [%d]: numeric %.6g analytic %.6g", c.name, i, p.j, num, p.analytic)
			}
			errSq += (num - p.analytic) * (num - p.analytic)
			refSq += num * num
		}
		if skipped > len(probes)/4 {
			t.Errorf("%s: input %d: %d of %d finite differences crossed a kink; use a smaller step", c.name, i, skipped, len(probes))
		}
		rel := math.Sqrt(errSq / math.Max(refSq, 1e-12))
		if testing.Verbose() {
			t.Logf("%s: input %d: relative error %.1e over %d probes (%d skipped at kinks)", c.name, i, rel, len(probes)-skipped, skipped)
		}
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("%s: gradient of input %d: relative error %.2e > %.0e", c.name, i, rel, tol)
		}
	}
}

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	rt := func(shape ...int) *tensor.Dense { return randTensor(rng, shape...) }
	conv := func(s ConvSpec) func(b *Builder, in []*Node) *Node {
		return func(b *Builder, in []*Node) *Node {
			var bias *Node
			if len(in) > 2 {
				bias = in[2]
			}
			return b.Conv(in[0], in[1], bias, s)
		}
	}
	cfg := func(kind convKind, k, pad int, circ bool) *opDef {
		return convDef(convCfg{kind: kind, k: k, pad: pad, circ: circ, scale: 0.7})
	}
	upCfg := func(kind convKind, circ bool) *opDef {
		return convDef(convCfg{kind: kind, k: 3, pad: 1, circ: circ, scale: 0.7, up: true})
	}
	raw := func(def func() *opDef) func(b *Builder, in []*Node) *Node {
		return func(b *Builder, in []*Node) *Node { return b.do(def(), in...) }
	}
	cases := []gradCase{
		{name: "conv3x3 zero pad", inputs: []*tensor.Dense{rt(2, 3, 5, 4), rt(4, 3, 3, 3), rt(4)}, build: conv(ConvSpec{Pad: 1, Gain: 1.4})},
		{name: "conv3x3 circular", inputs: []*tensor.Dense{rt(2, 3, 4, 5), rt(4, 3, 3, 3), rt(4)}, build: conv(ConvSpec{Pad: 1, Circular: true, Gain: 1.4})},
		{name: "conv3x3 circular 2x2 image", inputs: []*tensor.Dense{rt(1, 2, 2, 2), rt(3, 2, 3, 3)}, build: conv(ConvSpec{Pad: 1, Circular: true, Gain: 1})},
		{name: "conv3x3 circular lrelu", inputs: []*tensor.Dense{rt(2, 3, 4, 4), rt(2, 3, 3, 3), rt(2)}, build: conv(ConvSpec{Pad: 1, Circular: true, Gain: 1.4, LeakyReLU: true}), eps: 1e-3, tol: 1e-2},
		{name: "conv1x1", inputs: []*tensor.Dense{rt(3, 5, 3, 3), rt(2, 5, 1, 1), rt(2)}, build: conv(ConvSpec{Gain: 1})},
		{name: "conv big chunks", inputs: []*tensor.Dense{rt(2, 2, 40, 36), rt(3, 2, 3, 3), rt(3)}, build: conv(ConvSpec{Pad: 1, Circular: true, Gain: 1})},
		{name: "upsample conv circular", inputs: []*tensor.Dense{rt(2, 3, 3, 2), rt(4, 3, 3, 3), rt(4)}, build: conv(ConvSpec{Pad: 1, Circular: true, Gain: 1.4, Upsample: true})},
		{name: "upsample conv zero lrelu", inputs: []*tensor.Dense{rt(2, 2, 2, 3), rt(3, 2, 3, 3), rt(3)}, build: conv(ConvSpec{Pad: 1, Gain: 1.4, LeakyReLU: true, Upsample: true}), eps: 1e-3, tol: 1e-2},
		{name: "upsample conv data", inputs: []*tensor.Dense{rt(2, 4, 4, 6), rt(4, 3, 3, 3)}, build: raw(func() *opDef { return upCfg(convData, true) })},
		{name: "upsample conv weight", inputs: []*tensor.Dense{rt(2, 3, 2, 3), rt(2, 4, 4, 6)}, build: raw(func() *opDef { return upCfg(convWeight, false) })},
		{name: "dense", inputs: []*tensor.Dense{rt(4, 3, 4, 4), rt(5, 3, 4, 4), rt(5)}, build: func(b *Builder, in []*Node) *Node { return b.Dense(in[0], in[1], in[2], 1, false) }},
		{name: "conv data zero", inputs: []*tensor.Dense{rt(2, 4, 5, 4), rt(4, 3, 3, 3)}, build: raw(func() *opDef { return cfg(convData, 3, 1, false) })},
		{name: "conv data circular", inputs: []*tensor.Dense{rt(2, 4, 4, 3), rt(4, 3, 3, 3)}, build: raw(func() *opDef { return cfg(convData, 3, 1, true) })},
		{name: "conv data valid 4x4", inputs: []*tensor.Dense{rt(2, 5, 1, 1), rt(5, 3, 4, 4)}, build: raw(func() *opDef { return cfg(convData, 4, 0, false) })},
		{name: "conv weight zero", inputs: []*tensor.Dense{rt(2, 3, 5, 4), rt(2, 4, 5, 4)}, build: raw(func() *opDef { return cfg(convWeight, 3, 1, false) })},
		{name: "conv weight circular", inputs: []*tensor.Dense{rt(2, 3, 4, 4), rt(2, 4, 4, 4)}, build: raw(func() *opDef { return cfg(convWeight, 3, 1, true) })},
		{name: "bias grad", inputs: []*tensor.Dense{rt(2, 3, 2, 2)}, build: func(b *Builder, in []*Node) *Node {
			// BiasGrad gives a vector; spread it back to check it through BiasBroadcast
			v := b.do(biasGradDef(), in[0])
			return b.do(biasBroadcastDef(tensor.Shape{1, 3, 2, 1}), v)
		}},
		{name: "upsample", inputs: []*tensor.Dense{rt(2, 3, 3, 2)}, build: func(b *Builder, in []*Node) *Node { return b.Upsample(in[0]) }},
		{name: "avgpool", inputs: []*tensor.Dense{rt(2, 3, 4, 6)}, build: func(b *Builder, in []*Node) *Node { return b.AvgPool(in[0]) }},
		{name: "leaky relu", inputs: []*tensor.Dense{rt(2, 3, 4, 4)}, build: func(b *Builder, in []*Node) *Node { return b.LeakyReLU(in[0]) }, eps: 1e-3},
		{name: "leaky relu grad", inputs: []*tensor.Dense{rt(2, 3, 4, 4), rt(2, 3, 4, 4)}, diff: []bool{false, true}, build: raw(lreluGradDef)},
		{name: "lerp", inputs: []*tensor.Dense{rt(2, 3, 4, 4), rt(2, 3, 4, 4), tensor.New(tensor.FromScalar(float32(0.3)))}, build: func(b *Builder, in []*Node) *Node { return b.Lerp(in[0], in[1], in[2]) }},
		{name: "pixel norm", inputs: []*tensor.Dense{rt(2, 5, 3, 4)}, build: func(b *Builder, in []*Node) *Node { return b.PixelNorm(in[0]) }},
		{name: "minibatch stddev", inputs: []*tensor.Dense{rt(8, 3, 2, 2)}, build: func(b *Builder, in []*Node) *Node { return b.MinibatchStddev(in[0], 4) }},
		{name: "minibatch stddev vjp", inputs: []*tensor.Dense{rt(8, 3, 2, 2), rt(8, 4, 2, 2)}, build: raw(func() *opDef { return mbstdVJPDef(4) })},
		{name: "minibatch stddev jvp", inputs: []*tensor.Dense{rt(4, 3, 2, 2), rt(4, 3, 2, 2)}, build: raw(func() *opDef { return mbstdJVPDef(4) })},
		{name: "mean", inputs: []*tensor.Dense{rt(3, 2, 2, 2)}, build: func(b *Builder, in []*Node) *Node { return b.Mean(in[0]) }},
		{name: "mean square", inputs: []*tensor.Dense{rt(3, 2, 2, 2)}, build: func(b *Builder, in []*Node) *Node { return b.MeanSquare(in[0]) }},
		{name: "grad penalty", inputs: []*tensor.Dense{rt(3, 2, 2, 2)}, build: func(b *Builder, in []*Node) *Node { return b.GradPenalty(in[0]) }},
		{name: "weighted sum", inputs: []*tensor.Dense{rt(4, 1, 1, 1), rt(4, 1, 1, 1)}, diff: []bool{true, false}, build: func(b *Builder, in []*Node) *Node { return b.WeightedSum(in[0], in[1]) }},
		{name: "weighted sum of squares", inputs: []*tensor.Dense{rt(4, 1, 1, 1), rt(4, 1, 1, 1)}, diff: []bool{true, false}, build: func(b *Builder, in []*Node) *Node { return b.WeightedSumSquares(in[0], in[1]) }},
		{name: "add", inputs: []*tensor.Dense{rt(2, 2, 3, 3), rt(2, 2, 3, 3), rt(2, 2, 3, 3)}, build: func(b *Builder, in []*Node) *Node { return b.Add(in...) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

func TestLeakyReLUGradKernel(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	edges := []float32{1, 1e-45, math.MaxFloat32, 0, negZero, -1e-45, -3, float32(math.Inf(1)), float32(math.Inf(-1))}
	rng := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 7, 16, 33, 1000} { // vector bodies and tails
		y, g, r := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range y {
			y[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if i < len(edges) {
				y[i] = edges[i]
			}
		}
		lreluGrad(y, g, r)
		for i := range y {
			want := g[i]
			if !(y[i] > 0) {
				want = Slope * g[i]
			}
			if r[i] != want {
				t.Fatalf("n=%d: lreluGrad at y=%g, g=%g is %g, want %g", n, y[i], g[i], r[i], want)
			}
		}
	}
}
