package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const pixelNormEps = 1e-8

// pixelBlock is the number of pixels per work item of the per-pixel kernels.
const pixelBlock = 4096

// forPixels runs fn over blocks of pixels of each image: items are (image, pixel range).
func forPixels(p *Pool, n, plane int, fn func(w, b, lo, hi int)) {
	per := (plane + pixelBlock - 1) / pixelBlock
	parts := n * per
	if n*plane < minParallelWork/16 { // (per pixel, the kernels touch all channels)
		parts = 1
	}
	p.Parallel(n*per, parts, func(w, _, lo, hi int) {
		for i := lo; i < hi; i++ {
			b, k := i/per, i%per
			fn(w, b, k*pixelBlock, min((k+1)*pixelBlock, plane))
		}
	})
}

// PixelNorm normalises each pixel's feature vector to unit root mean square:
// y = x / sqrt(mean over channels of x^2 + 1e-8).
func (b *Builder) PixelNorm(x *Node) *Node { return b.do(pixelNormDef(), x) }

// pixelInv writes inv[p] = 1/sqrt(mean_c x[c,p]^2 + eps) for pixels [lo,hi) of one image.
func pixelInv(x []float32, c, plane, lo, hi int, inv []float32) {
	inv = inv[:hi-lo]
	clear(inv)
	for ch := 0; ch < c; ch++ {
		row := x[ch*plane+lo : ch*plane+hi]
		for j, v := range row {
			inv[j] += v * v
		}
	}
	for j, s := range inv {
		inv[j] = invRMS(s, c)
	}
}

// invRMS is pixel norm's factor for a pixel whose c channels have the sum of squares s. The
// separate op and the one fused into the convolution epilogue share it, so they agree bit for bit.
func invRMS(s float32, c int) float32 {
	return float32(1 / math.Sqrt(float64(s/float32(c))+pixelNormEps))
}

func pixelNormDef() *opDef {
	return &opDef{name: "PixelNorm", arity: 1, typ: fn(t4, t4), diffWRT: []bool{true}, shape: sameShape,
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			n, c, h, w, err := dims4(in.shape[0])
			if err != nil {
				return nil, err
			}
			y := out
			plane := h * w
			forPixels(o.pool, n, plane, func(wk, b, lo, hi int) {
				inv := o.pool.Scratch(wk, 0, hi-lo)
				xb, yb := x[b*c*plane:(b+1)*c*plane], y[b*c*plane:(b+1)*c*plane]
				pixelInv(xb, c, plane, lo, hi, inv)
				for ch := 0; ch < c; ch++ {
					src, dst := xb[ch*plane+lo:ch*plane+hi], yb[ch*plane+lo:ch*plane+hi]
					for j, v := range src {
						dst[j] = v * inv[j]
					}
				}
			})
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(pixelNormGradDef(), in[0], grad)
			return []*Node{g}, err
		},
	}
}

// pixelNormGradDef: (x, g) -> dx = inv*g - x*inv^3*(sum_c g*x)/C. Only the generator uses pixel
// norm, so no second derivative is defined.
func pixelNormGradDef() *opDef {
	return &opDef{name: "PixelNormGrad", arity: 2, typ: fn(t4, t4, t4), diffWRT: []bool{true, true}, shape: sameShape,
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			g := in.t[1]
			n, c, h, w, _ := dims4(in.shape[0])
			y := out
			plane := h * w
			forPixels(o.pool, n, plane, func(wk, b, lo, hi int) {
				inv := o.pool.Scratch(wk, 0, hi-lo)
				dot := o.pool.Scratch(wk, 1, hi-lo)
				off := b * c * plane
				xb, gb, yb := x[off:off+c*plane], g[off:off+c*plane], y[off:off+c*plane]
				pixelInv(xb, c, plane, lo, hi, inv)
				clear(dot)
				for ch := 0; ch < c; ch++ {
					xr, gr := xb[ch*plane+lo:ch*plane+hi], gb[ch*plane+lo:ch*plane+hi]
					for j := range xr {
						dot[j] += xr[j] * gr[j]
					}
				}
				for j := range dot {
					dot[j] *= inv[j] * inv[j] * inv[j] / float32(c)
				}
				for ch := 0; ch < c; ch++ {
					xr, gr, yr := xb[ch*plane+lo:ch*plane+hi], gb[ch*plane+lo:ch*plane+hi], yb[ch*plane+lo:ch*plane+hi]
					for j := range yr {
						yr[j] = inv[j]*gr[j] - xr[j]*dot[j]
					}
				}
			})
			return nil, nil
		},
	}
}

const mbstdEps = 1e-8

// MinibatchStddev appends one feature map holding, for each group of `group` consecutive
// samples, the mean over features and pixels of the standard deviation across the group
// (Karras et al. 2018). The batch size must be a multiple of the group size (capped at the batch).
func (b *Builder) MinibatchStddev(x *Node, group int) *Node {
	if b.err != nil {
		return nil
	}
	n := x.Shape()[0]
	gs := min(group, n)
	if gs < 1 || n%gs != 0 {
		b.fail(fmt.Errorf("MinibatchStddev: batch %d is not a multiple of the group size %d", n, gs))
		return nil
	}
	return b.do(mbstdDef(gs), x)
}

// mbstdStats computes, for each group, sigma_d (stored in sig) and u_id = (x_id-mu_d)/sigma_d
// (stored in u, same layout as x) over features d = (c, y, x).
func mbstdStats(x []float32, n, gs, d int, u, sig []float32) {
	for g0 := 0; g0 < n; g0 += gs {
		s := sig[g0/gs*d : (g0/gs+1)*d]
		for k := 0; k < d; k++ {
			var mu float64
			for i := g0; i < g0+gs; i++ {
				mu += float64(x[i*d+k])
			}
			mu /= float64(gs)
			var v float64
			for i := g0; i < g0+gs; i++ {
				e := float64(x[i*d+k]) - mu
				v += e * e
			}
			sd := math.Sqrt(v/float64(gs) + mbstdEps)
			s[k] = float32(sd)
			for i := g0; i < g0+gs; i++ {
				u[i*d+k] = float32((float64(x[i*d+k]) - mu) / sd)
			}
		}
	}
}

func mbstdShapes(in tensor.Shape) (n, c, h, w int, err error) {
	return dims4(in)
}

// mbstdDef: x [N,C,H,W] -> [N,C+1,H,W].
func mbstdDef(gs int) *opDef {
	var u, sig []float32
	return &opDef{name: fmt.Sprintf("MinibatchStddev{%d}", gs), arity: 1, typ: fn(t4, t4), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			n, c, h, w, err := dims4(in[0])
			if err == nil && n%gs != 0 {
				err = fmt.Errorf("batch %d is not a multiple of the group size %d", n, gs)
			}
			return tensor.Shape{n, c + 1, h, w}, err
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			n, c, h, w, _ := dims4(in.shape[0])
			d, plane := c*h*w, h*w
			u, sig = grow(u, n*d), grow(sig, n/gs*d)
			mbstdStats(x, n, gs, d, u, sig)
			y := out
			for i := 0; i < n; i++ {
				copy(y[i*(c+1)*plane:], x[i*d:(i+1)*d])
				var s float64
				for _, v := range sig[i/gs*d : (i/gs+1)*d] {
					s += float64(v)
				}
				fill(y[(i*(c+1)+c)*plane:(i+1)*(c+1)*plane], float32(s/float64(d)))
			}
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(mbstdVJPDef(gs), in[0], grad)
			return []*Node{g}, err
		},
	}
}

// mbstdVJPDef: (x, g) -> dx, the gradient of MinibatchStddev:
// dx_id = g[i,:C]_d + Gsum * u_id / (gs*D), Gsum = sum over the group and pixels of g[:,C].
func mbstdVJPDef(gs int) *opDef {
	var u, sig []float32
	return &opDef{name: fmt.Sprintf("MinibatchStddevVJP{%d}", gs), arity: 2, typ: fn(t4, t4, t4), diffWRT: []bool{true, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			g := in.t[1]
			n, c, h, w, _ := dims4(in.shape[0])
			d, plane := c*h*w, h*w
			u, sig = grow(u, n*d), grow(sig, n/gs*d)
			mbstdStats(x, n, gs, d, u, sig)
			y := out
			for g0 := 0; g0 < n; g0 += gs {
				var gsum float64
				for i := g0; i < g0+gs; i++ {
					for _, v := range g[(i*(c+1)+c)*plane : (i+1)*(c+1)*plane] {
						gsum += float64(v)
					}
				}
				k := float32(gsum / float64(gs*d))
				for i := g0; i < g0+gs; i++ {
					gi, ui, yi := g[i*(c+1)*plane:i*(c+1)*plane+d], u[i*d:(i+1)*d], y[i*d:(i+1)*d]
					for j := range yi {
						yi[j] = gi[j] + k*ui[j]
					}
				}
			}
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			gx, err := o.apply(mbstdVJPxDef(gs), in[0], in[1], grad)
			if err != nil {
				return nil, err
			}
			gg, err := o.apply(mbstdJVPDef(gs), in[0], grad)
			return []*Node{gx, gg}, err
		},
	}
}

// mbstdJVPDef: (x, h) -> J h, the directional derivative of MinibatchStddev at x:
// [h ; per group and pixel, sum over the group of u_jd h_jd / (gs*D)].
func mbstdJVPDef(gs int) *opDef {
	var u, sig []float32
	return &opDef{name: fmt.Sprintf("MinibatchStddevJVP{%d}", gs), arity: 2, typ: fn(t4, t4, t4), diffWRT: []bool{true, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			n, c, h, w, err := dims4(in[0])
			return tensor.Shape{n, c + 1, h, w}, err
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			hv := in.t[1]
			n, c, h, w, _ := dims4(in.shape[0])
			d, plane := c*h*w, h*w
			u, sig = grow(u, n*d), grow(sig, n/gs*d)
			mbstdStats(x, n, gs, d, u, sig)
			y := out
			for g0 := 0; g0 < n; g0 += gs {
				var s float64
				for i := g0; i < g0+gs; i++ {
					for j := i * d; j < (i+1)*d; j++ {
						s += float64(u[j]) * float64(hv[j])
					}
				}
				v := float32(s / float64(gs*d))
				for i := g0; i < g0+gs; i++ {
					copy(y[i*(c+1)*plane:], hv[i*d:(i+1)*d])
					fill(y[(i*(c+1)+c)*plane:(i+1)*(c+1)*plane], v)
				}
			}
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			gx, err := o.apply(mbstdVJPxDef(gs), in[0], grad, in[1])
			if err != nil {
				return nil, err
			}
			gh, err := o.apply(mbstdVJPDef(gs), in[0], grad)
			return []*Node{gx, gh}, err
		},
	}
}

// mbstdVJPxDef: (x, g, h) -> d/dx <VJP(x, g), h>
// = Gsum/(gs*D) * (1/sigma_d) * [(h_id - mean_j h_jd) - u_id * mean_j(h_jd u_jd)].
// It is only needed as a second derivative, so it has no derivative of its own.
func mbstdVJPxDef(gs int) *opDef {
	var u, sig []float32
	return &opDef{name: fmt.Sprintf("MinibatchStddevVJPx{%d}", gs), arity: 3, typ: fn(t4, t4, t4, t4), diffWRT: []bool{true, true, true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			x := in.t[0]
			g := in.t[1]
			hv := in.t[2]
			n, c, h, w, _ := dims4(in.shape[0])
			d, plane := c*h*w, h*w
			u, sig = grow(u, n*d), grow(sig, n/gs*d)
			mbstdStats(x, n, gs, d, u, sig)
			y := out
			for g0 := 0; g0 < n; g0 += gs {
				var gsum float64
				for i := g0; i < g0+gs; i++ {
					for _, v := range g[(i*(c+1)+c)*plane : (i+1)*(c+1)*plane] {
						gsum += float64(v)
					}
				}
				k := gsum / float64(gs*d)
				s := sig[g0/gs*d : (g0/gs+1)*d]
				for j := 0; j < d; j++ {
					var hm, hu float64
					for i := g0; i < g0+gs; i++ {
						hm += float64(hv[i*d+j])
						hu += float64(hv[i*d+j]) * float64(u[i*d+j])
					}
					hm /= float64(gs)
					hu /= float64(gs)
					for i := g0; i < g0+gs; i++ {
						y[i*d+j] = float32(k / float64(s[j]) * (float64(hv[i*d+j]) - hm - float64(u[i*d+j])*hu))
					}
				}
			}
			return nil, nil
		},
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func fill(b []float32, v float32) {
	for i := range b {
		b[i] = v
	}
}
