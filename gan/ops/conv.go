package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvSpec configures a convolution. The kernel size K comes from the weight shape
// [Cout, Cin, K, K]; the output is (H+2*Pad-K+1) x (W+2*Pad-K+1).
type ConvSpec struct {
	Pad       int     // padding on each side (K/2 gives "same")
	Circular  bool    // wrap-around padding (requires Pad == K/2 with K odd); zero padding otherwise
	Gain      float32 // equalized learning rate: weights are scaled by Gain/sqrt(Cin*K*K) at run time
	LeakyReLU bool    // apply leaky ReLU (slope 0.2) after the bias
	// Upsample convolves the 2x nearest-neighbour upsampling of the input (3x3 same convolutions
	// only), computed without forming it in 4/9 of the work (see upconv.go).
	Upsample bool
	// PixelNorm normalises each output pixel's feature vector after the activation (as PixelNorm
	// does). Builders for inference fuse it into the convolution's epilogue.
	PixelNorm bool
}

// Slope is the negative-side slope of the leaky ReLU.
const Slope = 0.2

// EqualizedScale is the run-time weight multiplier of the equalized learning rate.
func EqualizedScale(gain float32, fanIn int) float32 {
	return gain / float32(math.Sqrt(float64(fanIn)))
}

// convGeom is the geometry of one convolution call (stride 1, square kernel).
type convGeom struct {
	n, cin, h, w int // input
	cout, k, pad int
	circ         bool
	oh, ow       int  // output
	up           bool // the input is the 2x upsampling of the given one (h, w are its size)
}

func newConvGeom(n, cin, h, w, cout, k, pad int, circ bool) (convGeom, error) {
	g := convGeom{n: n, cin: cin, h: h, w: w, cout: cout, k: k, pad: pad, circ: circ,
		oh: h + 2*pad - k + 1, ow: w + 2*pad - k + 1}
	switch {
	case k < 1 || pad < 0:
		return g, fmt.Errorf("bad kernel %d or padding %d", k, pad)
	case g.oh < 1 || g.ow < 1:
		return g, fmt.Errorf("kernel %d with padding %d does not fit a %dx%d input", k, pad, h, w)
	case circ && (k%2 == 0 || 2*pad != k-1):
		return g, fmt.Errorf("circular padding needs an odd kernel and same padding (got kernel %d, padding %d)", k, pad)
	}
	return g, nil
}

func (g convGeom) kc() int { return g.cin * g.k * g.k }

// flops is the multiply-add work of the convolution (x2): for an upsampled input, the 2x2
// kernel of each output phase.
func (g convGeom) flops() int {
	if g.up {
		return 2 * g.n * g.cout * g.cin * 4 * g.oh * g.ow
	}
	return 2 * g.n * g.cout * g.kc() * g.oh * g.ow
}

// minParallelFLOPs: smaller convolutions run on the calling thread.
const minParallelFLOPs = 1 << 22

// colTarget is the number of output pixels per GEMM: large enough for OpenBLAS to run near its
// peak, small enough that a chunk of im2col columns stays in the L2 cache (measured on the conv
// shapes of the default networks: 256-512 columns beat 1024 by 10-30%).
const colTarget = 512

// chunk is a block of output pixels: images [b0,b1), rows [r0,r1) of each.
type chunk struct{ b0, b1, r0, r1 int }

func (c chunk) cols(ow int) int { return (c.b1 - c.b0) * (c.r1 - c.r0) * ow }

// chunks returns how many chunks the output splits into and the i-th chunk's extent.
func (g convGeom) chunks() (int, func(i int) chunk) {
	plane := g.oh * g.ow
	if plane >= colTarget {
		rows := colTarget / g.ow
		if rows < 1 {
			rows = 1
		}
		per := (g.oh + rows - 1) / rows
		return g.n * per, func(i int) chunk {
			b, r0 := i/per, (i%per)*rows
			return chunk{b, b + 1, r0, min(r0+rows, g.oh)}
		}
	}
	// small images: several per chunk, but at least Lanes chunks so both cores get work
	imgs := max(1, min(colTarget/plane, g.n/Lanes))
	return (g.n + imgs - 1) / imgs, func(i int) chunk {
		return chunk{i * imgs, min((i+1)*imgs, g.n), 0, g.oh}
	}
}

// im2col writes the receptive fields of chunk c of x into cols, a [Cin*K*K][c.cols] matrix.
func (g convGeom) im2col(x []float32, c chunk, cols []float32) {
	if g.oh == g.h && g.ow == g.w && g.w > g.pad {
		g.im2colSame(x, c, cols)
		return
	}
	g.im2colGeneral(x, c, cols)
}

// im2colSame is im2col for "same" convolutions (output size = input size). For a kernel tap
// (ky, kx), the rows of the chunk that read inside the image form one contiguous stretch of the
// input plane shifted by a constant offset, so they are copied with a single memmove; only the
// rows above or below the image and the one wrapped or zero column at each row's edge are fixed
// up afterwards.
func (g convGeom) im2colSame(x []float32, c chunk, cols []float32) {
	nc := c.cols(g.ow)
	nr := c.r1 - c.r0
	k, h, w := g.k, g.h, g.w
	for b := c.b0; b < c.b1; b++ {
		for ci := 0; ci < g.cin; ci++ {
			plane := x[(b*g.cin+ci)*h*w : (b*g.cin+ci+1)*h*w]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					g.tapSame(plane, c, ky, kx, cols[((ci*k+ky)*k+kx)*nc+(b-c.b0)*nr*w:][:nr*w])
				}
			}
		}
	}
}

// tapSame writes kernel tap (ky, kx) of im2colSame for one input plane and chunk c's rows. The
// rows inside the image are one shifted copy; only the columns shifted past an edge, and the
// rows above and below the image, are written one by one.
func (g convGeom) tapSame(plane []float32, c chunk, ky, kx int, dst []float32) {
	p, w, h := g.pad, g.w, g.h
	// chunk rows whose source row lies inside the image
	ra, rb := max(c.r0, p-ky), min(c.r1, h+p-ky)
	dx := kx - p
	if ra < rb {
		lo, hi := (ra-c.r0)*w, (rb-c.r0)*w
		off := (c.r0-p+ky)*w + dx // dst[i] = plane[i+off]
		sl, sh := max(lo, -off), min(hi, len(plane)-off)
		copy(dst[sl:sh], plane[sl+off:sh+off])
		// the columns that fell off the row's edge: [0, -dx) on the left, [w-dx, w) on the right
		if dx != 0 {
			e0, e1 := 0, -dx
			if dx > 0 {
				e0, e1 = w-dx, w
			}
			e0, e1 = max(e0, 0), min(e1, w)
			for r := ra; r < rb; r++ {
				d, s := (r-c.r0)*w, (r-p+ky)*w
				for ox := e0; ox < e1; ox++ {
					if g.circ {
						dst[d+ox] = plane[s+mod(ox+dx, w)]
					} else {
						dst[d+ox] = 0
					}
				}
			}
		}
	}
	// rows above and below the image
	g.outsideRows(plane, c, c.r0, min(ra, c.r1), ky, dx, dst)
	g.outsideRows(plane, c, max(rb, c.r0, min(ra, c.r1)), c.r1, ky, dx, dst)
}

// outsideRows writes chunk rows [r0, r1) of a tap whose source rows lie outside the image:
// zeros, or with circular padding the wrapped rows.
func (g convGeom) outsideRows(plane []float32, c chunk, r0, r1, ky, dx int, dst []float32) {
	w, h := g.w, g.h
	for r := r0; r < r1; r++ {
		row := dst[(r-c.r0)*w : (r-c.r0+1)*w]
		if !g.circ {
			clear(row)
			continue
		}
		src := plane[mod(r-g.pad+ky, h)*w:][:w]
		for ox := range row {
			row[ox] = src[mod(ox+dx, w)]
		}
	}
}

// im2colGeneral handles any padding and kernel (valid convolutions, and the adjoints of them).
func (g convGeom) im2colGeneral(x []float32, c chunk, cols []float32) {
	nc := c.cols(g.ow)
	nr := c.r1 - c.r0
	k, p, w := g.k, g.pad, g.w
	for b := c.b0; b < c.b1; b++ {
		for ci := 0; ci < g.cin; ci++ {
			plane := x[(b*g.cin+ci)*g.h*w : (b*g.cin+ci+1)*g.h*w]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					row := cols[((ci*k+ky)*k+kx)*nc+(b-c.b0)*nr*g.ow:]
					// output columns whose source column ix = ox-p+kx lies inside the image
					lo, hi := max(0, p-kx), min(g.ow, w+p-kx)
					for r := c.r0; r < c.r1; r++ {
						dst := row[(r-c.r0)*g.ow : (r-c.r0+1)*g.ow]
						iy := r - p + ky
						if iy < 0 || iy >= g.h {
							if !g.circ {
								clear(dst)
								continue
							}
							iy = mod(iy, g.h)
						}
						src := plane[iy*w : iy*w+w]
						if lo < hi {
							copy(dst[lo:hi], src[lo-p+kx:hi-p+kx])
						}
						for ox := 0; ox < min(lo, g.ow); ox++ {
							if g.circ {
								dst[ox] = src[mod(ox-p+kx, w)]
							} else {
								dst[ox] = 0
							}
						}
						for ox := max(hi, 0); ox < g.ow; ox++ {
							if g.circ {
								dst[ox] = src[mod(ox-p+kx, w)]
							} else {
								dst[ox] = 0
							}
						}
					}
				}
			}
		}
	}
}

func mod(a, m int) int {
	a %= m
	if a < 0 {
		a += m
	}
	return a
}

// post1x1 is a 1x1 convolution applied to a convolution's output inside its epilogue, so the
// intermediate feature maps are never stored (inference only).
type post1x1 struct {
	w, bias []float32 // [cout][cin], [cout]
	scale   float32
	cout    int
}

// convForward computes y = act(scale * W (*) x + bias) for all images, pixel-normalised if pn,
// and then passed through post if it is not nil; wmat is [Cout][Cin*K*K].
func convForward(p *Pool, g convGeom, x, wmat []float32, scale float32, bias []float32, act, pn bool, post *post1x1, y []float32) {
	n, at := g.chunks()
	kc := g.kc()
	plane := g.oh * g.ow
	p.Dynamic(n, g.flops() < minParallelFLOPs, func(wk, i int) {
		c := at(i)
		nc := c.cols(g.ow)
		cols := p.Scratch(wk, 0, kc*nc)
		tmp := p.Scratch(wk, 1, g.cout*nc)
		g.im2col(x, c, cols)
		sgemm(false, false, g.cout, nc, kc, scale, wmat, kc, cols, nc, 0, tmp, nc)
		bias, act, oc := bias, act, g.cout
		if pn {
			normCols(tmp, g.cout, nc, bias, act, p.Scratch(wk, 2, nc))
			bias, act = nil, false
		}
		if post != nil {
			if !pn {
				actCols(tmp, g.cout, nc, bias, act)
			}
			out := p.Scratch(wk, 3, post.cout*nc)
			sgemm(false, false, post.cout, nc, g.cout, post.scale, post.w, g.cout, tmp, nc, 0, out, nc)
			tmp, bias, act, oc = out, post.bias, false, post.cout
		}
		seg := (c.r1 - c.r0) * g.ow
		for co := 0; co < oc; co++ {
			var bv float32
			if bias != nil {
				bv = bias[co]
			}
			for b := c.b0; b < c.b1; b++ {
				src := tmp[co*nc+(b-c.b0)*seg : co*nc+(b-c.b0+1)*seg]
				dst := y[(b*oc+co)*plane+c.r0*g.ow:]
				dst = dst[:len(src)]
				if act {
					for j, v := range src {
						v += bv
						dst[j] = max(v, v*Slope) // leaky ReLU without an unpredictable branch
					}
				} else {
					for j, v := range src {
						dst[j] = v + bv
					}
				}
			}
		}
	})
}

// actCols applies the bias and the activation in place to t, a [cout][nc] matrix.
func actCols(t []float32, cout, nc int, bias []float32, act bool) {
	for co := 0; co < cout; co++ {
		var bv float32
		if bias != nil {
			bv = bias[co]
		}
		row := t[co*nc:][:nc]
		for j, v := range row {
			v += bv
			if act {
				v = max(v, v*Slope)
			}
			row[j] = v
		}
	}
}

// normCols applies the bias, the activation and pixel norm in place to the columns (pixels) of
// t, a [cout][nc] matrix, in the same order of operations as the separate ops (so the results are
// bit-identical). ss is scratch of nc.
func normCols(t []float32, cout, nc int, bias []float32, act bool, ss []float32) {
	clear(ss)
	for co := 0; co < cout; co++ {
		var bv float32
		if bias != nil {
			bv = bias[co]
		}
		row := t[co*nc:][:nc]
		ss := ss[:len(row)]
		for j, v := range row {
			v += bv
			if act {
				v = max(v, v*Slope)
			}
			row[j] = v
			ss[j] += v * v
		}
	}
	for j, s := range ss {
		ss[j] = invRMS(s, cout)
	}
	for co := 0; co < cout; co++ {
		row := t[co*nc:][:nc]
		ss := ss[:len(row)]
		for j := range row {
			row[j] *= ss[j]
		}
	}
}

// convWeightGrad computes dw = scale * sum over pixels of gy (x) im2col(x), dw shaped [Cout][Cin*K*K].
// partials holds Lanes scratch accumulators of len(dw) each. Each lane accumulates the transpose,
// dw^T = im2col(x) * gy^T: with the long Cin*K*K side as the GEMM's rows OpenBLAS runs this
// product about 1.5x faster than dw = gy * im2col(x)^T when Cout is small.
func convWeightGrad(p *Pool, g convGeom, x, gy []float32, scale float32, dw []float32, partials [][]float32) {
	n, at := g.chunks()
	kc := g.kc()
	plane := g.oh * g.ow
	for _, part := range partials {
		clear(part)
	}
	run := p.Parallel
	if g.flops() < minParallelFLOPs {
		run = p.Serial
	}
	run(n, Lanes, func(wk, lane, lo, hi int) {
		acc := partials[lane] // [kc][cout]
		for i := lo; i < hi; i++ {
			c := at(i)
			nc := c.cols(g.ow)
			cols := p.Scratch(wk, 0, kc*nc)
			gt := p.Scratch(wk, 1, g.cout*nc)
			g.im2col(x, c, cols)
			seg := (c.r1 - c.r0) * g.ow
			for co := 0; co < g.cout; co++ {
				for b := c.b0; b < c.b1; b++ {
					copy(gt[co*nc+(b-c.b0)*seg:co*nc+(b-c.b0+1)*seg], gy[(b*g.cout+co)*plane+c.r0*g.ow:])
				}
			}
			sgemm(false, true, kc, g.cout, nc, scale, cols, nc, gt, nc, 1, acc, g.cout)
		}
	})
	for co := 0; co < g.cout; co++ {
		row := dw[co*kc : (co+1)*kc]
		for k := range row {
			row[k] = partials[0][k*g.cout+co]
		}
	}
	for _, part := range partials[1:] {
		for co := 0; co < g.cout; co++ {
			row := dw[co*kc : (co+1)*kc]
			for k := range row {
				row[k] += part[k*g.cout+co]
			}
		}
	}
}

// flipKernel writes the adjoint kernel: wt[ci][co][ky][kx] = w[co][ci][K-1-ky][K-1-kx].
func flipKernel(w []float32, cout, cin, k int, wt []float32) {
	kk := k * k
	for co := 0; co < cout; co++ {
		for ci := 0; ci < cin; ci++ {
			src := w[(co*cin+ci)*kk : (co*cin+ci+1)*kk]
			dst := wt[(ci*cout+co)*kk : (ci*cout+co+1)*kk]
			for j := 0; j < kk; j++ {
				dst[j] = src[kk-1-j]
			}
		}
	}
}

// convKind distinguishes the three members of the convolution family. They are closed under
// differentiation: each one's derivatives are members of the family.
type convKind int

const (
	convFwd    convKind = iota // (x, W[, b]) -> y
	convData                   // (gy, W) -> gx, the adjoint in x
	convWeight                 // (x, gy) -> gW, the adjoint in W
)

type convCfg struct {
	kind  convKind
	k     int
	pad   int
	circ  bool
	scale float32
	bias  bool // convFwd only
	act   bool // convFwd only
	up    bool // the convolved image is the 2x upsampling of x (see upconv.go)
	pn    bool // convFwd only: pixel norm after the activation (no derivative: inference only)
	// post (convFwd with bias only): a biased 1x1 convolution with run-time weight scale
	// postScale follows, its weight and bias the 4th and 5th inputs (inference only)
	post      bool
	postScale float32
}

func (c convCfg) name() string {
	kinds := [...]string{"Conv", "ConvData", "ConvWeight"}
	pad := "zero"
	if c.circ {
		pad = "circ"
	}
	up := ""
	if c.up {
		up = "Upsampled"
	}
	pn := ""
	if c.pn {
		pn = "PixelNorm"
	}
	if c.post {
		pn += fmt.Sprintf("Then1x1{scale=%g}", c.postScale)
	}
	return fmt.Sprintf("%s%s%s{k=%d,pad=%d,%s,scale=%g,bias=%t,lrelu=%t}", kinds[c.kind], up, pn, c.k, c.pad, pad, c.scale, c.bias, c.act)
}

// Conv applies a convolution with equalized learning rate. w is [Cout, Cin, K, K], bias is nil or
// [Cout].
func (b *Builder) Conv(x, w, bias *Node, s ConvSpec) *Node {
	if b.err != nil {
		return nil
	}
	ws := w.Shape()
	if len(ws) != 4 || ws[2] != ws[3] {
		b.fail(fmt.Errorf("Conv: weight shape %v is not [Cout, Cin, K, K]", ws))
		return nil
	}
	cfg := convCfg{kind: convFwd, k: ws[2], pad: s.Pad, circ: s.Circular,
		scale: EqualizedScale(s.Gain, ws[1]*ws[2]*ws[3]), bias: bias != nil, act: s.LeakyReLU, up: s.Upsample,
		pn: s.PixelNorm && b.inference}
	if cfg.up && (cfg.k != 3 || cfg.pad != 1) {
		b.fail(fmt.Errorf("Conv: an upsampling convolution must be 3x3 with padding 1 (got %dx%d, padding %d)", cfg.k, cfg.k, cfg.pad))
		return nil
	}
	in := []*Node{x, w}
	if bias != nil {
		in = append(in, bias)
	}
	y := b.add(apply(b.arena, b.pool, convDef(cfg), in...))
	if s.PixelNorm && !cfg.pn {
		y = b.PixelNorm(y)
	}
	return y
}

// ConvThen1x1 is Conv(Conv(x, w, bias, s), w2, bias2, s2) for a 1x1 s2 without activation (such
// as a generator's last layer and its toRGB). Inference builders fuse the two, so the first
// convolution's output (the largest feature maps of a generator) is never stored.
func (b *Builder) ConvThen1x1(x, w, bias *Node, s ConvSpec, w2, bias2 *Node, s2 ConvSpec) *Node {
	if b.err != nil {
		return nil
	}
	ws2 := w2.Shape()
	fusable := b.inference && !s.Upsample && bias != nil && bias2 != nil && len(ws2) == 4 && ws2[2] == 1 && ws2[3] == 1 &&
		s2.Pad == 0 && !s2.LeakyReLU && !s2.Upsample && !s2.PixelNorm
	if !fusable {
		return b.Conv(b.Conv(x, w, bias, s), w2, bias2, s2)
	}
	ws := w.Shape()
	if len(ws) != 4 || ws[2] != ws[3] {
		b.fail(fmt.Errorf("Conv: weight shape %v is not [Cout, Cin, K, K]", ws))
		return nil
	}
	cfg := convCfg{kind: convFwd, k: ws[2], pad: s.Pad, circ: s.Circular,
		scale: EqualizedScale(s.Gain, ws[1]*ws[2]*ws[3]), bias: true, act: s.LeakyReLU, pn: s.PixelNorm,
		post: true, postScale: EqualizedScale(s2.Gain, ws2[1])}
	return b.add(apply(b.arena, b.pool, convDef(cfg), x, w, bias, w2, bias2))
}

// Dense is a fully connected layer with equalized learning rate: x [N, C, H, W] is flattened and
// w is [Cout, C, H, W]; the result is [N, Cout, 1, 1].
func (b *Builder) Dense(x, w, bias *Node, gain float32, leakyReLU bool) *Node {
	if b.err != nil {
		return nil
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[2] != ws[2] || xs[3] != ws[3] || xs[2] != xs[3] {
		b.fail(fmt.Errorf("Dense: input %v and weight %v do not match", xs, ws))
		return nil
	}
	return b.Conv(x, w, bias, ConvSpec{Gain: gain, LeakyReLU: leakyReLU})
}

func convDef(c convCfg) *opDef {
	d := &opDef{name: c.name(), cfg: c}
	switch c.kind {
	case convFwd:
		d.arity, d.typ, d.diffWRT = 2, fn(t4, t4, t4), []bool{true, true}
		if c.bias {
			d.arity, d.typ, d.diffWRT = 3, fn(t4, t4, t1, t4), []bool{true, true, true}
		}
		if c.post {
			d.arity, d.typ, d.diffWRT = 5, fn(t4, t4, t1, t4, t1, t4), []bool{true, true, true, true, true}
		}
	default:
		d.arity, d.typ, d.diffWRT = 2, fn(t4, t4, t4), []bool{true, true}
	}
	d.shape = func(in []tensor.Shape) (tensor.Shape, error) {
		g, err := c.geom(in[0], in[1])
		if err != nil {
			return nil, err
		}
		switch c.kind {
		case convFwd:
			if c.bias && (len(in[2]) != 1 || in[2][0] != g.cout) {
				return nil, fmt.Errorf("bias shape %v, want [%d]", in[2], g.cout)
			}
			if c.post {
				w2, b2 := in[3], in[4]
				if len(w2) != 4 || w2[1] != g.cout || w2[2] != 1 || w2[3] != 1 || len(b2) != 1 || b2[0] != w2[0] {
					return nil, fmt.Errorf("1x1 convolution weight %v and bias %v do not fit %d channels", w2, b2, g.cout)
				}
				return tensor.Shape{g.n, w2[0], g.oh, g.ow}, nil
			}
			return tensor.Shape{g.n, g.cout, g.oh, g.ow}, nil
		case convData:
			if g.up {
				return tensor.Shape{g.n, g.cin, g.h / 2, g.w / 2}, nil
			}
			return tensor.Shape{g.n, g.cin, g.h, g.w}, nil
		default:
			return tensor.Shape{g.cout, g.cin, g.k, g.k}, nil
		}
	}
	var wt, wp, gp, partials []float32 // op-owned scratch: flipped or phase kernels, phase planes, lane partials
	var dn dnnlScratch
	d.exec = func(o *op, out []float32, in args) (G.Value, error) {
		a := in.t[0]
		bb := in.t[1]
		g, err := c.geom(in.shape[0], in.shape[1])
		if err != nil {
			return nil, err
		}
		y := out
		if c.up {
			nk := 16 * g.cout * g.cin
			wp, wt = grow(wp, nk), grow(wt, nk)
			switch c.kind {
			case convFwd:
				var bias []float32
				if c.bias {
					bias = in.t[2]
				}
				upForward(o.pool, g, a, bb, c.scale, bias, c.act, c.pn, y, wp)
			case convData:
				gp = grow(gp, len(a))
				upData(o.pool, g, a, bb, c.scale, y, wp, wt, gp)
			case convWeight:
				partials = grow(partials, Lanes*nk)
				parts := make([][]float32, Lanes)
				for l := range parts {
					parts[l] = partials[l*nk : (l+1)*nk]
				}
				gp = grow(gp, len(bb))
				upWeight(o.pool, g, a, bb, c.scale, y, parts, gp)
			}
			return nil, nil
		}
		if g.useDNNL() && !c.post {
			var bias []float32
			if c.kind == convFwd && c.bias {
				bias = in.t[2]
			}
			if err := dnnlConv(o.pool, c.kind, g, a, bb, c.scale, bias, c.act, c.pn, y, &dn); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name(), err)
			}
			return nil, nil
		}
		switch c.kind {
		case convFwd:
			var bias []float32
			if c.bias {
				bias = in.t[2]
			}
			var post *post1x1
			if c.post {
				post = &post1x1{w: in.t[3], bias: in.t[4], scale: c.postScale, cout: in.shape[3][0]}
			}
			convForward(o.pool, g, a, bb, c.scale, bias, c.act, c.pn, post, y)
		case convData:
			// gx = adjoint conv: the flipped, transposed kernel with the complementary padding
			if len(wt) != len(bb) {
				wt = make([]float32, len(bb))
			}
			flipKernel(bb, g.cout, g.cin, g.k, wt)
			ga := convGeom{n: g.n, cin: g.cout, h: g.oh, w: g.ow, cout: g.cin, k: g.k, pad: g.k - 1 - g.pad, circ: g.circ, oh: g.h, ow: g.w}
			convForward(o.pool, ga, a, wt, c.scale, nil, false, false, nil, y)
		case convWeight:
			if len(partials) != Lanes*len(y) {
				partials = make([]float32, Lanes*len(y))
			}
			parts := make([][]float32, Lanes)
			for l := range parts {
				parts[l] = partials[l*len(y) : (l+1)*len(y)]
			}
			convWeightGrad(o.pool, g, a, bb, c.scale, y, parts)
		}
		return nil, nil
	}
	d.diff = func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
		if c.pn || c.post {
			return nil, fmt.Errorf("a convolution fused with pixel norm or a 1x1 convolution has no derivative (build differentiated graphs with NewBuilder)")
		}
		plain := c
		plain.kind, plain.bias, plain.act = convFwd, false, false
		data, weight := c, c
		data.kind, data.bias, data.act = convData, false, false
		weight.kind, weight.bias, weight.act = convWeight, false, false
		switch c.kind {
		case convFwd:
			gy := grad
			if c.act {
				var err error
				if gy, err = o.apply(lreluGradDef(), out, grad); err != nil {
					return nil, err
				}
			}
			gx, err := o.apply(convDef(data), gy, in[1])
			if err != nil {
				return nil, err
			}
			gw, err := o.apply(convDef(weight), in[0], gy)
			if err != nil {
				return nil, err
			}
			if !c.bias {
				return []*Node{gx, gw}, nil
			}
			gb, err := o.apply(biasGradDef(), gy)
			if err != nil {
				return nil, err
			}
			return []*Node{gx, gw, gb}, nil
		case convData: // y = A_W^T gy: d/dgy <y,h> = A_W h ; d/dW <y,h> = ConvWeight(h, gy)
			ggy, err := o.apply(convDef(plain), grad, in[1])
			if err != nil {
				return nil, err
			}
			gw, err := o.apply(convDef(weight), grad, in[0])
			if err != nil {
				return nil, err
			}
			return []*Node{ggy, gw}, nil
		default: // y = dW(x, gy): d/dx <y,H> = ConvData(gy, H) ; d/dgy <y,H> = Conv(x, H)
			gx, err := o.apply(convDef(data), in[1], grad)
			if err != nil {
				return nil, err
			}
			ggy, err := o.apply(convDef(plain), in[0], grad)
			if err != nil {
				return nil, err
			}
			return []*Node{gx, ggy}, nil
		}
	}
	return d
}

// geom derives the geometry from the two tensor inputs of any member of the family.
func (c convCfg) geom(a, b tensor.Shape) (convGeom, error) {
	switch c.kind {
	case convFwd: // (x, W)
		n, cin, h, w, err := dims4(a)
		if err != nil {
			return convGeom{}, err
		}
		if len(b) != 4 || b[1] != cin || b[2] != c.k || b[3] != c.k {
			return convGeom{}, fmt.Errorf("weight shape %v does not fit input %v", b, a)
		}
		if c.up {
			return upGeom(newConvGeom(n, cin, 2*h, 2*w, b[0], c.k, c.pad, c.circ))
		}
		return newConvGeom(n, cin, h, w, b[0], c.k, c.pad, c.circ)
	case convData: // (gy, W): geometry of the forward conv that produced gy
		n, cout, oh, ow, err := dims4(a)
		if err != nil {
			return convGeom{}, err
		}
		if len(b) != 4 || b[0] != cout || b[2] != c.k || b[3] != c.k {
			return convGeom{}, fmt.Errorf("weight shape %v does not fit gradient %v", b, a)
		}
		h, w := oh-2*c.pad+c.k-1, ow-2*c.pad+c.k-1
		if c.up {
			if h%2 != 0 || w%2 != 0 {
				return convGeom{}, fmt.Errorf("gradient %v of an upsampling convolution has an odd side", a)
			}
			return upGeom(newConvGeom(n, b[1], h, w, cout, c.k, c.pad, c.circ))
		}
		return newConvGeom(n, b[1], h, w, cout, c.k, c.pad, c.circ)
	default: // (x, gy)
		n, cin, h, w, err := dims4(a)
		if err != nil {
			return convGeom{}, err
		}
		if c.up {
			h, w = 2*h, 2*w
		}
		g, err := newConvGeom(n, cin, h, w, 0, c.k, c.pad, c.circ)
		if err != nil {
			return g, err
		}
		if c.up {
			if g, err = upGeom(g, nil); err != nil {
				return g, err
			}
		}
		if len(b) != 4 || b[0] != n || b[2] != g.oh || b[3] != g.ow {
			return g, fmt.Errorf("gradient shape %v does not fit input %v", b, a)
		}
		g.cout = b[1]
		return g, nil
	}
}

// upGeom marks g as the convolution of an upsampled input, which must be 3x3 "same".
func upGeom(g convGeom, err error) (convGeom, error) {
	if err != nil {
		return g, err
	}
	if g.k != 3 || g.pad != 1 {
		return g, fmt.Errorf("an upsampling convolution must be 3x3 with padding 1 (got kernel %d, padding %d)", g.k, g.pad)
	}
	g.up = true
	return g, nil
}

// biasGradDef sums a gradient over batch and pixels: [N, C, H, W] -> [C].
func biasGradDef() *opDef {
	return &opDef{name: "BiasGrad", arity: 1, typ: fn(t4, t1), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			_, c, _, _, err := dims4(in[0])
			return tensor.Shape{c}, err
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			g := in.t[0]
			n, c, h, w, _ := dims4(in.shape[0])
			y := out
			plane := h * w
			parts := c
			if len(g) < minParallelWork {
				parts = 1
			}
			o.pool.Parallel(c, parts, func(_, _, lo, hi int) { sumPlanes(g, n, c, plane, lo, hi, y) })
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			gb, err := o.apply(biasBroadcastDef(in[0].Shape()), grad)
			return []*Node{gb}, err
		},
	}
}

// biasBroadcastDef spreads a per-channel vector over [N, C, H, W] (the adjoint of BiasGrad).
func biasBroadcastDef(shape tensor.Shape) *opDef {
	shape = shape.Clone()
	return &opDef{name: fmt.Sprintf("BiasBroadcast%v", shape), arity: 1, typ: fn(t1, t4), diffWRT: []bool{true},
		shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if len(in[0]) != 1 || in[0][0] != shape[1] {
				return nil, fmt.Errorf("vector %v does not fit %v", in[0], shape)
			}
			return shape.Clone(), nil
		},
		exec: func(o *op, out []float32, in args) (G.Value, error) {
			v := in.t[0]
			y := out
			plane := shape[2] * shape[3]
			for i := 0; i < shape[0]*shape[1]; i++ {
				val := v[i%shape[1]]
				for j := range y[i*plane : (i+1)*plane] {
					y[i*plane+j] = val
				}
			}
			return nil, nil
		},
		diff: func(o *op, in []*Node, out, grad *Node) ([]*Node, error) {
			g, err := o.apply(biasGradDef(), grad)
			return []*Node{g}, err
		},
	}
}
