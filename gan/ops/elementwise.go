package ops

import (
	"fmt"

	"github.com/chewxy/hm"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// forPlanes runs fn over [0, n) split across the pool's workers; work is the number of elements
// touched, and small jobs run on the calling thread (waking the workers costs more than they save).
func forPlanes(p *Pool, n, work int, fn func(lo, hi int)) {
	parts := 4 * p.Workers() // a few parts per worker, so a slowed-down one is helped
	if work < minParallelWork {
		parts = 1
	}
	p.Parallel(n, parts, func(_, _, lo, hi int) { fn(lo, hi) })
}

// minParallelWork is the number of elements below which memory-bound kernels run on one thread.
const minParallelWork = 1 << 16

// Upsample doubles the width and height by repeating each pixel (nearest neighbour).
func (b *Builder) Upsample(x *Node) *Node { return b.do(upsampleDef(1), x) }

// AvgPool halves the width and height by averaging 2x2 blocks (H and W must be even).
func (b *Builder) AvgPool(x *Node) *Node { return b.do(poolDef(0.25), x) }

// upsampleDef: y[2i+a][2j+b] = s*x[i][j]. Its adjoint is poolDef(s).
func upsampleDef(s float32) *opDef {
	return &opDef{name: fmt.Sprintf("Upsample2x{%g}", s), arity: 1, typ: fn(t4, t4), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			n, c, h, w, err := dims4(in[0])
			return tensor.Shape{n, c, 2 * h, 2 * w}, err
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			n, c, h, w, _ := dims4(in.shape[0])
			y := out
			forPlanes(o.pool, n*c, 4*n*c*h*w, func(lo, hi int) {
				for pl := lo; pl < hi; pl++ {
					src := x[pl*h*w : (pl+1)*h*w]
					dst := y[pl*4*h*w : (pl+1)*4*h*w]
					for i := 0; i < h; i++ {
						row := dst[2*i*2*w : (2*i+1)*2*w]
						for j, v := range src[i*w : (i+1)*w] {
							v *= s
							row[2*j], row[2*j+1] = v, v
						}
						copy(dst[(2*i+1)*2*w:(2*i+2)*2*w], row)
					}
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(poolDef(s), grad)
			return []*Node{g}, err
		},
	}
}

// poolDef: y[i][j] = s * (sum of the 2x2 block at (2i, 2j)). Its adjoint is upsampleDef(s).
func poolDef(s float32) *opDef {
	return &opDef{name: fmt.Sprintf("Pool2x{%g}", s), arity: 1, typ: fn(t4, t4), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			n, c, h, w, err := dims4(in[0])
			if err == nil && (h%2 != 0 || w%2 != 0) {
				err = fmt.Errorf("cannot pool an odd size %dx%d", h, w)
			}
			return tensor.Shape{n, c, h / 2, w / 2}, err
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			n, c, h, w, _ := dims4(in.shape[0])
			y := out
			oh, ow := h/2, w/2
			forPlanes(o.pool, n*c, n*c*h*w, func(lo, hi int) {
				for pl := lo; pl < hi; pl++ {
					src := x[pl*h*w : (pl+1)*h*w]
					dst := y[pl*oh*ow : (pl+1)*oh*ow]
					for i := 0; i < oh; i++ {
						r0, r1 := src[2*i*w:(2*i+1)*w], src[(2*i+1)*w:(2*i+2)*w]
						d := dst[i*ow : (i+1)*ow]
						for j := range d {
							d[j] = s * (r0[2*j] + r0[2*j+1] + r1[2*j] + r1[2*j+1])
						}
					}
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(upsampleDef(s), grad)
			return []*Node{g}, err
		},
	}
}

// LeakyReLU applies max(x, 0.2x).
func (b *Builder) LeakyReLU(x *Node) *Node { return b.do(lreluDef(), x) }

func lreluDef() *opDef {
	return &opDef{name: "LeakyReLU", arity: 1, typ: fn(t4, t4), diffWRT: []bool{true}, shape: sameShape,
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			y := out
			forPlanes(o.pool, len(x), len(x), func(lo, hi int) {
				for i, v := range x[lo:hi] {
					y[lo+i] = max(v, v*Slope) // (branch-free)
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(lreluGradDef(), out, grad)
			return []*Node{g}, err
		},
	}
}

// lreluGradDef: (y, g) -> g * slope, where slope is 1 where y > 0 and 0.2 elsewhere. y is the
// activation's output (its sign is the input's). The slope is piecewise constant, so the op is
// linear in g and has zero derivative in y.
func lreluGradDef() *opDef {
	return &opDef{name: "LeakyReLUGrad", arity: 2, typ: fn(t4, t4, t4), diffWRT: []bool{false, true}, shape: sameShape,
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			y := in.t[0]
			g := in.t[1]
			r := out
			forPlanes(o.pool, len(y), len(y), func(lo, hi int) { lreluGrad(y[lo:hi], g[lo:hi], r[lo:hi]) })
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(lreluGradDef(), in[0], grad)
			return []*Node{nil, g}, err
		},
	}
}

// Lerp returns alpha*a + (1-alpha)*b, the fade-in blend; alpha is a scalar input node whose
// value can change between runs.
func (b *Builder) Lerp(a, bb, alpha *Node) *Node { return b.do(lerpDef(), a, bb, alpha) }

func lerpDef() *opDef {
	return &opDef{name: "Lerp", arity: 3, typ: fn(t4, t4, scalar, t4), diffWRT: []bool{true, true, false},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return sameShape(in[:2]) },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			a := in.t[0]
			bb := in.t[1]
			al := in.s[2]
			y := out
			forPlanes(o.pool, len(a), len(a), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					y[i] = al*a[i] + (1-al)*bb[i]
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			ga, err := o.apply(scaleByDef(false), grad, in[2])
			if err != nil {
				return nil, err
			}
			gb, err := o.apply(scaleByDef(true), grad, in[2])
			return []*Node{ga, gb, nil}, err
		},
	}
}

// scaleByDef: (x, alpha) -> alpha*x, or (1-alpha)*x when complement is set.
func scaleByDef(complement bool) *opDef {
	return &opDef{name: fmt.Sprintf("ScaleBy{1-alpha=%t}", complement), arity: 2, typ: fn(t4, scalar, t4), diffWRT: []bool{true, false},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			al := in.s[1]
			if complement {
				al = 1 - al
			}
			y := out
			forPlanes(o.pool, len(x), len(x), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					y[i] = al * x[i]
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(scaleByDef(complement), grad, in[1])
			return []*Node{g, nil}, err
		},
	}
}

// Add returns the elementwise sum of same-shaped tensors.
func (b *Builder) Add(xs ...*Node) *Node { return b.do(addDef(len(xs)), xs...) }

func addDef(n int) *opDef {
	d := &opDef{name: fmt.Sprintf("Add%d", n), arity: n, shape: sameShape}
	ts := make([]hm.Type, n+1)
	for i := range ts {
		ts[i] = t4
	}
	d.typ = fn(ts...)
	d.diffWRT = make([]bool, n)
	for i := range d.diffWRT {
		d.diffWRT[i] = true
	}
	d.exec = func(o *op, out []float32, in args) (G.Value, error) {
		xs := in.t
		y := out
		forPlanes(o.pool, len(y), len(y), func(lo, hi int) {
			copy(y[lo:hi], xs[0][lo:hi])
			for _, x := range xs[1:] {
				for i := lo; i < hi; i++ {
					y[i] += x[i]
				}
			}
		})
		return nil, nil
	}
	d.diff = func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
		gs := make([]*Node, n)
		for i := range gs {
			gs[i] = grad
		}
		return gs, nil
	}
	return d
}
