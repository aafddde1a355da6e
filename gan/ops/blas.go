package ops

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// All matrix products go through OpenBLAS (Debian's libopenblas) via gonum's netlib binding.
// OpenBLAS runs single-threaded: our own worker pool splits the work across cores, which keeps
// results deterministic and stops OpenBLAS's busy-waiting threads from starving the UI.
var impl netlib.Implementation

func init() { C.openblas_set_num_threads(1) }

// BLASCore names the OpenBLAS kernel set chosen for this CPU (for diagnostics and bench output).
func BLASCore() string { return C.GoString(C.openblas_get_corename()) }

// sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, op(A) m x k, op(B) k x n.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	impl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is the exported form of sgemm, used by benchmarks and the bench command to measure the
// raw matrix-product speed that the convolutions are compared against.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
