// Package train trains Tessera's progressive Wasserstein GAN: the schedule of stages and fade-ins,
// the critic and generator steps (WGAN-GP as in Karras et al. 2018, or the original WGAN with
// weight clipping of Arjovsky et al. 2017), the optimisers, the exponential moving average of the
// generator, checkpoints, sample grids and the metrics log.
package train

import (
	"fmt"
	"math"

	"tessera/gan/model"
)

// Loss selects the Wasserstein loss.
type Loss string

const (
	// WGANGP is the Wasserstein loss with gradient penalty (lambda 10) and drift (1e-3), Adam
	// lr 1e-3, betas (0, 0.99), one critic step per generator step.
	WGANGP Loss = "wgan-gp"
	// WGANClip is the original WGAN: weight clipping at 0.01, RMSProp lr 5e-5, five critic steps
	// per generator step.
	WGANClip Loss = "wgan-clip"
)

// Crop configures the crops of the training photos.
type Crop struct {
	Source   int        `json:"source"`    // crop side in working-copy pixels (the texture's scale)
	Jitter   [2]float64 `json:"jitter"`    // scale jitter range
	FlipH    bool       `json:"flip_h"`    // random horizontal flips
	FlipV    bool       `json:"flip_v"`    // random vertical flips
	Rotate90 bool       `json:"rotate_90"` // random 90-degree rotations
}

// Config is everything that defines a training run.
type Config struct {
	Model    model.Config `json:"model"`
	Mode     Mode         `json:"mode"`
	Loss     Loss         `json:"loss"`
	Schedule Schedule     `json:"schedule"`
	Batch    int          `json:"batch"`
	Seed     uint64       `json:"seed"`
	Crop     Crop         `json:"crop"`

	LR      float64 `json:"lr"`       // Adam (WGAN-GP)
	Beta1   float64 `json:"beta1"`    //
	Beta2   float64 `json:"beta2"`    //
	Lambda  float64 `json:"lambda"`   // gradient penalty weight
	Drift   float64 `json:"drift"`    // weight of mean(D(real)^2)
	ClipLR  float64 `json:"clip_lr"`  // RMSProp (WGAN with clipping)
	Clip    float64 `json:"clip"`     // bound on the critic's run-time weights
	NCritic int     `json:"n_critic"` // critic steps per generator step
	EMABeta float64 `json:"ema_beta"` // generator weight averaging
}

// DefaultConfig returns the defaults: the default architecture at 64 px, WGAN-GP, progressive,
// batch 16, and a schedule sized so that the 64 px stage is reached within about a quarter of an
// hour on a 2-core CPU (14 minutes on a 2-core AVX-512 Xeon, 27 in all): 11250 images per fade-in
// and per stabilisation, 18000 more at 64 px. The cheap 4-16 px stages run 2-3 times longer than
// the others: on the stone wall photos that improved the coarse scale of the final samples.
func DefaultConfig() Config {
	return Config{
		Model:    model.DefaultConfig(),
		Mode:     Progressive,
		Loss:     WGANGP,
		Schedule: Schedule{Stabilize: 11250, Fade: 11250, Final: 18000, Scale: map[int]float64{4: 2, 8: 2, 16: 3}},
		Batch:    16,
		Seed:     1,
		Crop:     Crop{Source: 256, Jitter: [2]float64{0.8, 1.25}, FlipH: true, FlipV: true},
		LR:       1e-3, Beta1: 0, Beta2: 0.99,
		Lambda: 10, Drift: 1e-3,
		ClipLR: 5e-5, Clip: 0.01,
		NCritic: 1,
		EMABeta: EMABeta(DefaultEMAHalfLife, 16),
	}
}

// DefaultEMAHalfLife is the half-life, in images, of the generator's moving average.
const DefaultEMAHalfLife = 11085 // beta 0.999 at batch 16

// EMABeta returns the per-step factor of a moving average with the given half-life in images.
func EMABeta(halfLife float64, batch int) float64 {
	return math.Pow(0.5, float64(batch)/halfLife)
}

// WithLoss returns c with the loss and its usual optimiser settings (critic steps).
func (c Config) WithLoss(l Loss) Config {
	c.Loss = l
	switch l {
	case WGANClip:
		c.NCritic = 5
	default:
		c.NCritic = 1
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if _, err := NewPlan(c.Mode, c.Schedule, c.Model); err != nil {
		return err
	}
	if c.Loss != WGANGP && c.Loss != WGANClip {
		return fmt.Errorf("unknown loss %q (wgan-gp or wgan-clip)", c.Loss)
	}
	if c.Batch < 1 || c.Batch > 256 {
		return fmt.Errorf("batch %d: must be 1..256", c.Batch)
	}
	if g := min(c.Model.MbstdGroup, c.Batch); c.Batch%g != 0 {
		return fmt.Errorf("batch %d must be a multiple of the minibatch stddev group %d", c.Batch, g)
	}
	if c.NCritic < 1 {
		return fmt.Errorf("critic steps %d", c.NCritic)
	}
	if c.Crop.Source < 1 {
		return fmt.Errorf("crop size %d", c.Crop.Source)
	}
	return nil
}
