package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"tessera/gan/data"
	"tessera/gan/model"
	"tessera/gan/ops"
)

// ErrDone is returned by Step when the schedule is complete.
var ErrDone = errors.New("training schedule complete")

// Trainer holds a training run: the networks, the optimisers and the position in the schedule.
// It is not safe for concurrent use; run it in one goroutine and publish what it reports.
type Trainer struct {
	cfg  Config
	plan Plan
	data *data.Dataset

	G, D, GEMA *model.Params
	optG, optD Optimizer
	optStage   int // stage the optimiser state belongs to

	Images int64 // real images shown to the critic
	Iter   int64 // generator steps
	// StageIter counts generator steps since the current stage started (it ramps the EMA).
	StageIter int64

	graphs              *stageGraphs
	stream              *data.Stream
	streamRes, streamAt int64
	real                []float32
	rng                 *rand.Rand
}

// Random-number streams: every random draw is a pure function of (seed, stream, counter), so a
// resumed run draws exactly what the uninterrupted run would have.
const (
	streamInit uint64 = iota + 1
	streamData
	streamCriticZ
	streamCriticMix
	streamGenZ
	streamSamples
)

func rngFor(seed, stream, k uint64) *rand.Rand {
	return rand.New(rand.NewPCG(data.Mix(seed, stream), k))
}

// New starts a run on a dataset.
func New(cfg Config, ds *data.Dataset) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plan, err := NewPlan(cfg.Mode, cfg.Schedule, cfg.Model)
	if err != nil {
		return nil, err
	}
	rng := rngFor(cfg.Seed, streamInit, 0)
	t := &Trainer{cfg: cfg, plan: plan, data: ds, optStage: -1}
	t.G = model.NewGenerator(cfg.Model, rng)
	t.D = model.NewCritic(cfg.Model, rng)
	t.GEMA = t.G.Clone()
	return t, nil
}

// Config returns the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Plan returns the run's schedule.
func (t *Trainer) Plan() Plan { return t.plan }

// Phase returns the current phase.
func (t *Trainer) Phase() Phase { return t.plan.At(t.Images) }

// Dataset returns the training data.
func (t *Trainer) Dataset() *data.Dataset { return t.data }

// Close releases the programs and the data stream.
func (t *Trainer) Close() {
	if t.graphs != nil {
		t.graphs.Close()
		t.graphs = nil
	}
	if t.stream != nil {
		t.stream.Close()
		t.stream = nil
	}
}

// StepResult reports one iteration.
type StepResult struct {
	Phase    Phase
	LossD    float64 // critic loss
	LossG    float64 // generator loss
	WDist    float64 // mean D(real) - mean D(fake): the critic's estimate of the Wasserstein distance
	GP       float64 // gradient penalty (before lambda)
	Drift    float64 // mean D(real)^2
	Duration time.Duration
	FLOPs    float64 // matrix-product work of the iteration
	Rebuilt  bool    // the programs were (re)built for a new phase
}

// prepare makes the programs, optimisers and data stream match the phase.
func (t *Trainer) prepare(ctx context.Context, ph Phase) (bool, error) {
	rebuilt := false
	if t.graphs == nil || t.graphs.res != ph.Res || t.graphs.fading != ph.Fading {
		if t.graphs != nil {
			t.graphs.Close()
		}
		g, err := buildStage(t.cfg, t.G, t.D, ph.Res, ph.Fading)
		if err != nil {
			return false, fmt.Errorf("building the %d px programs: %w", ph.Res, err)
		}
		t.graphs, rebuilt = g, true
	}
	if t.optStage != ph.Stage {
		// PGAN resets the optimiser state when a stage starts.
		switch t.cfg.Loss {
		case WGANClip:
			t.optG, t.optD = NewRMSProp(t.cfg.ClipLR), NewRMSProp(t.cfg.ClipLR)
		default:
			t.optG = NewAdam(t.cfg.LR, t.cfg.Beta1, t.cfg.Beta2, 1e-8)
			t.optD = NewAdam(t.cfg.LR, t.cfg.Beta1, t.cfg.Beta2, 1e-8)
		}
		t.optStage = ph.Stage
		t.StageIter = 0
	}
	batchIndex := t.Images / int64(t.cfg.Batch)
	if t.stream == nil || t.streamRes != int64(ph.Res) || t.streamAt != batchIndex {
		if t.stream != nil {
			t.stream.Close()
		}
		t.stream = t.data.Stream(ctx, t.cfg.Batch, t.cropOptions(ph.Res), data.Mix(t.cfg.Seed, streamData), uint64(batchIndex))
		t.streamRes, t.streamAt = int64(ph.Res), batchIndex
	}
	return rebuilt, t.graphs.setAlpha(ph.Alpha)
}

func (t *Trainer) cropOptions(res int) data.CropOptions {
	c := t.cfg.Crop
	// The crop covers the same part of the photo at every stage: low resolutions see it
	// downsampled, as PGAN trains low resolutions on downsampled images.
	return data.CropOptions{Res: res, Source: c.Source, Jitter: c.Jitter, FlipH: c.FlipH, FlipV: c.FlipV, Rotate90: c.Rotate90}
}

// nextReal returns the next batch of real crops.
func (t *Trainer) nextReal() ([]float32, error) {
	b, err := t.stream.Next()
	if err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	t.streamAt++
	return b, nil
}

// Step runs one iteration: NCritic critic steps, then one generator step and the EMA update.
func (t *Trainer) Step(ctx context.Context) (StepResult, error) {
	ph := t.plan.At(t.Images)
	if ph.Done {
		return StepResult{Phase: ph}, ErrDone
	}
	start := time.Now()
	rebuilt, err := t.prepare(ctx, ph)
	if err != nil {
		return StepResult{}, err
	}
	if rebuilt {
		start = time.Now() // report the step's own time
	}
	res := StepResult{Phase: ph, Rebuilt: rebuilt}
	s := t.graphs
	n, r := t.cfg.Batch, ph.Res
	img := 3 * r * r
	// a cancellation is honoured only between whole iterations: stopping after some of the critic
	// steps would save a state that an uninterrupted run never passes through
	if err := ctx.Err(); err != nil {
		return StepResult{}, err
	}
	for c := 0; c < t.cfg.NCritic; c++ {
		real, err := t.nextReal()
		if err != nil {
			return StepResult{}, err
		}
		k := uint64(t.Images / int64(n))
		rf := s.realFake.data()
		copy(rf[:n*img], real)
		if ph.Fading {
			fadeReal(rf[:n*img], n, r, ph.Alpha)
		}
		z := model.RandomLatent(t.cfg.Model, n, model.BaseRes, rngFor(t.cfg.Seed, streamCriticZ, k))
		if err := z.Fill(t.cfg.Model, s.fakeZIn.data()); err != nil {
			return StepResult{}, err
		}
		if err := s.fake.Run(); err != nil {
			return StepResult{}, fmt.Errorf("generator: %w", err)
		}
		copy(rf[n*img:], s.fakeOut.Value().Data().([]float32))
		if t.cfg.Loss == WGANGP {
			mixRNG := rngFor(t.cfg.Seed, streamCriticMix, k)
			xh := s.xhat.data()
			for i := 0; i < n; i++ {
				e := float32(mixRNG.Float64())
				a, b, x := rf[i*img:(i+1)*img], rf[(n+i)*img:(n+i+1)*img], xh[i*img:(i+1)*img]
				for j := range x {
					x[j] = e*a[j] + (1-e)*b[j]
				}
			}
		}
		if err := s.critic.Run(); err != nil {
			return StepResult{}, fmt.Errorf("critic: %w", err)
		}
		gs, err := s.critGrads.values()
		if err != nil {
			return StepResult{}, err
		}
		if err := t.optD.Update(s.critGrads.names, paramData(t.D, s.critGrads.names), gs); err != nil {
			return StepResult{}, err
		}
		if t.cfg.Loss == WGANClip {
			clipCritic(t.D, t.cfg.Model, t.cfg.Clip)
		}
		out := s.critOut.Value().Data().([]float32)
		var dr, df, drift float64
		for i := 0; i < n; i++ {
			dr += float64(out[i])
			df += float64(out[n+i])
			drift += float64(out[i]) * float64(out[i])
		}
		res.WDist = (dr - df) / float64(n)
		res.Drift = drift / float64(n)
		res.LossD = scalarValue(s.critLoss)
		if s.critGP != nil {
			res.GP = scalarValue(s.critGP)
		}
		t.Images += int64(n)
	}

	z := model.RandomLatent(t.cfg.Model, n, model.BaseRes, rngFor(t.cfg.Seed, streamGenZ, uint64(t.Iter)))
	if err := z.Fill(t.cfg.Model, s.genZ.data()); err != nil {
		return StepResult{}, err
	}
	if err := s.gen.Run(); err != nil {
		return StepResult{}, fmt.Errorf("generator step: %w", err)
	}
	gs, err := s.genGrads.values()
	if err != nil {
		return StepResult{}, err
	}
	if err := t.optG.Update(s.genGrads.names, paramData(t.G, s.genGrads.names), gs); err != nil {
		return StepResult{}, err
	}
	res.LossG = scalarValue(s.genLoss)
	t.updateEMA()
	t.Iter++
	t.StageIter++
	res.Duration = time.Since(start)
	res.FLOPs = float64(t.cfg.NCritic)*s.flopsCritic + s.flopsGenerate
	return res, nil
}

// updateEMA moves the averaged generator towards the current one. The decay ramps up with the
// steps of the stage, min(beta, (1+t)/(10+t)), so that a short stage's new layers are not
// averaged with their random initial values for most of the stage.
func (t *Trainer) updateEMA() {
	beta := math.Min(t.cfg.EMABeta, float64(1+t.StageIter)/float64(10+t.StageIter))
	b := float32(beta)
	for _, name := range t.G.Names() {
		w, e := t.G.Data(name), t.GEMA.Data(name)
		ops.ParallelFor(len(w), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				e[i] = b*e[i] + (1-b)*w[i]
			}
		})
	}
}

func paramData(p *model.Params, names []string) [][]float32 {
	out := make([][]float32, len(names))
	for i, n := range names {
		out[i] = p.Data(n)
	}
	return out
}

// clipCritic bounds the critic's run-time weights (stored weight times its equalized-learning-rate
// scale) and biases to [-c, c], the original WGAN's weight clipping.
func clipCritic(d *model.Params, cfg model.Config, c float64) {
	for _, name := range d.Names() {
		w := d.Data(name)
		bound := float32(c)
		if sh := d.Shape(name); len(sh) == 4 {
			fanIn := sh[1] * sh[2] * sh[3]
			bound = float32(c * math.Sqrt(float64(fanIn)) / model.Gain(name))
		}
		for i, v := range w {
			w[i] = max(-bound, min(bound, v))
		}
	}
}

// fadeReal blends real images with their 2x-downsampled-and-upsampled version: alpha*x +
// (1-alpha)*up(pool(x)), so the critic sees reals at the same effective resolution as the
// fading-in generator (Karras et al. 2018, appendix A.1).
func fadeReal(x []float32, n, res int, alpha float64) {
	a := float32(alpha)
	half := res / 2
	for p := 0; p < n*3; p++ {
		plane := x[p*res*res : (p+1)*res*res]
		for i := 0; i < half; i++ {
			r0, r1 := plane[2*i*res:(2*i+1)*res], plane[(2*i+1)*res:(2*i+2)*res]
			for j := 0; j < half; j++ {
				m := (1 - a) * 0.25 * (r0[2*j] + r0[2*j+1] + r1[2*j] + r1[2*j+1])
				r0[2*j], r0[2*j+1] = a*r0[2*j]+m, a*r0[2*j+1]+m
				r1[2*j], r1[2*j+1] = a*r1[2*j]+m, a*r1[2*j+1]+m
			}
		}
	}
}

// SeekImages moves the run to a point of the schedule without training (for benchmarks and tests).
func (t *Trainer) SeekImages(images int64) { t.Images = images }

// nonFinite returns the name of a weight tensor holding a NaN or an infinity ("" if none).
func (t *Trainer) nonFinite() string {
	for _, set := range []struct {
		name string
		p    *model.Params
	}{{"generator", t.G}, {"critic", t.D}, {"averaged generator", t.GEMA}} {
		for _, n := range set.p.Names() {
			for _, v := range set.p.Data(n) {
				if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
					return set.name + " " + n
				}
			}
		}
	}
	return ""
}
