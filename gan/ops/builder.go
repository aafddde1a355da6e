package ops

import (
	G "gorgonia.org/gorgonia"
)

// Builder adds Tessera ops to gorgonia graphs. It keeps the first error it meets (later calls do
// nothing and return nil), so a network can be written as a plain sequence of calls followed by
// one check of Err.
type Builder struct {
	arena     *Arena
	pool      *Pool
	err       error
	inference bool // fuse ops into forms without derivatives
}

// NewBuilder returns a builder whose ops keep their outputs in arena and run on the default pool.
func NewBuilder(arena *Arena) *Builder {
	return &Builder{arena: arena, pool: DefaultPool()}
}

// NewInferenceBuilder is NewBuilder for graphs that are run but never differentiated: it fuses
// ops where the fused form is faster but has no derivative (pixel norm into the convolution
// before it, saving a pass over the activations). The results are bit-identical.
func NewInferenceBuilder(arena *Arena) *Builder {
	b := NewBuilder(arena)
	b.inference = true
	return b
}

// Arena returns the arena the builder's ops use.
func (b *Builder) Arena() *Arena { return b.arena }

// Err returns the first error met while building.
func (b *Builder) Err() error { return b.err }

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *Builder) add(n *Node, err error) *Node {
	if err != nil {
		b.fail(err)
		return nil
	}
	return n
}

// do applies def to in, unless an error was met before.
func (b *Builder) do(def *opDef, in ...*Node) *Node {
	if b.err != nil {
		return nil
	}
	return b.add(apply(b.arena, b.pool, def, in...))
}

// Scalar adds a float32 scalar input node (a value such as the fade-in alpha, set with
// gorgonia.Let before each run without rebuilding the graph).
func Scalar(g *G.ExprGraph, name string, v float32) *Node {
	return G.NewScalar(g, G.Float32, G.WithName(name), G.WithValue(v))
}
