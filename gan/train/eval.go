package train

import (
	"context"
	"errors"
	"fmt"

	"tessera/gan/data"
	"tessera/gan/metric"
	"tessera/gan/model"
	"tessera/gan/synth"
)

// Evaluation draws: their seeds are fixed, so evaluations of a run are comparable over time.
const (
	evalFakeSeed uint64 = 0xe7a1
	evalRealSeed uint64 = 0x5ea1
	evalSWDSeed  uint64 = 0x5ed
)

// ErrNoEvaluation says that an evaluator has nothing to measure at this resolution.
var ErrNoEvaluation = errors.New("no evaluation at this resolution")

// SWDEvaluator returns an Evaluator that compares n samples of the averaged generator with n real
// crops at the current resolution (MS-SWD, x1e3).
func SWDEvaluator(n int) Evaluator {
	return func(ctx context.Context, t *Trainer, gen *synth.Generator) ([]float64, []int, float64, error) {
		if model.BaseRes*gen.Scale() < 8 {
			return nil, nil, 0, ErrNoEvaluation // MS-SWD needs 8x8 patches and more
		}
		fake, err := Samples(ctx, gen, n, evalFakeSeed)
		if err != nil {
			return nil, nil, 0, err
		}
		real, err := RealCrops(t.Dataset(), t.cfg, gen.Res(), n, evalRealSeed)
		if err != nil {
			return nil, nil, 0, err
		}
		r, err := metric.MSSWD(real, fake, evalSWDSeed)
		if err != nil {
			return nil, nil, 0, err
		}
		levels, res := make([]float64, len(r.Levels)), make([]int, len(r.Levels))
		for i, l := range r.Levels {
			levels[i], res[i] = l.SWD, l.Res
		}
		return levels, res, r.Avg, nil
	}
}

// Samples generates n images from gen at its training size (a 4x4 latent grid), in batches.
func Samples(ctx context.Context, gen *synth.Generator, n int, seed uint64) (metric.Images, error) {
	const batch = 16
	side := model.BaseRes * gen.Scale()
	out := metric.Images{N: n, C: 3, H: side, W: side, Data: make([]float32, 0, n*3*side*side)}
	for i := 0; i < n; i += batch {
		if err := ctx.Err(); err != nil {
			return metric.Images{}, err
		}
		k := min(batch, n-i)
		lt := model.RandomLatent(gen.Config(), k, model.BaseRes, rngFor(seed, streamSamples, uint64(i)))
		imgs, _, err := gen.Generate(lt)
		if err != nil {
			return metric.Images{}, err
		}
		out.Data = append(out.Data, imgs...)
	}
	return out, nil
}

// RealCrops draws n real training crops at resolution res.
func RealCrops(ds *data.Dataset, cfg Config, res, n int, seed uint64) (metric.Images, error) {
	if ds == nil {
		return metric.Images{}, fmt.Errorf("no training data loaded")
	}
	im := metric.Images{N: n, C: 3, H: res, W: res, Data: make([]float32, n*3*res*res)}
	opt := data.CropOptions{Res: res, Source: cfg.Crop.Source, Jitter: cfg.Crop.Jitter, FlipH: cfg.Crop.FlipH, FlipV: cfg.Crop.FlipV, Rotate90: cfg.Crop.Rotate90}
	if err := ds.Batch(im.Data, n, opt, seed); err != nil {
		return metric.Images{}, err
	}
	return im, nil
}
