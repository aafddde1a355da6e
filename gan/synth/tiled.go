package synth

import (
	"context"
	"fmt"

	"tessera/gan/model"
)

// Halo is the number of latent cells of context a tile needs on each side: every 3x3
// convolution widens the generator's receptive field by one pixel of its resolution, i.e. by
// 2*(1 + 1/2 + 1/4 + ...) < 4 cells over the two convolutions of each stage.
const Halo = 4

// GenerateTiled renders one latent grid (N must be 1) in square tiles of at most tile x tile
// cells, so that memory stays bounded whatever the image size: each tile is generated with Halo
// cells of wrapped-around context on every side, and only its centre is kept. The result equals
// Generate's (up to float rounding) and is seamless in the same way. progress, if not nil, is
// called with the fraction done.
func (g *Generator) GenerateTiled(ctx context.Context, lt model.Latent, tile int, progress func(float64)) ([]float32, int, error) {
	if lt.N != 1 {
		return nil, 0, fmt.Errorf("tiled generation renders one image at a time (got %d)", lt.N)
	}
	if tile < 1 {
		return nil, 0, fmt.Errorf("tile size %d", tile)
	}
	if lt.L <= tile {
		if progress != nil {
			defer progress(1)
		}
		return g.Generate(lt)
	}
	cfg, l, s := g.cfg, lt.L, g.Scale()
	side := l * s
	out := make([]float32, 3*side*side)
	nd := cfg.NoiseDim
	tiles := (l + tile - 1) / tile
	done := 0
	for ty := 0; ty < tiles; ty++ {
		for tx := 0; tx < tiles; tx++ {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			y0, x0 := ty*tile, tx*tile
			h, w := min(tile, l-y0), min(tile, l-x0)
			// the tile's latent: a square window of the grid with the halo, wrapped around
			k := max(h, w) + 2*Halo
			sub := model.Latent{N: 1, L: k, Style: lt.Style, Noise: make([]float32, nd*k*k)}
			for c := 0; c < nd; c++ {
				for y := 0; y < k; y++ {
					for x := 0; x < k; x++ {
						sy, sx := mod(y0-Halo+y, l), mod(x0-Halo+x, l)
						sub.Noise[(c*k+y)*k+x] = lt.Noise[(c*l+sy)*l+sx]
					}
				}
			}
			img, ks, err := g.Generate(sub)
			if err != nil {
				return nil, 0, err
			}
			for c := 0; c < 3; c++ {
				for y := 0; y < h*s; y++ {
					src := img[(c*ks+Halo*s+y)*ks+Halo*s:]
					copy(out[(c*side+y0*s+y)*side+x0*s:(c*side+y0*s+y)*side+x0*s+w*s], src[:w*s])
				}
			}
			done++
			if progress != nil {
				progress(float64(done) / float64(tiles*tiles))
			}
		}
	}
	return out, side, nil
}

func mod(a, m int) int {
	a %= m
	if a < 0 {
		a += m
	}
	return a
}
