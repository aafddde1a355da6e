package app

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
	"tessera/gan/model"
	"tessera/gan/ops"
	"tessera/gan/synth"
)

// Point is a place in the latent space: a style vector, and per-cell noise drawn from one or
// two seeds (blended), so that the same point can be rendered on a latent grid of any size.
type Point struct {
	Style  []float32 `json:"style"`
	NoiseA uint64    `json:"noise_a"`
	NoiseB uint64    `json:"noise_b"`
	NoiseT float64   `json:"noise_t"` // 0: noise of NoiseA, 1: of NoiseB
	Seed   uint64    `json:"seed"`    // the seed the point was drawn from (0 for blends)
}

// Explorer moves through a model's latent space: random points, spherical interpolation between
// anchors, and steps along the main directions of variation.
type Explorer struct {
	m   *Model
	gen *synth.Generator

	dirs  [][]float32 // principal directions in style space, scaled to one standard deviation
	share []float64   // fraction of the feature variance each explains

	mu sync.Mutex
}

// Directions is the number of principal directions the explorer offers.
const Directions = 6

// NewExplorer prepares an explorer for m. It runs the generator's first block on a few hundred
// random styles to find the principal directions (about a second on two cores): call it off the
// UI goroutine.
func NewExplorer(m *Model) (*Explorer, error) {
	e := &Explorer{m: m, gen: m.Generator()}
	if err := e.principalDirections(512, Directions); err != nil {
		return nil, fmt.Errorf("finding the directions of variation: %w", err)
	}
	return e, nil
}

// NewRenderer returns an explorer without directions of variation (Move does nothing): enough to
// render and export points, and immediate.
func NewRenderer(m *Model) *Explorer { return &Explorer{m: m, gen: m.Generator()} }

// Model returns the explored model.
func (e *Explorer) Model() *Model { return e.m }

// Random returns the point drawn from seed.
func (e *Explorer) Random(seed uint64) Point {
	rng := rngOf(seed, 1)
	s := make([]float32, e.m.Config.StyleDim)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return Point{Style: s, NoiseA: seed, NoiseB: seed, Seed: seed}
}

// noise returns the noise grid of a seed for an l x l latent grid. Each cell's noise is drawn
// from (seed, cell position) alone, so grids of different sizes share their cells: a preview
// shows the top-left corner of the texture that a larger export of the same point paints (up to
// the wrap-around, which closes the grid at its own size).
func (e *Explorer) noise(seed uint64, l int) []float32 {
	nd := e.m.Config.NoiseDim
	v := make([]float32, nd*l*l)
	for y := 0; y < l; y++ {
		for x := 0; x < l; x++ {
			rng := rngOf(seed, 2+(uint64(y)<<32|uint64(x)))
			for c := 0; c < nd; c++ {
				v[(c*l+y)*l+x] = float32(rng.NormFloat64())
			}
		}
	}
	return v
}

// Latent returns the latent grid of p with l x l cells (the image is l*Scale() px).
func (e *Explorer) Latent(p Point, l int) model.Latent {
	na := e.noise(p.NoiseA, l)
	noise := na
	if p.NoiseT != 0 && p.NoiseB != p.NoiseA {
		noise = Slerp(na, e.noise(p.NoiseB, l), p.NoiseT)
	}
	return model.Latent{N: 1, L: l, Style: append([]float32(nil), p.Style...), Noise: noise}
}

// Scale is the image side per latent cell.
func (e *Explorer) Scale() int { return e.gen.Scale() }

// Blend interpolates spherically between two points (t=0: a, t=1: b).
func (e *Explorer) Blend(a, b Point, t float64) Point {
	return Point{Style: Slerp(a.Style, b.Style, t), NoiseA: a.NoiseA, NoiseB: b.NoiseA, NoiseT: t}
}

// Move steps from p along the principal directions: coords[k] standard deviations along
// direction k.
func (e *Explorer) Move(p Point, coords []float64) Point {
	q := p
	q.Style = append([]float32(nil), p.Style...)
	for k, c := range coords {
		if k >= len(e.dirs) || c == 0 {
			continue
		}
		for i, d := range e.dirs[k] {
			q.Style[i] += float32(c) * d
		}
	}
	return q
}

// VarianceShare returns the fraction of the feature variance explained by each direction.
func (e *Explorer) VarianceShare() []float64 { return append([]float64(nil), e.share...) }

// Render generates p on an l x l latent grid.
func (e *Explorer) Render(p Point, l int) (*image.NRGBA, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	imgs, side, err := e.gen.Generate(e.Latent(p, l))
	if err != nil {
		return nil, err
	}
	return synth.Image(imgs, 0, side), nil
}

// Slerp interpolates spherically between two vectors (linearly where they are nearly parallel),
// so that interpolated latents keep the norm typical of the Gaussian prior.
func Slerp(a, b []float32, t float64) []float32 {
	out := make([]float32, len(a))
	var na, nb, dot float64
	for i := range a {
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
		dot += float64(a[i]) * float64(b[i])
	}
	cos := dot / math.Sqrt(na*nb+1e-30)
	omega := math.Acos(math.Max(-1, math.Min(1, cos)))
	if math.Sin(omega) < 1e-6 {
		for i := range a {
			out[i] = float32((1-t)*float64(a[i]) + t*float64(b[i]))
		}
		return out
	}
	ka, kb := math.Sin((1-t)*omega)/math.Sin(omega), math.Sin(t*omega)/math.Sin(omega)
	for i := range a {
		out[i] = float32(ka*float64(a[i]) + kb*float64(b[i]))
	}
	return out
}

// principalDirections finds the main directions of variation as GANSpace does for generators
// without a mapping network: PCA of the first block's features over n random styles (noise held
// at zero, features averaged over the grid), then a linear regression from the principal
// coordinates back to the style vectors gives one style-space direction per component.
func (e *Explorer) principalDirections(n, k int) error {
	cfg := e.m.Config
	g := G.NewGraph()
	arena := ops.NewArena()
	b := ops.NewInferenceBuilder(arena)
	const l = 2
	shape := []int{n, cfg.LatentDim(), l, l}
	z := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n*cfg.LatentDim()*l*l)))
	zn := G.NewTensor(g, G.Float32, 4, G.WithShape(shape...), G.WithValue(z), G.WithName("z"))
	feat := model.GeneratorFeatures(b, model.Bind(g, e.m.Params), cfg, zn)
	if b.Err() != nil {
		return b.Err()
	}
	m, err := ops.Compile(g, arena, feat)
	if err != nil {
		return err
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(7, 11))
	styles := mat.NewDense(n, cfg.StyleDim, nil)
	lt := model.Latent{N: n, L: l, Style: make([]float32, n*cfg.StyleDim), Noise: make([]float32, n*cfg.NoiseDim*l*l)}
	for i := range lt.Style {
		lt.Style[i] = float32(rng.NormFloat64())
		styles.Set(i/cfg.StyleDim, i%cfg.StyleDim, float64(lt.Style[i]))
	}
	if err := lt.Fill(cfg, z.Data().([]float32)); err != nil {
		return err
	}
	if err := m.Run(); err != nil {
		return err
	}
	f := feat.Value().Data().([]float32)
	c := cfg.Channels[model.BaseRes]
	X := mat.NewDense(n, c, nil)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			var s float64
			for p := 0; p < l*l; p++ {
				s += float64(f[(i*c+ch)*l*l+p])
			}
			X.Set(i, ch, s/float64(l*l))
		}
	}
	center(X)
	var svd mat.SVD
	if !svd.Factorize(X, mat.SVDThin) {
		return fmt.Errorf("SVD did not converge")
	}
	var V mat.Dense
	svd.VTo(&V)
	sv := svd.Values(nil)
	k = min(k, len(sv))
	var total float64
	for _, s := range sv {
		total += s * s
	}
	// principal coordinates of each sample, normalised to unit variance
	var coords mat.Dense
	coords.Mul(X, V.Slice(0, c, 0, k))
	for j := 0; j < k; j++ {
		sd := sv[j] / math.Sqrt(float64(n-1))
		for i := 0; i < n; i++ {
			coords.Set(i, j, coords.At(i, j)/sd)
		}
	}
	// least squares: styles ~ coords * B, so row j of B is the style direction of one unit
	// (one standard deviation) along component j
	center(styles)
	var B mat.Dense
	if err := B.Solve(&coords, styles); err != nil {
		return fmt.Errorf("regression: %w", err)
	}
	e.dirs, e.share = make([][]float32, k), make([]float64, k)
	for j := 0; j < k; j++ {
		d := make([]float32, cfg.StyleDim)
		for i := range d {
			d[i] = float32(B.At(j, i))
		}
		e.dirs[j], e.share[j] = d, sv[j]*sv[j]/total
	}
	return nil
}

func center(m *mat.Dense) {
	r, c := m.Dims()
	for j := 0; j < c; j++ {
		var s float64
		for i := 0; i < r; i++ {
			s += m.At(i, j)
		}
		s /= float64(r)
		for i := 0; i < r; i++ {
			m.Set(i, j, m.At(i, j)-s)
		}
	}
}
