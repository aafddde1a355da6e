// Package synth generates textures with a trained generator: batches of samples for grids and
// metrics, and single large seamless textures for export (the generator is fully convolutional
// with circular padding, so a latent grid of L x L cells gives a tileable image of L*res/4 px).
package synth

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
	"tessera/gan/model"
	"tessera/gan/ops"
)

// Generator runs a generator's weights at one phase (resolution and fade-in).
// It is safe for concurrent use; programs are built once per batch and grid size and cached.
type Generator struct {
	cfg   model.Config
	p     *model.Params
	res   int
	alpha float64

	mu    sync.Mutex
	progs map[[2]int]*program
}

type program struct {
	z     *tensor.Dense
	alpha *G.Node
	out   *G.Node
	m     *ops.Machine
	arena *ops.Arena
}

// New returns a generator for weights p (shared, not copied: callers must not update them while
// generating) at stage resolution res and fade-in alpha (1 when not fading).
func New(cfg model.Config, p *model.Params, res int, alpha float64) *Generator {
	return &Generator{cfg: cfg, p: p, res: res, alpha: alpha, progs: map[[2]int]*program{}}
}

// Config returns the architecture.
func (g *Generator) Config() model.Config { return g.cfg }

// Res returns the stage resolution.
func (g *Generator) Res() int { return g.res }

// Scale returns the image side per latent cell.
func (g *Generator) Scale() int { return model.Upsampling(g.res) }

func (g *Generator) program(n, l int) (*program, error) {
	key := [2]int{n, l}
	if p, ok := g.progs[key]; ok {
		return p, nil
	}
	gr := G.NewGraph()
	arena := ops.NewArena()
	b := ops.NewInferenceBuilder(arena)
	shape := []int{n, g.cfg.LatentDim(), l, l}
	z := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n*g.cfg.LatentDim()*l*l)))
	zn := G.NewTensor(gr, G.Float32, 4, G.WithShape(shape...), G.WithName("z"), G.WithValue(z))
	var alpha *G.Node
	if g.alpha < 1 {
		alpha = ops.Scalar(gr, "alpha", float32(g.alpha))
	}
	out := model.Generator(b, model.Bind(gr, g.p), g.cfg, zn, alpha, g.res)
	if b.Err() != nil {
		return nil, b.Err()
	}
	m, err := ops.Compile(gr, arena, out)
	if err != nil {
		return nil, err
	}
	p := &program{z: z, alpha: alpha, out: out, m: m, arena: arena}
	if len(g.progs) > 8 { // keep a few sizes; big ones hold big buffers
		for k, q := range g.progs {
			q.m.Close()
			delete(g.progs, k)
		}
	}
	g.progs[key] = p
	return p, nil
}

// Generate runs the generator on a latent batch and returns the images [N, 3, S, S] with
// S = L*res/4, values nominally in [-1, 1]. The result is a new slice owned by the caller.
func (g *Generator) Generate(lt model.Latent) ([]float32, int, error) {
	if lt.N < 1 || lt.L < 1 {
		return nil, 0, fmt.Errorf("empty latent batch")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, err := g.program(lt.N, lt.L)
	if err != nil {
		return nil, 0, fmt.Errorf("building the generator: %w", err)
	}
	if err := lt.Fill(g.cfg, p.z.Data().([]float32)); err != nil {
		return nil, 0, err
	}
	if err := p.m.Run(); err != nil {
		return nil, 0, fmt.Errorf("generating: %w", err)
	}
	side := lt.L * g.Scale()
	return append([]float32(nil), p.out.Value().Data().([]float32)...), side, nil
}

// Release frees the cached programs (their buffers can be large after a big export).
func (g *Generator) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, q := range g.progs {
		q.m.Close()
		delete(g.progs, k)
	}
}
