package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
	"tessera/gan/model"
	"tessera/gan/ops"
)

// input is a graph input node with its tensor, filled in place before each run.
type input struct {
	node *G.Node
	t    *tensor.Dense
}

// criticLoss is the critic's loss from its scores on [real; fake]: the negated Wasserstein
// estimate, mean D(fake) - mean D(real) (wgan weights -1/n on the real half, 1/n on the fake
// half); for WGAN-GP plus drift * mean D(real)^2 (real weights 1/n on the real half) and lambda
// times the gradient penalty of grad, the critic's gradient at the interpolates, which it also
// returns (nil for weight clipping).
func criticLoss(b *ops.Builder, cfg Config, scores, wganWeights, realWeights, grad *G.Node) (loss, gp *G.Node) {
	loss = b.WeightedSum(scores, wganWeights)
	if cfg.Loss != WGANGP {
		return loss, nil
	}
	drift := b.WeightedSumSquares(scores, realWeights)
	gp = b.GradPenalty(grad)
	if b.Err() != nil {
		return loss, gp
	}
	loss = G.Must(G.Add(loss, G.Must(G.Mul(G.NewConstant(float32(cfg.Drift)), drift))))
	loss = G.Must(G.Add(loss, G.Must(G.Mul(G.NewConstant(float32(cfg.Lambda)), gp))))
	return loss, gp
}

func newInput(g *G.ExprGraph, name string, shape ...int) input {
	size := 1
	for _, d := range shape {
		size *= d
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, size)))
	return input{node: G.NewTensor(g, G.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t)), t: t}
}

func (in input) data() []float32 { return in.t.Data().([]float32) }

// grads is a set of parameter gradients computed by a machine.
type grads struct {
	names []string
	nodes []*G.Node
}

// values returns the gradient slices after a run.
func (g grads) values() ([][]float32, error) {
	out := make([][]float32, len(g.nodes))
	for i, n := range g.nodes {
		d, ok := n.Value().Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("gradient of %s: no value", g.names[i])
		}
		out[i] = d
	}
	return out, nil
}

// stageGraphs are the three programs of one training phase (a resolution, fading or not): the
// generator's forward pass that makes the critic's fakes, the critic step and the generator step.
// They run one after the other and share one arena.
type stageGraphs struct {
	res    int
	fading bool
	arena  *ops.Arena

	fakeZ, fakeOut *G.Node // generator forward: z -> images
	fakeAlpha      *G.Node
	fake           *ops.Machine

	realFake, xhat, critWeights, realWeights input
	critAlpha                                *G.Node
	critOut, critGP, critLoss                *G.Node
	critGrads                                grads
	critic                                   *ops.Machine

	genZ                       input
	genAlpha                   *G.Node
	genOut, genLoss            *G.Node
	genGrads                   grads
	gen                        *ops.Machine
	genWeights                 input
	fakeZIn                    input
	flopsCritic, flopsGenerate float64
}

func (s *stageGraphs) Close() {
	for _, m := range []*ops.Machine{s.fake, s.critic, s.gen} {
		if m != nil {
			m.Close()
		}
	}
}

// buildStage builds the programs for resolution res.
func buildStage(cfg Config, gp, dp *model.Params, res int, fading bool) (*stageGraphs, error) {
	n, l := cfg.Batch, model.BaseRes
	zshape := []int{n, cfg.Model.LatentDim(), l, l}
	s := &stageGraphs{res: res, fading: fading, arena: ops.NewArena()}
	alphaNode := func(g *G.ExprGraph) *G.Node {
		if !fading {
			return nil
		}
		return ops.Scalar(g, "alpha", 0)
	}

	// 1. fakes for the critic
	{
		g := G.NewGraph()
		b := ops.NewInferenceBuilder(s.arena) // never differentiated: the critic sees constants
		s.fakeZIn = newInput(g, "z", zshape...)
		s.fakeZ, s.fakeAlpha = s.fakeZIn.node, alphaNode(g)
		s.fakeOut = model.Generator(b, model.Bind(g, gp), cfg.Model, s.fakeZ, s.fakeAlpha, res)
		if b.Err() != nil {
			return nil, fmt.Errorf("generator: %w", b.Err())
		}
		m, err := ops.Compile(g, s.arena, s.fakeOut)
		if err != nil {
			return nil, err
		}
		s.fake = m
	}

	// 2. critic step: D on [real; fake], and the penalty on interpolates
	{
		g := G.NewGraph()
		b := ops.NewBuilder(s.arena)
		net := model.Bind(g, dp)
		s.critAlpha = alphaNode(g)
		s.realFake = newInput(g, "real_fake", 2*n, 3, res, res)
		s.critWeights = newInput(g, "wgan_weights", 2*n, 1, 1, 1)
		s.realWeights = newInput(g, "real_weights", 2*n, 1, 1, 1)
		for i := 0; i < n; i++ { // loss = mean D(fake) - mean D(real)
			s.critWeights.data()[i] = -1 / float32(n)
			s.critWeights.data()[n+i] = 1 / float32(n)
			s.realWeights.data()[i] = 1 / float32(n)
		}
		s.critOut = model.Critic(b, net, cfg.Model, s.realFake.node, s.critAlpha, res)
		outputs := []*G.Node{s.critOut}
		var grad *G.Node
		if cfg.Loss == WGANGP {
			s.xhat = newInput(g, "xhat", n, 3, res, res)
			dx := model.Critic(b, net, cfg.Model, s.xhat.node, s.critAlpha, res)
			grad = b.GradOf(b.Sum(dx), s.xhat.node)
			if b.Err() != nil {
				return nil, fmt.Errorf("critic: %w", b.Err())
			}
		}
		loss, gp := criticLoss(b, cfg, s.critOut, s.critWeights.node, s.realWeights.node, grad)
		if gp != nil {
			s.critGP = gp
			outputs = append(outputs, gp)
		}
		if b.Err() != nil {
			return nil, fmt.Errorf("critic: %w", b.Err())
		}
		s.critLoss = loss
		names, nodes := net.Used()
		gs, err := G.Grad(loss, nodes...)
		if err != nil {
			return nil, fmt.Errorf("critic gradient: %w", err)
		}
		s.critGrads = grads{names: names, nodes: gs}
		outputs = append(outputs, loss)
		outputs = append(outputs, gs...)
		m, err := ops.Compile(g, s.arena, outputs...)
		if err != nil {
			return nil, err
		}
		s.critic = m
	}

	// 3. generator step
	{
		g := G.NewGraph()
		b := ops.NewBuilder(s.arena)
		s.genZ = newInput(g, "z", zshape...)
		s.genAlpha = alphaNode(g)
		gnet := model.Bind(g, gp)
		img := model.Generator(b, gnet, cfg.Model, s.genZ.node, s.genAlpha, res)
		s.genOut = model.Critic(b, model.Bind(g, dp), cfg.Model, img, s.genAlpha, res)
		s.genWeights = newInput(g, "gen_weights", n, 1, 1, 1)
		for i := range s.genWeights.data() {
			s.genWeights.data()[i] = -1 / float32(n)
		}
		s.genLoss = b.WeightedSum(s.genOut, s.genWeights.node)
		if b.Err() != nil {
			return nil, fmt.Errorf("generator step: %w", b.Err())
		}
		names, nodes := gnet.Used()
		gs, err := G.Grad(s.genLoss, nodes...)
		if err != nil {
			return nil, fmt.Errorf("generator gradient: %w", err)
		}
		s.genGrads = grads{names: names, nodes: gs}
		m, err := ops.Compile(g, s.arena, append([]*G.Node{s.genOut, s.genLoss}, gs...)...)
		if err != nil {
			return nil, err
		}
		s.gen = m
	}
	s.flopsCritic = s.fake.FLOPs() + s.critic.FLOPs()
	s.flopsGenerate = s.gen.FLOPs()
	return s, nil
}

// setAlpha sets the fade-in of all three programs.
func (s *stageGraphs) setAlpha(a float64) error {
	if !s.fading {
		return nil
	}
	for _, n := range []*G.Node{s.fakeAlpha, s.critAlpha, s.genAlpha} {
		if err := G.Let(n, float32(a)); err != nil {
			return err
		}
	}
	return nil
}
