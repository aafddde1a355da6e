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

// Zero-padded convolutions (all of the critic's) run through oneDNN, the library behind
// PyTorch's CPU convolutions: its JIT kernels on blocked layouts reach 135-180 GFLOP/s per core on
// AVX-512 where im2col + sgemm reaches about 60 end to end, because they never materialise the
// receptive fields. Each member of the convolution family (forward with fused bias and leaky ReLU,
// adjoint in the input, adjoint in the weights) maps to a oneDNN primitive, run single-threaded
// on each worker of our Pool over a fixed split of the batch, so results do not depend on which
// worker runs which part, and weight gradients are summed over the parts in a fixed order.
// Circular padding (the generator) and the upsampling convolutions keep the im2col path.

// ConvEngine names the engine of zero-padded convolutions: "onednn" (default) or "im2col".
var convEngine atomic.Value

func init() { convEngine.Store("onednn") }

// SetConvEngine selects the engine of zero-padded convolutions: "onednn", or "im2col" (im2col +
// OpenBLAS, the engine of every other convolution), for comparisons.
func SetConvEngine(name string) error {
	switch name {
	case "onednn", "im2col":
		convEngine.Store(name)
		return nil
	}
	return fmt.Errorf("convolution engine %q: want onednn or im2col", name)
}

// ConvEngine reports the engine of zero-padded convolutions.
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

// useDNNL reports whether convolution g runs through oneDNN.
func (g convGeom) useDNNL() bool { return !g.circ && !g.up && ConvEngine() == "onednn" }

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
func dnnlConv(p *Pool, kind convKind, g convGeom, a, b []float32, scale float32, bias []float32, act bool, out []float32, s *dnnlScratch) error {
	parts := dnnlParts(g)
	prims, err := dnnlPrims(kind, g, g.n/parts, act && kind == convFwd, bias != nil && kind == convFwd)
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
	p.Dynamic(parts, parts == 1, func(_, i int) {
		var msg [256]C.char
		pa := a[i*aPer : (i+1)*aPer]
		pb, po := weights, s.partials
		if kind == convWeight {
			pb = b[i*bPer : (i+1)*bPer]
		} else {
			po = out
		}
		po = po[i*outPer : (i+1)*outPer]
		if C.tconv_exec(prims, fptr(pa), fptr(pb), fptr(bias), fptr(po), &msg[0], C.int(len(msg))) != 0 {
			errs[i] = fmt.Errorf("%s", C.GoString(&msg[0]))
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
