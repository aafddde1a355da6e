// Package model defines Tessera's networks: a progressive generator that is fully convolutional
// over a spatial latent grid with circular padding (so it paints seamless textures of any size),
// and a progressive critic with zero padding, both as in Karras et al. 2018 (pixel norm, equalized
// learning rate, minibatch stddev, fade-in), built as gorgonia graphs from Tessera's ops.
package model

import (
	"fmt"
	"math"
	"sort"
)

// Config describes the architecture.
type Config struct {
	MaxRes     int         `json:"max_res"`     // final training resolution (power of two, 8..256)
	Channels   map[int]int `json:"channels"`    // feature maps per resolution
	StyleDim   int         `json:"style_dim"`   // global style vector, broadcast over the latent grid
	NoiseDim   int         `json:"noise_dim"`   // per-cell noise channels of the latent grid
	MbstdGroup int         `json:"mbstd_group"` // minibatch stddev group size
}

// BaseRes is the resolution of the first stage, and the latent grid side used in training: the
// generator's 4x4 stage works on a 4x4 latent grid; each later stage doubles it.
const BaseRes = 4

// DefaultChannels are the feature maps per resolution, chosen for quality per CPU-minute: half the
// reference widths up to 64 px. An iteration costs about a third of the reference's at 16-64 px;
// on the stone wall photos three times the images in the same half hour were level with the
// reference widths at the fine scales and far better at the coarse one (MS-SWD at 64/32/16 px,
// two seeds: 16.7/14.6/35.6 and 25.6/18.1/32.7, against 21.6/16.4/80.8).
func DefaultChannels() map[int]int {
	return map[int]int{4: 64, 8: 64, 16: 64, 32: 32, 64: 16, 128: 16, 256: 8}
}

// ReferenceChannels are the widths of the reference architecture the speed bar was measured with
// (PyTorch, see DESIGN.md section 6, and scripts/pytorch_bench.py).
func ReferenceChannels() map[int]int {
	return map[int]int{4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}
}

// DefaultConfig is the default architecture: 64 px, the default widths, a 128-channel latent
// (96 style + 32 noise), groups of 4 for the minibatch stddev.
func DefaultConfig() Config {
	return Config{MaxRes: 64, Channels: DefaultChannels(), StyleDim: 96, NoiseDim: 32, MbstdGroup: 4}
}

// LatentDim is the number of channels of the latent grid.
func (c Config) LatentDim() int { return c.StyleDim + c.NoiseDim }

// Resolutions lists the stage resolutions, 4 up to MaxRes.
func (c Config) Resolutions() []int {
	var rs []int
	for r := BaseRes; r <= c.MaxRes; r *= 2 {
		rs = append(rs, r)
	}
	return rs
}

// Stages is the number of stages (4 px is stage 0).
func (c Config) Stages() int { return len(c.Resolutions()) }

// Upsampling is the generator's total upsampling at resolution res: the image side divided by
// the latent grid side.
func Upsampling(res int) int { return res / BaseRes }

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxRes < 8 || c.MaxRes > 1024 || c.MaxRes&(c.MaxRes-1) != 0 {
		return fmt.Errorf("max resolution %d: must be a power of two from 8 to 1024", c.MaxRes)
	}
	for _, r := range c.Resolutions() {
		if c.Channels[r] < 1 {
			return fmt.Errorf("no channel count for resolution %d", r)
		}
	}
	if c.StyleDim < 1 || c.NoiseDim < 0 {
		return fmt.Errorf("latent: style %d, noise %d channels", c.StyleDim, c.NoiseDim)
	}
	if c.MbstdGroup < 1 {
		return fmt.Errorf("minibatch stddev group %d", c.MbstdGroup)
	}
	return nil
}

// ParseChannels parses "4:128,8:128,..." into a map.
func ParseChannels(s string) (map[int]int, error) {
	m := map[int]int{}
	var r, c int
	for _, part := range splitComma(s) {
		if _, err := fmt.Sscanf(part, "%d:%d", &r, &c); err != nil || r < 1 || c < 1 {
			return nil, fmt.Errorf("channels %q: want res:channels pairs like 4:128,8:64", part)
		}
		m[r] = c
	}
	return m, nil
}

// FormatChannels renders channels for the resolutions of c, e.g. "4:128 8:128 16:128".
func (c Config) FormatChannels() string {
	rs := c.Resolutions()
	sort.Ints(rs)
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%d", r, c.Channels[r])
	}
	return s
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// gainReLU is the equalized-learning-rate gain of layers followed by a leaky ReLU (He init).
var gainReLU = float32(math.Sqrt2)

// CostPerImage is the multiply-add count of one generator and one critic forward pass per image
// at stage resolution res; training time per image is roughly proportional to it.
func CostPerImage(c Config, res int) float64 {
	var s float64
	conv := func(cin, cout, k, side int) { s += 2 * float64(cin*cout*k*k*side*side) }
	conv(c.LatentDim(), c.Channels[BaseRes], 3, BaseRes)
	conv(c.Channels[BaseRes], c.Channels[BaseRes], 3, BaseRes)
	for r := 2 * BaseRes; r <= res; r *= 2 {
		conv(c.Channels[r/2], c.Channels[r], 3, r) // generator
		conv(c.Channels[r], c.Channels[r], 3, r)
		conv(c.Channels[r], c.Channels[r], 3, r) // critic
		conv(c.Channels[r], c.Channels[r/2], 3, r)
	}
	conv(3, c.Channels[res], 1, res)
	conv(c.Channels[res], 3, 1, res)
	conv(c.Channels[BaseRes]+1, c.Channels[BaseRes], 3, BaseRes)
	conv(c.Channels[BaseRes]*BaseRes*BaseRes, c.Channels[BaseRes], 1, 1)
	return s
}
