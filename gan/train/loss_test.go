package train

import (
	"context"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"tessera/gan/ops"
)

// TestCriticLossHandCases checks the critic's loss terms on scores and gradients worked out by hand.
func TestCriticLossHandCases(t *testing.T) {
	cases := []struct {
		name       string
		loss       Loss
		real, fake []float32    // critic scores, n each
		grad       [][4]float32 // per interpolate, the critic's input gradient (1x2x2)
		want, gp   float64
	}{
		// W = mean fake - mean real = -1 - 2 = -3; drift = (1+9)/2 = 5;
		// |g| = 5 and 0: GP = ((5-1)^2 + (0-1)^2)/2 = 8.5; loss = -3 + 1e-3*5 + 10*8.5
		{"gp", WGANGP, []float32{1, 3}, []float32{0, -2}, [][4]float32{{3, 4, 0, 0}, {0, 0, 0, 0}}, -3 + 0.005 + 85, 8.5},
		// unit gradients cost nothing: |g| = 1 for both; loss = W + drift = (0.5-0.5) + 1e-3*(0.25)
		{"gp unit gradients", WGANGP, []float32{0.5, -0.5}, []float32{0.5, -0.5}, [][4]float32{{1, 0, 0, 0}, {0.5, 0.5, 0.5, 0.5}}, 0.00025, 0},
		// weight clipping: only the Wasserstein term, mean fake - mean real = 2 - (-1) = 3
		{"clip", WGANClip, []float32{-1, -1}, []float32{1, 3}, nil, 3, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig().WithLoss(c.loss)
			n := len(c.real)
			g := G.NewGraph()
			b := ops.NewBuilder(ops.NewArena())
			scores := newInput(g, "scores", 2*n, 1, 1, 1)
			ww := newInput(g, "wgan_weights", 2*n, 1, 1, 1)
			rw := newInput(g, "real_weights", 2*n, 1, 1, 1)
			copy(scores.data(), c.real)
			copy(scores.data()[n:], c.fake)
			for i := 0; i < n; i++ {
				ww.data()[i], ww.data()[n+i], rw.data()[i] = -1/float32(n), 1/float32(n), 1/float32(n)
			}
			var grad *G.Node
			if c.grad != nil {
				in := newInput(g, "grad", n, 1, 2, 2)
				for i, gi := range c.grad {
					copy(in.data()[4*i:], gi[:])
				}
				grad = in.node
			}
			loss, gp := criticLoss(b, cfg, scores.node, ww.node, rw.node, grad)
			if b.Err() != nil {
				t.Fatal(b.Err())
			}
			outs := []*G.Node{loss}
			if gp != nil {
				outs = append(outs, gp)
			}
			m, err := ops.Compile(g, ops.NewArena(), outs...)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Run(); err != nil {
				t.Fatal(err)
			}
			if got := scalarValue(loss); math.Abs(got-c.want) > 1e-5*math.Max(1, math.Abs(c.want)) {
				t.Errorf("loss %g, want %g", got, c.want)
			}
			if (gp == nil) != (c.loss != WGANGP) {
				t.Fatalf("gradient penalty node %v for loss %s", gp, c.loss)
			}
			if gp != nil {
				if got := scalarValue(gp); math.Abs(got-c.gp) > 1e-5*math.Max(1, c.gp) {
					t.Errorf("gradient penalty %g, want %g", got, c.gp)
				}
			}
		})
	}
}

// TestStepReportsConsistentLosses: the loss a training step reports is the sum of the terms it
// reports beside it (-W + drift * D(real)^2 + lambda * GP), in both loss modes.
func TestStepReportsConsistentLosses(t *testing.T) {
	for _, loss := range []Loss{WGANGP, WGANClip} {
		cfg := tinyConfig().WithLoss(loss)
		cfg.Schedule = Schedule{Stabilize: 40, Fade: 40, Final: 80} // clipping uses 5 critic batches per step
		tr, err := New(cfg, dataset(t))
		if err != nil {
			t.Fatal(err)
		}
		steps(t, tr, 2)
		res, err := tr.Step(context.Background())
		tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := -res.WDist
		if loss == WGANGP {
			want += cfg.Drift*res.Drift + cfg.Lambda*res.GP
		}
		// the reported terms are of the last critic step; the loss too
		if math.Abs(res.LossD-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: loss %g, terms give %g (W %g, drift %g, GP %g)", loss, res.LossD, want, res.WDist, res.Drift, res.GP)
		}
		if loss == WGANClip && res.GP != 0 {
			t.Errorf("weight clipping reports a gradient penalty %g", res.GP)
		}
	}
}
