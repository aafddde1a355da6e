package data

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// CropOptions controls how training crops are cut.
type CropOptions struct {
	// Res is the output size: a power of two from 4 to 1024.
	Res int
	// Source is the crop side in working-copy pixels before jitter (e.g.
	// 256), clamped to each image's short side. Zero or negative means the
	// image's short side.
	Source int
	// Jitter is the scale jitter range, sampled log-uniformly, e.g.
	// {0.8, 1.25}: the crop side is Source*j, clamped to the image. The zero
	// value means no jitter.
	Jitter [2]float64
	// FlipH and FlipV allow random horizontal and vertical flips.
	FlipH, FlipV bool
	// Rotate90 allows random 90-degree rotations (off by default: bricks are
	// not rotation invariant).
	Rotate90 bool
}

func (o CropOptions) validate() (lo, hi float64, err error) {
	if o.Res < 4 || o.Res > 1024 || o.Res&(o.Res-1) != 0 {
		return 0, 0, fmt.Errorf("crop resolution %d is not a power of two from 4 to 1024", o.Res)
	}
	lo, hi = o.Jitter[0], o.Jitter[1]
	if lo == 0 && hi == 0 {
		lo, hi = 1, 1
	}
	if !(lo > 0 && lo <= hi) || math.IsInf(hi, 0) {
		return 0, 0, fmt.Errorf("scale jitter %v is not a range 0 < low <= high", o.Jitter)
	}
	return lo, hi, nil
}

// Batch fills dst (len n*3*Res*Res, NCHW, values in [-1,1]) with n random
// crops. Each crop comes from an image picked with probability
// proportional to its area, at a uniformly random position and a
// log-uniformly jittered scale, optionally flipped and rotated, and is
// resampled to Res x Res by area-averaging from the mipmap level just
// above the needed scale (bilinear when enlarging). Grayscale images give
// three equal channels; sRGB values [0,1] map to [-1,1].
//
// Batch is a pure function of (dataset, opts, seed): the same seed gives the
// same batch bit for bit, whatever else runs. It is safe for concurrent use.
func (d *Dataset) Batch(dst []float32, n int, opts CropOptions, seed uint64) error {
	var s resampler
	return d.batch(dst, n, opts, seed, &s)
}

func (d *Dataset) batch(dst []float32, n int, opts CropOptions, seed uint64, s *resampler) error {
	if d == nil || len(d.images) == 0 {
		return errors.New("batch: the dataset has no images")
	}
	lo, hi, err := opts.validate()
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	if n < 1 {
		return fmt.Errorf("batch: batch size %d is below 1", n)
	}
	size := 3 * opts.Res * opts.Res
	if len(dst) != n*size {
		return fmt.Errorf("batch: dst has %d values, want %d (%d crops of 3x%dx%d)", len(dst), n*size, n, opts.Res, opts.Res)
	}
	for i := range n {
		d.crop(dst[i*size:(i+1)*size], opts, lo, hi, Mix(seed, uint64(i)), s)
	}
	return nil
}

// crop cuts one crop into dst (3 x Res x Res) using its own random stream.
func (d *Dataset) crop(dst []float32, opts CropOptions, jlo, jhi float64, seed uint64, s *resampler) {
	rng := splitmix{seed}
	total := d.cum[len(d.cum)-1]
	u := rng.float64() * total
	idx := sort.SearchFloat64s(d.cum, u)
	if idx < len(d.cum) && d.cum[idx] == u {
		idx++ // cum[i] is the exclusive upper end of image i
	}
	idx = min(idx, len(d.images)-1)
	wi := d.images[idx]
	base := wi.levels[0]

	short := float64(min(base.w, base.h))
	side := short
	if opts.Source > 0 {
		side = min(float64(opts.Source), short)
	}
	j := jlo
	if jhi > jlo {
		j = math.Exp(math.Log(jlo) + rng.float64()*(math.Log(jhi)-math.Log(jlo)))
	}
	side = min(max(side*j, 1), short)
	x0 := rng.float64() * (float64(base.w) - side)
	y0 := rng.float64() * (float64(base.h) - side)
	var flipH, flipV bool
	var rot int
	if opts.FlipH {
		flipH = rng.next()&1 == 1
	}
	if opts.FlipV {
		flipV = rng.next()&1 == 1
	}
	if opts.Rotate90 {
		rot = int(rng.next() & 3)
	}

	res := opts.Res
	p, sx, sy := wi.level(side, side, res, res)
	s.hw.build(p.w, x0*sx, side*sx, res)
	s.vw.build(p.h, y0*sy, side*sy, res)
	plane := res * res
	// index maps an output position to its place after rotation, then
	// flips. The map is affine, so each row is a start and a step.
	index := func(x, y int) int {
		for range rot {
			x, y = res-1-y, x
		}
		if flipH {
			x = res - 1 - x
		}
		if flipV {
			y = res - 1 - y
		}
		return y*res + x
	}
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:]
	s.resample(p.c, p.row, func(y int, row []float32) {
		o := index(0, y)
		step := index(1, y) - o
		for x := range res {
			if p.c == 1 {
				v := toUnit(row[x])
				r[o], g[o], b[o] = v, v, v
			} else {
				r[o], g[o], b[o] = toUnit(row[3*x]), toUnit(row[3*x+1]), toUnit(row[3*x+2])
			}
			o += step
		}
	})
}

// toUnit maps an 8-bit value (0..255, filtered) to [-1, 1].
func toUnit(v float32) float32 {
	return min(max(v*(2.0/255)-1, -1), 1)
}

// Mix derives the seed of batch k from a base seed: a bijection in k for a
// fixed base, with well-mixed bits (splitmix64's finalizer).
func Mix(base, k uint64) uint64 {
	return fmix(base ^ fmix(k+0x9e3779b97f4a7c15))
}

// fmix is the splitmix64 output function (a bijection on uint64).
func fmix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// splitmix is a small deterministic random number generator.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return fmix(r.s)
}

// float64 returns a uniform value in [0, 1).
func (r *splitmix) float64() float64 {
	return float64(r.next()>>11) / (1 << 53)
}
