package model

import (
	"fmt"
	"math/rand/v2"
)

// Latent is a batch of latent grids: a global style vector per sample, broadcast over the grid,
// and independent noise per grid cell. A grid of L x L cells gives an image of
// L*res/4 pixels per side at stage resolution res.
type Latent struct {
	N, L  int
	Style []float32 // N x StyleDim
	Noise []float32 // N x NoiseDim x L x L
}

// RandomLatent draws a latent batch with N(0,1) entries.
func RandomLatent(cfg Config, n, l int, rng *rand.Rand) Latent {
	lt := Latent{N: n, L: l, Style: make([]float32, n*cfg.StyleDim), Noise: make([]float32, n*cfg.NoiseDim*l*l)}
	for i := range lt.Style {
		lt.Style[i] = float32(rng.NormFloat64())
	}
	for i := range lt.Noise {
		lt.Noise[i] = float32(rng.NormFloat64())
	}
	return lt
}

// Fill writes the latent grid [N, StyleDim+NoiseDim, L, L] into dst.
func (lt Latent) Fill(cfg Config, dst []float32) error {
	s, nd, cells := cfg.StyleDim, cfg.NoiseDim, lt.L*lt.L
	c := s + nd
	if len(dst) != lt.N*c*cells || len(lt.Style) != lt.N*s || len(lt.Noise) != lt.N*nd*cells {
		return fmt.Errorf("latent: sizes do not match (n=%d, grid %dx%d)", lt.N, lt.L, lt.L)
	}
	for i := 0; i < lt.N; i++ {
		for ch := 0; ch < s; ch++ {
			v := lt.Style[i*s+ch]
			plane := dst[(i*c+ch)*cells : (i*c+ch+1)*cells]
			for j := range plane {
				plane[j] = v
			}
		}
		copy(dst[(i*c+s)*cells:(i+1)*c*cells], lt.Noise[i*nd*cells:(i+1)*nd*cells])
	}
	return nil
}
