package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyCritic is a small critic with every op the real one uses: 1x1 fromRGB, a 3x3 zero-padded
// block, average pooling, a fade-in blend with the downsampled path, minibatch stddev, and dense
// layers.
// With act false the leaky ReLUs are left out: the critic is then smooth and finite differences
// are accurate to float32 rounding; with them, a step that crosses a ReLU's kink biases a finite
// difference by about one unit's share of the derivative (~1% in this small net).
func tinyCritic(b *Builder, x *Node, w []*Node, alpha *Node, act bool) *Node {
	lr := ConvSpec{Gain: 1.41, LeakyReLU: act}
	same := ConvSpec{Pad: 1, Gain: 1.41, LeakyReLU: act}
	h := b.Conv(x, w[0], w[1], lr)               // fromRGB at 8x8: 3 -> 4
	h = b.Conv(h, w[2], w[3], same)              // 4 -> 5
	h = b.AvgPool(h)                             // 4x4
	skip := b.Conv(b.AvgPool(x), w[4], w[5], lr) // fromRGB at 4x4: 3 -> 5
	h = b.Lerp(h, skip, alpha)
	h = b.MinibatchStddev(h, 4)           // 6 channels
	h = b.Conv(h, w[6], w[7], same)       // 6 -> 5
	h = b.Dense(h, w[8], w[9], 1.41, act) // 5*4*4 -> 7
	return b.Dense(h, w[10], w[11], 1, false)
}

func tinyCriticWeights(rng *rand.Rand) []*tensor.Dense {
	shapes := [][]int{{4, 3, 1, 1}, {4}, {5, 4, 3, 3}, {5}, {5, 3, 1, 1}, {5}, {5, 6, 3, 3}, {5}, {7, 5, 4, 4}, {7}, {1, 7, 1, 1}, {1}}
	ws := make([]*tensor.Dense, len(shapes))
	for i, s := range shapes {
		ws[i] = randTensor(rng, s...)
		if len(s) == 1 { // biases: small, as after a little training
			for j, v := range ws[i].Data().([]float32) {
				ws[i].Data().([]float32)[j] = 0.1 * v
			}
		}
	}
	return ws
}

// TestGradientPenaltyGradient checks the WGAN-GP penalty's gradient with respect to the critic's
// weights (a second derivative through every critic op) against finite differences.
func TestGradientPenaltyGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	x := randTensor(rng, 8, 3, 8, 8)
	ws := tinyCriticWeights(rng)
	inputs := append([]*tensor.Dense{x, tensor.New(tensor.FromScalar(float32(0.6)))}, ws...)
	// Only the weights: the penalty depends on the biases only through the leaky ReLUs' slopes,
	// which are piecewise constant, so its gradient in them is zero almost everywhere.
	diff := make([]bool, len(inputs))
	for i := 2; i < len(diff); i += 2 {
		diff[i] = true
	}
	for _, act := range []bool{false, true} {
		// With leaky ReLUs the penalty jumps where a unit changes sign (its slope enters the
		// input gradient), so the step must be small enough to rarely cross one.
		tol, eps := 2e-3, 1e-3
		if act {
			tol, eps = 1e-2, 1e-4
		}
		checkGrad(t, gradCase{
			name:        fmt.Sprintf("wgan-gp penalty (leaky ReLU %t)", act),
			inputs:      inputs,
			diff:        diff,
			eps:         eps,
			tol:         tol,
			directional: true,
			build: func(b *Builder, in []*Node) *Node {
				out := tinyCritic(b, in[0], in[2:], in[1], act)
				// the critic's sum (not mean) makes the input gradient norms O(1), where the
				// penalty is most sensitive to the weights and float32 differences are accurate
				gx := b.GradOf(b.do(scaledSumDef(4), out), in[0])
				return b.GradPenalty(gx)
			},
		})
	}
}

// TestCriticGradient checks the critic's first derivatives (input and weights) against finite
// differences, and that GradOf gives the same input gradient as gorgonia.Grad.
func TestCriticGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	x := randTensor(rng, 4, 3, 8, 8)
	ws := tinyCriticWeights(rng)
	inputs := append([]*tensor.Dense{x, tensor.New(tensor.FromScalar(float32(0.3)))}, ws...)
	diff := make([]bool, len(inputs))
	for i := range diff {
		diff[i] = i != 1
	}
	for _, act := range []bool{false, true} {
		tol := 2e-3
		if act {
			tol = 3e-2
		}
		checkGrad(t, gradCase{
			name: fmt.Sprintf("critic (leaky ReLU %t)", act), inputs: inputs, diff: diff, eps: 1e-3, tol: tol, directional: true,
			build: func(b *Builder, in []*Node) *Node { return tinyCritic(b, in[0], in[2:], in[1], act) },
		})
	}

	g := G.NewGraph()
	b := NewBuilder(NewArena())
	in := make([]*Node, len(inputs))
	for i, v := range inputs {
		in[i] = inputNode(g, fmt.Sprint("in", i), v)
	}
	y := b.Mean(tinyCritic(b, in[0], in[2:], in[1], true))
	ours := b.GradOf(y, in[0])
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	theirs, err := G.Grad(y, in[0])
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	a, _ := data(ours.Value())
	c, _ := data(theirs[0].Value())
	for i := range a {
		if math.Abs(float64(a[i]-c[i])) > 1e-6*(1+math.Abs(float64(c[i]))) {
			t.Fatalf("GradOf and gorgonia.Grad differ at %d: %g vs %g", i, a[i], c[i])
		}
	}
}
