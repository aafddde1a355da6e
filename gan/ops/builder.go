package ops

import (
	G "gorgonia.org/gorgonia"
)

// Builder adds Tessera ops to gorgonia graphs. It keeps the first error it meets (later calls do
// nothing and return nil), so a network can be written as a plain sequence of calls followed by
// one check of Err.
type Builder struct {
	arena *Arena
	pool  *Pool
	err   error
}

// NewBuilder returns a builder whose ops keep their outputs in arena and run on the default pool.
func NewBuilder(arena *Arena) *Builder {
	return &Builder{arena: arena, pool: DefaultPool()}
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
