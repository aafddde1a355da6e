package metric

import (
	"math"
	"math/rand/v2"
)

// smoothNoise returns n images of white noise blurred `passes` times with the binomial
// kernel (wrapping around, so the fields are periodic), each channel shifted to zero mean,
// scaled to a standard deviation of 0.4 and squashed into [-1, 1] with tanh.
func smoothNoise(rng *rand.Rand, n, c, size, passes int) Images {
	im := Images{N: n, C: c, H: size, W: size, Data: make([]float32, n*c*size*size)}
	plane := make([]float64, size*size)
	for p := range n * c {
		for i := range plane {
			plane[i] = rng.NormFloat64()
		}
		for range passes {
			plane = blurWrap(plane, size)
		}
		var sum, ss float64
		for _, v := range plane {
			sum += v
		}
		mean := sum / float64(len(plane))
		for _, v := range plane {
			ss += (v - mean) * (v - mean)
		}
		scale := 0.4 / math.Sqrt(ss/float64(len(plane)))
		for i, v := range plane {
			im.Data[p*size*size+i] = float32(math.Tanh((v - mean) * scale))
		}
	}
	return im
}

// blurWrap blurs a size x size plane with the binomial kernel and periodic borders.
func blurWrap(src []float64, size int) []float64 {
	tmp := make([]float64, len(src))
	dst := make([]float64, len(src))
	for y := range size {
		for x := range size {
			var s float64
			for u := -2; u <= 2; u++ {
				s += binomial[u+2] * src[y*size+(x+u+size)%size]
			}
			tmp[y*size+x] = s
		}
	}
	for y := range size {
		for x := range size {
			var s float64
			for u := -2; u <= 2; u++ {
				s += binomial[u+2] * tmp[((y+u+size)%size)*size+x]
			}
			dst[y*size+x] = s
		}
	}
	return dst
}

// stripes returns n images of sinusoidal stripes with random orientation, period and
// phase plus a little noise.
func stripes(rng *rand.Rand, n, c, size int) Images {
	im := Images{N: n, C: c, H: size, W: size, Data: make([]float32, n*c*size*size)}
	for i := range n {
		angle := rng.Float64() * math.Pi
		period := 4 + 8*rng.Float64()
		phase := rng.Float64() * 2 * math.Pi
		fx, fy := math.Cos(angle)*2*math.Pi/period, math.Sin(angle)*2*math.Pi/period
		for ch := range c {
			for y := range size {
				for x := range size {
					v := 0.8*math.Sin(fx*float64(x)+fy*float64(y)+phase) + 0.05*rng.NormFloat64()
					im.Data[((i*c+ch)*size+y)*size+x] = float32(v)
				}
			}
		}
	}
	return im
}
