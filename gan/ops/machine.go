package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Machine runs the part of a graph that its outputs need, on gorgonia's tape machine, with the
// graph's op outputs in an arena planned for reuse.
type Machine struct {
	vm    G.VM
	sub   *G.ExprGraph
	flops float64
}

// Compile prunes g to the ancestors of outputs (symbolic differentiation also creates gradients
// nobody asked for, such as the critic's weight gradients in the generator's step), plans the
// arena so that only outputs keep their buffers after a run, and compiles a tape machine.
func Compile(g *G.ExprGraph, arena *Arena, outputs ...*Node) (*Machine, error) {
	sub := g.ExactSubgraphRoots(outputs...)
	arena.Plan(sub, outputs...)
	prog, locMap, err := G.CompileFunction(sub, sub.Inputs(), outputs)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	m := &Machine{vm: G.NewTapeMachine(sub, G.WithPrecompiled(prog, locMap)), sub: sub}
	for _, n := range sub.AllNodes() {
		if o, ok := n.Op().(*op); ok {
			m.flops += o.flops(n)
		}
	}
	return m, nil
}

// Run executes the program once.
func (m *Machine) Run() error {
	m.vm.Reset()
	return m.vm.RunAll()
}

// FLOPs is the number of floating-point operations of the matrix products of one run.
func (m *Machine) FLOPs() float64 { return m.flops }

// Close releases the machine.
func (m *Machine) Close() error { return m.vm.Close() }

// flops counts the multiply-adds (x2) of convolution nodes; other ops are memory-bound and not
// counted (as in the usual GFLOP/s figures for networks).
func (o *op) flops(n *Node) float64 {
	c, ok := o.def.cfg.(convCfg)
	if !ok || len(o.in) < 2 {
		return 0
	}
	g, err := c.geom(o.in[0].Shape(), o.in[1].Shape())
	if err != nil {
		return 0
	}
	f := float64(g.flops())
	if c.post && len(o.in) == 5 { // the fused 1x1 convolution
		f += 2 * float64(g.n) * float64(o.in[3].Shape()[0]) * float64(g.cout) * float64(g.oh*g.ow)
	}
	return f
}
