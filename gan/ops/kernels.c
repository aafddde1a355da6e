// Memory-bound element-wise kernels in C, so that the compiler vectorises them (Go does not); the
// target clones pick AVX-512 or AVX2 at run time. See kernels.go.
#include "kernels.h"

__attribute__((target_clones("avx512f", "avx2", "default")))
void tk_lrelu_grad(const float *restrict y, const float *restrict g, float *restrict r, long n, float slope) {
	for (long i = 0; i < n; i++)
		r[i] = y[i] > 0.0f ? g[i] : slope * g[i];
}
