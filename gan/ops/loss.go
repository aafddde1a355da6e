package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mean returns the mean of all elements of x as a scalar node.
func (b *Builder) Mean(x *Node) *Node {
	if b.err != nil {
		return nil
	}
	return b.do(scaledSumDef(1/float32(x.Shape().TotalSize())), x)
}

// Sum returns the sum of all elements of x as a scalar node.
func (b *Builder) Sum(x *Node) *Node { return b.do(scaledSumDef(1), x) }

// MeanSquare returns the mean of the squares of all elements of x as a scalar node.
func (b *Builder) MeanSquare(x *Node) *Node {
	if b.err != nil {
		return nil
	}
	return b.do(scaledSumSqDef(1/float32(x.Shape().TotalSize())), x)
}

// scaledSumDef: x -> k * sum(x). Its adjoint is fillDef.
func scaledSumDef(k float32) *opDef {
	return &opDef{name: fmt.Sprintf("ScaledSum{%g}", k), arity: 1, typ: fn(t4, scalar), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		exec: func(o *op, _ []float32, in args) (G.Value, error) {
			x := in.t[0]
			var s float64
			for _, v := range x {
				s += float64(v)
			}
			return G.NewF32(float32(s) * k), nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(fillDef(in[0].Shape(), k), grad)
			return []*Node{g}, err
		},
	}
}

// fillDef: scalar s -> a tensor of the given shape filled with k*s.
func fillDef(shape tensor.Shape, k float32) *opDef {
	shape = shape.Clone()
	return &opDef{name: fmt.Sprintf("Fill%v{%g}", shape, k), arity: 1, typ: fn(scalar, t4), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			s := in.s[0]
			fill(out, k*s)
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(scaledSumDef(k), grad)
			return []*Node{g}, err
		},
	}
}

// scaledSumSqDef: x -> k * sum(x^2); derivative 2k*s*x.
func scaledSumSqDef(k float32) *opDef {
	return &opDef{name: fmt.Sprintf("ScaledSumSq{%g}", k), arity: 1, typ: fn(t4, scalar), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		exec: func(o *op, _ []float32, in args) (G.Value, error) {
			x := in.t[0]
			var s float64
			for _, v := range x {
				s += float64(v) * float64(v)
			}
			return G.NewF32(float32(s) * k), nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(scaleByScalarDef(2*k), in[0], grad)
			return []*Node{g}, err
		},
	}
}

// scaleByScalarDef: (x, s) -> k*s*x.
func scaleByScalarDef(k float32) *opDef {
	return &opDef{name: fmt.Sprintf("ScaleByScalar{%g}", k), arity: 2, typ: fn(t4, scalar, t4), diffWRT: []bool{true, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			s := in.s[1]
			y := out
			for i, v := range x {
				y[i] = k * s * v
			}
			return nil, nil
		},
	}
}

// GradPenalty returns mean over samples of (||g_i|| - 1)^2, the WGAN-GP penalty on the critic's
// input gradient g [N, C, H, W] (without the lambda factor).
func (b *Builder) GradPenalty(g *Node) *Node { return b.do(gradPenaltyDef(), g) }

const normEps = 1e-12

// sampleNorms returns ||g_i|| for each sample.
func sampleNorms(g []float32, n int) []float64 {
	d := len(g) / n
	norms := make([]float64, n)
	for i := range norms {
		var s float64
		for _, v := range g[i*d : (i+1)*d] {
			s += float64(v) * float64(v)
		}
		norms[i] = math.Sqrt(s)
	}
	return norms
}

func gradPenaltyDef() *opDef {
	return &opDef{name: "GradPenalty", arity: 1, typ: fn(t4, scalar), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.ScalarShape(), nil },
		exec: func(o *op, _ []float32, in args) (G.Value, error) {
			g := in.t[0]
			n := in.shape[0][0]
			var s float64
			for _, nr := range sampleNorms(g, n) {
				s += (nr - 1) * (nr - 1)
			}
			return G.NewF32(float32(s / float64(n))), nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(gradPenaltyGradDef(), in[0], grad)
			return []*Node{g}, err
		},
	}
}

// gradPenaltyGradDef: (g, s) -> s * (2/N) * (||g_i|| - 1)/||g_i|| * g_i.
func gradPenaltyGradDef() *opDef {
	return &opDef{name: "GradPenaltyGrad", arity: 2, typ: fn(t4, scalar, t4), diffWRT: []bool{true, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			g := in.t[0]
			s := in.s[1]
			n := in.shape[0][0]
			d := len(g) / n
			y := out
			for i, nr := range sampleNorms(g, n) {
				k := float32(float64(s) * 2 / float64(n) * (nr - 1) / (nr + normEps))
				for j := i * d; j < (i+1)*d; j++ {
					y[j] = k * g[j]
				}
			}
			return nil, nil
		},
	}
}

// SampleNorms returns the L2 norm of each sample of an [N, ...] value (for logging the critic's
// gradient norms after a run).
func SampleNorms(v G.Value) ([]float64, error) {
	g, err := data(v)
	if err != nil {
		return nil, err
	}
	return sampleNorms(g, v.Shape()[0]), nil
}

// WeightedSum returns sum(w*x) as a scalar node; w is a constant weight tensor of x's shape (for
// example -1/N on real samples and +1/N on fake ones gives the Wasserstein critic loss).
func (b *Builder) WeightedSum(x, w *Node) *Node { return b.do(weightedSumDef(false), x, w) }

// WeightedSumSquares returns sum(w*x^2) as a scalar node, w a constant weight tensor.
func (b *Builder) WeightedSumSquares(x, w *Node) *Node { return b.do(weightedSumDef(true), x, w) }

func weightedSumDef(square bool) *opDef {
	return &opDef{name: fmt.Sprintf("WeightedSum{square=%t}", square), arity: 2, typ: fn(t4, t4, scalar), diffWRT: []bool{true, false},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if !in[0].Eq(in[1]) {
				return nil, fmt.Errorf("weights %v do not match %v", in[1], in[0])
			}
			return tensor.ScalarShape(), nil
		},
		exec: func(o *op, _ []float32, in args) (G.Value, error) {
			x := in.t[0]
			w := in.t[1]
			var s float64
			for i, v := range x {
				if square {
					s += float64(w[i]) * float64(v) * float64(v)
				} else {
					s += float64(w[i]) * float64(v)
				}
			}
			return G.NewF32(float32(s)), nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			if !square { // d/dx = s*w
				g, err := o.apply(scaleByScalarDef(1), in[1], grad)
				return []*Node{g, nil}, err
			}
			g, err := o.apply(weightedGradDef(), in[0], in[1], grad) // d/dx = 2*s*w*x
			return []*Node{g, nil}, err
		},
	}
}

// weightedGradDef: (x, w, s) -> 2*s*w*x.
func weightedGradDef() *opDef {
	return &opDef{name: "WeightedSquareGrad", arity: 3, typ: fn(t4, t4, scalar, t4), diffWRT: []bool{true, false, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			w := in.t[1]
			s := in.s[2]
			y := out
			for i, v := range x {
				y[i] = 2 * s * w[i] * v
			}
			return nil, nil
		},
	}
}
