// The C interface between kernels.go and kernels.c.
// tk_lrelu_grad: r = g where y > 0, slope*g elsewhere (the leaky ReLU's backward pass from its output).
void tk_lrelu_grad(const float *y, const float *g, float *r, long n, float slope);
