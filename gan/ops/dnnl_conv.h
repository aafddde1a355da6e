// The C interface between dnnl.go and dnnl.c.
#include <stddef.h>

enum { TCONV_FWD, TCONV_DATA, TCONV_WEIGHT };
#define TCONV_SLOPE 0.2f // must equal ops.Slope

typedef struct tconv tconv;

// tconv_create builds the primitives of one convolution member for a batch of n (NULL and a
// message in err on failure). Geometry is that of the forward convolution x [n,cin,h,w] ->
// [n,cout,h+2pad-k+1,w+2pad-k+1]; act and bias apply to TCONV_FWD only.
tconv *tconv_create(int kind, int n, int cin, int h, int w, int cout, int k, int pad, int act, int bias, char *err, int errlen);
// tconv_weights_bytes is the size of the weights prepared by tconv_prep_weights (FWD and DATA).
size_t tconv_weights_bytes(const tconv *c);
// tconv_prep_weights converts plain [cout][cin][k][k] weights into the primitive's layout.
int tconv_prep_weights(const tconv *c, const float *w, float *out, char *err, int errlen);
// tconv_exec runs the member on the calling thread: FWD (a = x, b = prepared weights, bias or
// NULL, out = y), DATA (a = gy, b = prepared weights, out = gx), WEIGHT (a = x, b = gy, out = gW).
int tconv_exec(const tconv *c, const float *a, const float *b, const float *bias, float *out, char *err, int errlen);
