// Memory-bound element-wise kernels in C, so that the compiler vectorises them (Go does not); the
// target clones pick AVX-512 or AVX2 at run time. See kernels.go.
#include "kernels.h"

__attribute__((target_clones("avx512f", "avx2", "default")))
void tk_lrelu_grad(const float *restrict y, const float *restrict g, float *restrict r, long n, float slope) {
	for (long i = 0; i < n; i++)
		r[i] = y[i] > 0.0f ? g[i] : slope * g[i];
}

// tk_sum_planes: out[ch] = sum of the planes of channel ch over the batch, for ch in [lo, hi), in
// a fixed order (16 running sums, which the compiler keeps in one vector register, then a fixed
// tree), so the result does not depend on the machine's vector width.
__attribute__((target_clones("avx512f", "avx2", "default")))
void tk_sum_planes(const float *restrict g, long n, long c, long plane, long lo, long hi, float *restrict out) {
	for (long ch = lo; ch < hi; ch++) {
		float s[16] = {0};
		float tail = 0;
		for (long b = 0; b < n; b++) {
			const float *p = g + (b * c + ch) * plane;
			long j = 0;
			for (; j + 16 <= plane; j += 16)
				for (int l = 0; l < 16; l++)
					s[l] += p[j + l];
			for (; j < plane; j++)
				tail += p[j];
		}
		for (int w = 8; w > 0; w /= 2)
			for (int l = 0; l < w; l++)
				s[l] += s[l + w];
		out[ch] = s[0] + tail;
	}
}
