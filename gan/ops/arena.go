package ops

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Arena owns the output buffers of the ops of one or more graphs that run one at a time.
//
// Unplanned, every op output gets its own buffer, allocated on first use and reused on every later
// run (no per-run allocation). After Plan, an output buffer goes back to a free list as soon as
// its last consumer in the compiled graph has run, and later ops of the same run reuse it, so a
// graph's resident memory is its peak live set rather than the sum of all its activations.
// Outputs that are read after a run (Plan's keep list) or that any non-Tessera op consumes keep a
// dedicated buffer. An Arena must not be used by two machines running at the same time.
type Arena struct {
	mu    sync.Mutex
	slots map[*G.Node]*slot
	free  map[int][][]float32
	bytes int64 // total bytes ever allocated
}

type slot struct {
	uses    int  // consumptions per run by Tessera ops (0: never released)
	planned bool // uses is valid
	left    int
	buf     []float32
	dense   *tensor.Dense
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{slots: map[*G.Node]*slot{}, free: map[int][][]float32{}}
}

// Bytes reports the bytes of buffer memory the arena has allocated so far.
func (a *Arena) Bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bytes
}

func (a *Arena) track(n *G.Node) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.slots[n]; !ok {
		a.slots[n] = &slot{}
	}
}

// Plan enables buffer reuse for the nodes of g (the graph or subgraph that will be compiled and
// run). Nodes in keep stay valid after a run. Plan may be called again after the graph changed.
func (a *Arena) Plan(g *G.ExprGraph, keep ...*G.Node) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := map[*G.Node]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	in := map[*G.Node]bool{} // g may be a subgraph, whose edges still reach pruned nodes
	for _, n := range g.AllNodes() {
		in[n] = true
	}
	for n, s := range a.slots {
		if !in[n] {
			continue
		}
		s.planned, s.uses = true, 0
		if kept[n] {
			continue
		}
		pinned := false
		parents := g.To(n.ID())
		for parents.Next() {
			p := parents.Node().(*G.Node)
			if !in[p] {
				continue
			}
			op, ok := p.Op().(interface{ inputs() []*G.Node })
			if !ok || op.inputs() == nil {
				pinned = true // a foreign op reads it: we cannot know when it is done
				break
			}
			for _, c := range op.inputs() {
				if c == n {
					s.uses++
				}
			}
		}
		if pinned {
			s.uses = 0
		}
	}
}

// output returns the buffer for node n's value this run, shaped as shape.
func (a *Arena) output(n *G.Node, shape tensor.Shape) (*tensor.Dense, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.slots[n]
	if !ok {
		return nil, fmt.Errorf("ops: node %v is not tracked by this arena", n)
	}
	size := shape.TotalSize()
	if s.buf != nil && (!s.planned || s.uses == 0) {
		// dedicated buffer
		if len(s.buf) != size {
			return nil, fmt.Errorf("ops: node %v changed size from %d to %d", n, len(s.buf), size)
		}
	} else {
		if s.buf != nil { // left over from an interrupted run
			a.free[len(s.buf)] = append(a.free[len(s.buf)], s.buf)
			s.buf = nil
		}
		if l := a.free[size]; len(l) > 0 {
			s.buf = l[len(l)-1]
			a.free[size] = l[:len(l)-1]
		} else {
			s.buf = make([]float32, size)
			a.bytes += int64(4 * size)
		}
		s.left = s.uses
	}
	if s.dense == nil || &s.dense.Data().([]float32)[0] != &s.buf[0] || !s.dense.Shape().Eq(shape) {
		s.dense = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s.buf))
	}
	return s.dense, nil
}

// consumed records that one consumer of n has run; the buffer is recycled after the last one.
func (a *Arena) consumed(n *G.Node) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.slots[n]
	if !ok || !s.planned || s.uses == 0 || s.buf == nil {
		return
	}
	s.left--
	if s.left == 0 {
		a.free[len(s.buf)] = append(a.free[len(s.buf)], s.buf)
		s.buf = nil
	}
}
