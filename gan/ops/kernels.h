// The C interface between kernels.go and kernels.c.
// tk_lrelu_grad: r = g where y > 0, slope*g elsewhere (the leaky ReLU's backward pass from its output).
void tk_lrelu_grad(const float *y, const float *g, float *r, long n, float slope);
// tk_sum_planes: out[ch] = the sum over the batch and the plane of g [n][c][plane], for ch in [lo, hi).
void tk_sum_planes(const float *g, long n, long c, long plane, long lo, long hi, float *out);
