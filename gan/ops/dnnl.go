package ops

/*
#cgo LDFLAGS: -ldnnl -lgomp
#include <stdlib.h>
#include "dnnl_conv.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Convolutions run through oneDNN, the library behind PyTorch's CPU convolutions: its JIT kernels
// on blocked layouts reach 135-180 GFLOP/s per core on AVX-512 where im2col + sgemm reaches about
// 60 end to end, because they never materialise the receptive fields. Each member of the
// convolution family (forward with fused bias and leaky ReLU, adjoint in the input, adjoint in the
// weights) maps to a oneDNN primitive, run single-threaded on each worker of our Pool over a fixed
// split of the batch, so results do not depend on which worker runs which part, and weight
// gradients are summed over the parts in a fixed order. Circular padding (the generator) is a
// valid convolution of a wrapped copy. The upsampling convolutions (upconv.go), the fused
// convolution + 1x1 of inference graphs, and circular convolutions of single images (the tiles of
// an export, split by rows instead) keep the im2col + OpenBLAS path.

// convEngine names the engine of the convolutions above: "onednn" (default) or "im2col".
var convEngine atomic.Value

func init() { convEngine.Store("onednn") }

// SetConvEngine selects the engine of the convolutions oneDNN can run: "onednn", or "im2col"
// (im2col + OpenBLAS, the engine of the others), for comparisons.
func SetConvEngine(name string) error {
	switch name {
	case "onednn", "im2col":
		convEngine.Store(name)
		return nil
	}
	return fmt.Errorf("convolution engine %q: want onednn or im2col", name)
}

// ConvEngine reports the engine selected by SetConvEngine.
func ConvEngine() string { return convEngine.Load().(string) }

type dnnlKey struct {
	kind                       convKind
	n, cin, h, w, cout, k, pad int
	act, bias                  bool
}

var dnnlCache = struct {
	sync.Mutex
	m map[dnnlKey]*C.tconv
}{m: map[dnnlKey]*C.tconv{}}

// dnnlPrims returns the (cached) primitives of one member for a part of n images.
func dnnlPrims(kind convKind, g convGeom, n int, act, bias bool) (*C.tconv, error) {
	key := dnnlKey{kind, n, g.cin, g.h, g.w, g.cout, g.k, g.pad, act, bias}
	dnnlCache.Lock()
	defer dnnlCache.Unlock()
	if c, ok := dnnlCache.m[key]; ok {
		return c, nil
	}
	ckind := map[convKind]C.int{convFwd: C.TCONV_FWD, convData: C.TCONV_DATA, convWeight: C.TCONV_WEIGHT}[kind]
	var msg [256]C.char
	c := C.tconv_create(ckind, C.int(n), C.int(g.cin), C.int(g.h), C.int(g.w), C.int(g.cout), C.int(g.k), C.int(g.pad),
		cbool(act), cbool(bias), &msg[0], C.int(len(msg)))
	if c == nil {
		return nil, fmt.Errorf("convolution %+v: %s", key, C.GoString(&msg[0]))
	}
	dnnlCache.m[key] = c
	return c, nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func fptr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// useDNNL reports whether convolution g runs through oneDNN: zero padding, and circular padding
// (as a valid convolution of a wrapped copy of the input) where the batch splits over the pool.
// Single images (the tiles of a large export) keep the im2col path, which splits rows instead.
func (g convGeom) useDNNL() bool {
	return !g.up && ConvEngine() == "onednn" && (!g.circ || dnnlParts(g) > 1)
}

// wrapPad copies planes [planes][h][w] into xp [planes][h+2p][w+2p] with wrap-around borders.
func wrapPad(x, xp []float32, planes, h, w, p int) {
	ph, pw := h+2*p, w+2*p
	for i := 0; i < planes; i++ {
		src, dst := x[i*h*w:(i+1)*h*w], xp[i*ph*pw:(i+1)*ph*pw]
		for r := 0; r < ph; r++ {
			row, d := src[mod(r-p, h)*w:][:w], dst[r*pw:][:pw]
			for c := 0; c < p; c++ {
				d[c], d[p+w+c] = row[mod(c-p, w)], row[mod(c, w)]
			}
			copy(d[p:p+w], row)
		}
	}
}

// wrapFold is wrapPad's adjoint: gx[y][x] is the sum of gxp over the padded positions that copy
// (y, x).
func wrapFold(gxp, gx []float32, planes, h, w, p int) {
	ph, pw := h+2*p, w+2*p
	for i := 0; i < planes; i++ {
		src, dst := gxp[i*ph*pw:(i+1)*ph*pw], gx[i*h*w:(i+1)*h*w]
		for y := 0; y < h; y++ {
			copy(dst[y*w:(y+1)*w], src[(y+p)*pw+p:])
		}
		for r := 0; r < ph; r++ {
			d, s := dst[mod(r-p, h)*w:][:w], src[r*pw:][:pw]
			if r < p || r >= h+p { // a wrapped row: all of it
				for c, v := range s {
					d[mod(c-p, w)] += v
				}
				continue
			}
			for c := 0; c < p; c++ { // the wrapped columns of an inside row
				d[mod(c-p, w)] += s[c]
				d[mod(c, w)] += s[p+w+c]
			}
		}
	}
}

// dnnlParts splits a batch of n into equal parts: Lanes of them where n allows, one for small
// jobs (so the split, and a weight gradient's summation order, depend only on the shapes).
func dnnlParts(g convGeom) int {
	if g.flops() < minParallelFLOPs {
		return 1
	}
	for p := min(Lanes, g.n); p > 1; p-- {
		if g.n%p == 0 {
			return p
		}
	}
	return 1
}

// dnnlScratch is the op-owned memory of a oneDNN convolution: the scaled plain weights, the
// weights in the primitive's layout, and the per-part weight gradients.
type dnnlScratch struct {
	scaled, prepared, partials []float32
}

// dnnlConv runs one member of the convolution family on oneDNN. For convFwd a = x, b = W and out
// = y (with bias and the leaky ReLU if act); for convData a = gy, b = W, out = gx; for
// convWeight a = x, b = gy, out = gW. The equalized-learning-rate scale multiplies W (or gW).
// With pn (convFwd only) the output is pixel-normalised after the activation.
func dnnlConv(p *Pool, kind convKind, g convGeom, a, b []float32, scale float32, bias []float32, act, pn bool, out []float32, s *dnnlScratch) error {
	parts := dnnlParts(g)
	pg := g // the primitive's geometry: circular padding is a valid convolution of a wrapped copy
	if g.circ {
		pg.h, pg.w, pg.pad, pg.circ = g.h+2*g.pad, g.w+2*g.pad, 0, false
	}
	np, padded := g.n/parts, pg.cin*pg.h*pg.w
	prims, err := dnnlPrims(kind, pg, np, act && kind == convFwd, bias != nil && kind == convFwd)
	if err != nil {
		return err
	}
	in := g.cin * g.h * g.w // per image
	res := g.cout * g.oh * g.ow
	if kind == convData {
		in, res = res, in
	}
	aPer, bPer, outPer := in*g.n/parts, 0, res*g.n/parts
	weights := b
	if kind == convWeight {
		bPer, outPer = len(b)/parts, len(out)
		s.partials = grow(s.partials, parts*len(out))
	} else {
		s.scaled = grow(s.scaled, len(b))
		for i, v := range b {
			s.scaled[i] = scale * v
		}
		s.prepared = grow(s.prepared, (int(C.tconv_weights_bytes(prims))+3)/4)
		var msg [256]C.char
		if C.tconv_prep_weights(prims, fptr(s.scaled), fptr(s.prepared), &msg[0], C.int(len(msg))) != 0 {
			return fmt.Errorf("preparing weights: %s", C.GoString(&msg[0]))
		}
		weights = s.prepared
	}
	if len(a) != aPer*parts || len(out) != outPer*parts && kind != convWeight || kind == convWeight && len(b) != bPer*parts {
		return fmt.Errorf("buffers %d, %d, %d do not fit geometry %+v", len(a), len(b), len(out), g)
	}
	errs := make([]error, parts)
	p.Dynamic(parts, parts == 1, func(wk, i int) {
		var msg [256]C.char
		pa := a[i*aPer : (i+1)*aPer]
		pb, po := weights, s.partials
		if kind == convWeight {
			pb = b[i*bPer : (i+1)*bPer]
		} else {
			po = out
		}
		po = po[i*outPer : (i+1)*outPer]
		ca, co := pa, po // what the primitive reads and writes
		if g.circ && kind != convData {
			ca = p.Scratch(wk, 0, np*padded)
			wrapPad(pa, ca, np*g.cin, g.h, g.w, g.pad)
		}
		if g.circ && kind == convData {
			co = p.Scratch(wk, 0, np*padded)
		}
		if C.tconv_exec(prims, fptr(ca), fptr(pb), fptr(bias), fptr(co), &msg[0], C.int(len(msg))) != 0 {
			errs[i] = fmt.Errorf("%s", C.GoString(&msg[0]))
			return
		}
		if g.circ && kind == convData {
			wrapFold(co, po, np*g.cin, g.h, g.w, g.pad)
		}
		if pn {
			plane := g.oh * g.ow
			ss := p.Scratch(wk, 1, plane)
			for j := 0; j < np; j++ {
				normCols(po[j*g.cout*plane:(j+1)*g.cout*plane], g.cout, plane, nil, false, ss)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if kind == convWeight {
		copy(out, s.partials[:len(out)])
		for i := 1; i < parts; i++ {
			for j, v := range s.partials[i*len(out) : (i+1)*len(out)] {
				out[j] += v
			}
		}
		for j := range out {
			out[j] *= scale
		}
	}
	return nil
}
