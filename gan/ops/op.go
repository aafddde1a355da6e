// Package ops extends gorgonia with the fused float32 NCHW operations of Tessera's networks:
// convolutions with equalized learning rate and circular or zero padding, resampling, activations,
// normalisations, minibatch statistics, fade-in blending and the WGAN loss terms. Every op has a
// symbolic derivative built from ops of this package, and those of the critic's ops are themselves
// differentiable, so the WGAN-GP penalty's gradient (a second derivative) is exact.
//
// Ops write into buffers owned by an Arena and reused across runs, and the heavy ones split their
// work over a Pool of worker threads calling single-threaded oneDNN convolutions (dnnl.go) or
// OpenBLAS matrix products.
package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"time"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Node is a gorgonia graph node.
type Node = G.Node

var (
	t4     = G.TensorType{Dims: 4, Of: G.Float32}
	t1     = G.TensorType{Dims: 1, Of: G.Float32}
	scalar = G.Float32
)

// op is the one gorgonia.Op implementation behind every Tessera op: a definition (what to compute
// and how to differentiate it) plus the arena that owns its output and the input nodes it was
// applied to (the arena needs them to know when an input buffer is dead).
type op struct {
	def   *opDef
	arena *Arena
	pool  *Pool
	self  *Node
	in    []*Node
	args  args // reused by every run
}

// args are an op's input values as its kernel uses them.
type args struct {
	t     [][]float32    // the data of tensor inputs (nil for scalars)
	s     []float32      // the values of scalar inputs (0 for tensors)
	shape []tensor.Shape // the shapes of all inputs
}

// unpack fills o.args from the input values.
func (o *op) unpack(in []G.Value) error {
	a := &o.args
	if len(a.t) != len(in) {
		a.t, a.s, a.shape = make([][]float32, len(in)), make([]float32, len(in)), make([]tensor.Shape, len(in))
	}
	for i, v := range in {
		a.t[i], a.s[i], a.shape[i] = nil, 0, v.Shape()
		if t, ok := v.(tensor.Tensor); ok && t.Dims() > 0 {
			d, ok := t.Data().([]float32)
			if !ok {
				return fmt.Errorf("input %d: expected float32 data, got %T", i, t.Data())
			}
			a.t[i] = d
			continue
		}
		s, err := scalarOf(v)
		if err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		a.s[i] = s
	}
	return nil
}

type opDef struct {
	cfg     any    // the op's configuration, for introspection (FLOP counts)
	name    string // with all parameters: it is the op's identity for hashing
	arity   int
	typ     []hm.Type // input types then the output type
	shape   func(in []tensor.Shape) (tensor.Shape, error)
	diffWRT []bool
	// exec computes the op. For tensor-valued ops out is the arena buffer to fill and the
	// returned Value is ignored; for scalar-valued ops out is nil and exec returns the value.
	exec func(o *op, out []float32, in args) (G.Value, error)
	// diff returns one gradient node per input (nil where not differentiable).
	diff func(o *op, in []*Node, out, grad *Node) ([]*Node, error)
}

func (o *op) inputs() []*Node           { return o.in }
func (o *op) Arity() int                { return o.def.arity }
func (o *op) Type() hm.Type             { return hm.NewFnType(o.def.typ...) } // fresh: gorgonia recycles types
func (o *op) ReturnsPtr() bool          { return false }
func (o *op) CallsExtern() bool         { return false }
func (o *op) OverwritesInput() int      { return -1 }
func (o *op) String() string            { return o.def.name }
func (o *op) WriteHash(h hash.Hash)     { fmt.Fprint(h, o.def.name) }
func (o *op) DiffWRT(inputs int) []bool { return o.def.diffWRT }
func (o *op) Hashcode() uint32          { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }
func (o *op) isScalar() bool            { return o.def.typ[len(o.def.typ)-1] == scalar }
func (o *op) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%s: input %d has no shape", o.def.name, i)
		}
		shapes[i] = s
	}
	return o.def.shape(shapes)
}

func (o *op) Do(in ...G.Value) (G.Value, error) {
	if len(in) != o.def.arity {
		return nil, fmt.Errorf("%s: got %d inputs, want %d", o.def.name, len(in), o.def.arity)
	}
	if err := o.unpack(in); err != nil {
		return nil, fmt.Errorf("%s: %w", o.def.name, err)
	}
	var out *tensor.Dense
	var buf []float32
	if !o.isScalar() {
		shape, err := o.def.shape(o.args.shape)
		if err != nil {
			return nil, err
		}
		if out, err = o.arena.output(o.self, shape); err != nil {
			return nil, err
		}
		buf = out.Data().([]float32)
	}
	var start time.Time
	prof := profiling()
	if prof {
		start = time.Now()
	}
	v, err := o.def.exec(o, buf, o.args)
	if prof {
		record(o.def.name, time.Since(start))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.def.name, err)
	}
	for _, n := range o.in {
		o.arena.consumed(n)
	}
	if out != nil {
		return out, nil
	}
	return v, nil
}

func (o *op) SymDiff(in G.Nodes, out, grad *Node) (G.Nodes, error) {
	if o.def.diff == nil {
		return nil, fmt.Errorf("%s: no derivative (it is only needed to third order, which Tessera does not use)", o.def.name)
	}
	gs, err := o.def.diff(o, in, out, grad)
	if err != nil {
		return nil, fmt.Errorf("derivative of %s: %w", o.def.name, err)
	}
	return G.Nodes(gs), nil
}

// apply adds an op node to the graph of its first input, in the same arena and pool as o.
func (o *op) apply(def *opDef, in ...*Node) (*Node, error) {
	return apply(o.arena, o.pool, def, in...)
}

func apply(a *Arena, p *Pool, def *opDef, in ...*Node) (*Node, error) {
	for i, n := range in {
		if n == nil {
			return nil, fmt.Errorf("%s: input %d is nil", def.name, i)
		}
	}
	o := &op{def: def, arena: a, pool: p, in: in}
	n, err := G.ApplyOp(o, in...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", def.name, err)
	}
	if n.Op() == G.Op(o) { // gorgonia may return an existing identical node instead
		o.self = n
		if !o.isScalar() {
			a.track(n)
		}
	}
	return n, nil
}

func fn(ts ...hm.Type) []hm.Type { return ts }

// data returns the float32 backing slice of a tensor value.
func data(v G.Value) ([]float32, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("expected a tensor, got %T", v)
	}
	d, ok := t.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("expected float32 data, got %T", t.Data())
	}
	return d, nil
}

// scalarOf returns the value of a float32 scalar (or one-element tensor) value.
func scalarOf(v G.Value) (float32, error) {
	switch s := v.(type) {
	case *G.F32:
		return float32(*s), nil
	case tensor.Tensor:
		if d, ok := s.Data().([]float32); ok && len(d) == 1 {
			return d[0], nil
		}
		if f, ok := s.Data().(float32); ok {
			return f, nil
		}
	}
	return 0, fmt.Errorf("expected a float32 scalar, got %T", v)
}

func dims4(s tensor.Shape) (n, c, h, w int, err error) {
	if len(s) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("expected an NCHW tensor, got shape %v", s)
	}
	return s[0], s[1], s[2], s[3], nil
}

func sameShape(in []tensor.Shape) (tensor.Shape, error) {
	for i := 1; i < len(in); i++ {
		if len(in[i]) > 0 && !in[i].Eq(in[0]) {
			return nil, fmt.Errorf("shapes differ: %v and %v", in[0], in[i])
		}
	}
	return in[0].Clone(), nil
}
