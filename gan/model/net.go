package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"tessera/gan/ops"
)

// Node is a gorgonia graph node.
type Node = G.Node

// Net binds a parameter set into one graph: one input node per weight tensor (sharing the
// tensor's memory), created on first use and reused by every later use in the graph.
type Net struct {
	p     *Params
	g     *G.ExprGraph
	nodes map[string]*Node
	used  []string
}

// Bind returns a Net for p in graph g.
func Bind(g *G.ExprGraph, p *Params) *Net {
	return &Net{p: p, g: g, nodes: map[string]*Node{}}
}

// W returns the node of the named weight tensor.
func (n *Net) W(name string) *Node {
	if nd, ok := n.nodes[name]; ok {
		return nd
	}
	t := n.p.Tensor(name)
	if t == nil {
		panic(fmt.Sprintf("model: no parameter %q", name)) // names come from the code
	}
	nd := G.NewTensor(n.g, G.Float32, t.Dims(), G.WithShape(t.Shape()...), G.WithName(name), G.WithValue(t))
	n.nodes[name] = nd
	n.used = append(n.used, name)
	return nd
}

// Used returns the names and nodes of the weights used so far, in order of first use.
func (n *Net) Used() ([]string, []*Node) {
	nodes := make([]*Node, len(n.used))
	for i, name := range n.used {
		nodes[i] = n.nodes[name]
	}
	return append([]string(nil), n.used...), nodes
}

func (n *Net) conv(b *ops.Builder, x *Node, name string, s ops.ConvSpec) *Node {
	return b.Conv(x, n.W(name+".w"), n.W(name+".b"), s)
}

var (
	genConv  = ops.ConvSpec{Pad: 1, Circular: true, Gain: gainReLU, LeakyReLU: true, PixelNorm: true}
	genUp    = ops.ConvSpec{Pad: 1, Circular: true, Gain: gainReLU, LeakyReLU: true, PixelNorm: true, Upsample: true}
	toRGB    = ops.ConvSpec{Gain: 1}
	critConv = ops.ConvSpec{Pad: 1, Gain: gainReLU, LeakyReLU: true}
	fromRGB  = ops.ConvSpec{Gain: gainReLU, LeakyReLU: true}
)

// Generator adds the generator at stage resolution res to the graph. z is the latent grid
// [N, LatentDim, L, L]; the image is [N, 3, L*res/4, L*res/4] and tiles seamlessly, since every
// convolution pads circularly. With alpha non-nil the last stage fades in: the image is
// alpha*toRGB(new block) + (1-alpha)*upsampled toRGB(previous stage).
func Generator(b *ops.Builder, net *Net, cfg Config, z, alpha *Node, res int) *Node {
	h := b.PixelNorm(z)
	h = net.conv(b, h, "g4.conv0", genConv)
	block, prev := "g4", (*Node)(nil)
	for r := 2 * BaseRes; r <= res; r *= 2 {
		prev = net.conv(b, h, block+".conv1", genConv) // the previous block's output
		block = fmt.Sprintf("g%d", r)
		h = net.conv(b, prev, block+".conv0", genUp) // upsample, then conv0
	}
	// the last block's conv1 and toRGB: fused in inference graphs, so that the largest feature
	// maps of a big export are never stored
	rgb := fmt.Sprintf("g%d.rgb", res)
	img := b.ConvThen1x1(h, net.W(block+".conv1.w"), net.W(block+".conv1.b"), genConv, net.W(rgb+".w"), net.W(rgb+".b"), toRGB)
	if alpha != nil && res > BaseRes {
		old := b.Upsample(net.conv(b, prev, fmt.Sprintf("g%d.rgb", res/2), toRGB))
		img = b.Lerp(img, old, alpha)
	}
	return img
}

// Critic adds the critic at stage resolution res: x [N, 3, res, res] gives scores [N, 1, 1, 1].
// With alpha non-nil the first block fades in against fromRGB of the 2x-downsampled image.
// N must be a multiple of the minibatch-stddev group (or smaller than it).
func Critic(b *ops.Builder, net *Net, cfg Config, x, alpha *Node, res int) *Node {
	h := net.conv(b, x, fmt.Sprintf("d%d.rgb", res), fromRGB)
	for r := res; r > BaseRes; r /= 2 {
		n := fmt.Sprintf("d%d", r)
		h = net.conv(b, h, n+".conv0", critConv)
		h = net.conv(b, h, n+".conv1", critConv)
		h = b.AvgPool(h)
		if r == res && alpha != nil {
			old := net.conv(b, b.AvgPool(x), fmt.Sprintf("d%d.rgb", res/2), fromRGB)
			h = b.Lerp(h, old, alpha)
		}
	}
	h = b.MinibatchStddev(h, cfg.MbstdGroup)
	h = net.conv(b, h, "d4.conv", critConv)
	h = b.Dense(h, net.W("d4.dense0.w"), net.W("d4.dense0.b"), gainReLU, true)
	return b.Dense(h, net.W("d4.dense1.w"), net.W("d4.dense1.b"), 1, false)
}

// Gain returns the equalized-learning-rate gain of the named weight tensor's layer.
func Gain(name string) float64 {
	switch {
	case len(name) > 6 && name[len(name)-6:] == ".rgb.w" && name[0] == 'g', name == "d4.dense1.w":
		return 1
	}
	return math.Sqrt2
}

// GeneratorFeatures adds the generator's first block (the 4x4 stage's features, after pixel
// norm): the activations whose principal components give the main directions of variation of
// the latent space (GANSpace, Härkönen et al. 2020).
func GeneratorFeatures(b *ops.Builder, net *Net, cfg Config, z *Node) *Node {
	h := b.PixelNorm(z)
	h = net.conv(b, h, "g4.conv0", genConv)
	return net.conv(b, h, "g4.conv1", genConv)
}
