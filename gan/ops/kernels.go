package ops

/*
#cgo CFLAGS: -O3
#include "kernels.h"
*/
import "C"

// lreluGrad writes r = g where y > 0 and Slope*g elsewhere (vectorised C).
func lreluGrad(y, g, r []float32) {
	if len(y) == 0 {
		return
	}
	_, _ = g[len(y)-1], r[len(y)-1] // bounds: the C kernel trusts the lengths
	C.tk_lrelu_grad(fptr(y), fptr(g), fptr(r), C.long(len(y)), C.float(Slope))
}

// sumPlanes writes out[ch] = the sum of g [n][c][plane] over the batch and the plane, for ch in
// [lo, hi) (vectorised C, in a fixed order).
func sumPlanes(g []float32, n, c, plane, lo, hi int, out []float32) {
	if lo >= hi {
		return
	}
	if n*plane == 0 {
		clear(out[lo:hi])
		return
	}
	_, _ = g[n*c*plane-1], out[hi-1]
	C.tk_sum_planes(fptr(g), C.long(n), C.long(c), C.long(plane), C.long(lo), C.long(hi), fptr(out))
}
