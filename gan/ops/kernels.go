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
