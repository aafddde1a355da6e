package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// GradOf adds to the graph the symbolic gradient of the scalar y with respect to the node x, built
// only from Tessera ops, and returns it. Unlike gorgonia.Grad it leaves no state on the nodes, so
// the graph can afterwards be differentiated again with gorgonia.Grad (gorgonia v0.9.18 caches
// each node's derivative and would silently reuse the first derivative in the second pass). That
// second pass is how the WGAN-GP penalty, a function of the critic's input gradient, gets its
// gradient with respect to the critic's weights.
func (b *Builder) GradOf(y, x *Node) *Node {
	if b.err != nil {
		return nil
	}
	g, err := b.gradOf(y, x)
	if err != nil {
		b.fail(fmt.Errorf("GradOf: %w", err))
		return nil
	}
	return g
}

func (b *Builder) gradOf(y, x *Node) (*Node, error) {
	if !y.IsScalar() {
		return nil, fmt.Errorf("%v is not a scalar", y)
	}
	sorted, err := G.Sort(y.Graph()) // dependents before their inputs
	if err != nil {
		return nil, err
	}
	children := func(n *Node) []*Node {
		if o, ok := n.Op().(*op); ok {
			return o.in
		}
		return nil
	}
	// nodes that depend on x (walk from inputs to outputs)
	dependsOnX := map[*Node]bool{x: true}
	for i := len(sorted) - 1; i >= 0; i-- {
		n := sorted[i]
		for _, c := range children(n) {
			if dependsOnX[c] {
				dependsOnX[n] = true
			}
		}
	}
	if !dependsOnX[y] {
		return nil, fmt.Errorf("%v does not depend on %v through Tessera ops", y, x)
	}
	// nodes y depends on
	needed := map[*Node]bool{y: true}
	for _, n := range sorted {
		if !needed[n] {
			continue
		}
		for _, c := range children(n) {
			needed[c] = true
		}
	}
	one := y.Graph().Constant(G.NewF32(1))
	grads := map[*Node][]*Node{y: {one}}
	for _, n := range sorted {
		if n == x || !needed[n] || !dependsOnX[n] {
			continue
		}
		o, ok := n.Op().(*op)
		if !ok {
			return nil, fmt.Errorf("%v is not a Tessera op", n)
		}
		gn, err := b.sum(grads[n])
		if err != nil {
			return nil, err
		}
		if o.def.diff == nil {
			return nil, fmt.Errorf("%v has no derivative", n)
		}
		cg, err := o.def.diff(o, o.in, n, gn)
		if err != nil {
			return nil, err
		}
		for i, c := range o.in {
			if o.def.diffWRT[i] && dependsOnX[c] && cg[i] != nil {
				grads[c] = append(grads[c], cg[i])
			}
		}
	}
	return b.sum(grads[x])
}

func (b *Builder) sum(gs []*Node) (*Node, error) {
	switch len(gs) {
	case 0:
		return nil, fmt.Errorf("no gradient reaches the node")
	case 1:
		return gs[0], nil
	}
	return apply(b.arena, b.pool, addDef(len(gs)), gs...)
}
