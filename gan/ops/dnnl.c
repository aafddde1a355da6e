// Convolutions through oneDNN (Debian's libdnnl): forward with fused bias and leaky ReLU, the
// adjoint in the input and the adjoint in the weights, each run single-threaded on the calling
// thread (the Go worker pool splits the batch), on oneDNN's blocked layouts with reorders from and
// to our plain NCHW tensors. Circular padding is handled in dnnl.go (a wrapped copy of the input).
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include "dnnl_conv.h"

enum { SLOT_A, SLOT_B, SLOT_OUT, SLOT_SCRATCH, NSLOTS };

struct tconv {
	int kind;
	dnnl_primitive_t conv;
	// reorders between the plain layout of our tensors and the primitive's chosen layouts
	// (NULL where the primitive works on the plain layout itself)
	dnnl_primitive_t in_a, in_b, out;
	dnnl_primitive_t wprep; // plain weights -> the primitive's weight layout (fwd, data)
	dnnl_memory_desc_t plain_a, plain_b, plain_out, blk_a, blk_b, blk_out, plain_w, blk_w;
	size_t scratch; // bytes of the primitive's user scratchpad
	size_t wsize;   // bytes of the prepared weights
};

static dnnl_engine_t engine;
static __thread dnnl_stream_t stream;
static __thread void *tl_buf[NSLOTS];
static __thread size_t tl_cap[NSLOTS];

static void *tl_scratch(int slot, size_t bytes) {
	if (bytes == 0)
		return NULL;
	if (tl_cap[slot] < bytes) {
		free(tl_buf[slot]);
		tl_buf[slot] = aligned_alloc(64, (bytes + 63) / 64 * 64);
		tl_cap[slot] = tl_buf[slot] ? bytes : 0;
	}
	return tl_buf[slot];
}

#define CHECK(call)                                                                    \
	do {                                                                               \
		dnnl_status_t st_ = (call);                                                    \
		if (st_ != dnnl_success) {                                                     \
			snprintf(err, errlen, "oneDNN: %s failed with status %d", #call, (int)st_); \
			goto fail;                                                                 \
		}                                                                              \
	} while (0)

// reorder creates a reorder primitive from src to dst, or NULL if they are the same layout.
static dnnl_status_t reorder(const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst, dnnl_primitive_t *prim) {
	*prim = NULL;
	if (dnnl_memory_desc_equal(src, dst))
		return dnnl_success;
	dnnl_primitive_desc_t pd;
	dnnl_primitive_attr_t attr;
	dnnl_status_t st = dnnl_primitive_attr_create(&attr);
	if (st != dnnl_success)
		return st;
	st = dnnl_reorder_primitive_desc_create(&pd, src, engine, dst, engine, attr);
	dnnl_primitive_attr_destroy(attr);
	if (st != dnnl_success)
		return st;
	st = dnnl_primitive_create(prim, pd);
	dnnl_primitive_desc_destroy(pd);
	return st;
}

static dnnl_status_t init_engine(void) {
	if (engine)
		return dnnl_success;
	return dnnl_engine_create(&engine, dnnl_cpu, 0);
}

tconv *tconv_create(int kind, int n, int cin, int h, int w, int cout, int k, int pad, int act, int bias, char *err, int errlen) {
	tconv *c = calloc(1, sizeof *c);
	dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
	dnnl_primitive_attr_t attr = NULL;
	dnnl_post_ops_t ops = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->kind = kind;
	CHECK(init_engine());
	int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
	dnnl_dims_t sd = {n, cin, h, w}, wd = {cout, cin, k, k}, bd = {cout}, dd = {n, cout, oh, ow};
	dnnl_dims_t strides = {1, 1}, pads = {pad, pad};
	dnnl_memory_desc_t src, wei, dst, bmd, src_any, wei_any, dst_any;
	CHECK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nchw));
	CHECK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_oihw));
	CHECK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nchw));
	CHECK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));
	CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, sd, dnnl_f32, dnnl_format_tag_any));
	CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 4, wd, dnnl_f32, dnnl_format_tag_any));
	CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dd, dnnl_f32, dnnl_format_tag_any));
	c->plain_w = wei;

	CHECK(dnnl_primitive_attr_create(&attr));
	CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
	if (kind == TCONV_FWD && act) {
		CHECK(dnnl_post_ops_create(&ops));
		CHECK(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, TCONV_SLOPE, 0.0f));
		CHECK(dnnl_primitive_attr_set_post_ops(attr, ops));
	}
	dnnl_convolution_desc_t fd;
	CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src_any, &wei_any,
		bias ? &bmd : NULL, &dst_any, strides, pads, pads));
	CHECK(dnnl_primitive_desc_create(&fwd_pd, &fd, kind == TCONV_FWD ? attr : NULL, engine, NULL));
	switch (kind) {
	case TCONV_FWD:
		pd = fwd_pd, fwd_pd = NULL;
		c->plain_a = src, c->plain_b = wei, c->plain_out = dst;
		c->blk_a = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
		c->blk_b = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
		c->blk_out = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
		break;
	case TCONV_DATA: {
		dnnl_convolution_desc_t d;
		CHECK(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src_any, &wei_any, &dst_any, strides, pads, pads));
		CHECK(dnnl_primitive_desc_create(&pd, &d, attr, engine, fwd_pd));
		c->plain_a = dst, c->plain_b = wei, c->plain_out = src;
		c->blk_a = *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
		c->blk_b = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
		c->blk_out = *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_src_md, 0);
		break;
	}
	default: {
		dnnl_convolution_desc_t d;
		CHECK(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src_any, &wei_any, NULL, &dst_any, strides, pads, pads));
		CHECK(dnnl_primitive_desc_create(&pd, &d, attr, engine, fwd_pd));
		c->plain_a = src, c->plain_b = dst, c->plain_out = wei;
		c->blk_a = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
		c->blk_b = *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
		c->blk_out = *dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
	}
	}
	c->scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
	CHECK(dnnl_primitive_create(&c->conv, pd));
	CHECK(reorder(&c->plain_a, &c->blk_a, &c->in_a));
	CHECK(reorder(&c->blk_out, &c->plain_out, &c->out));
	if (kind == TCONV_WEIGHT) {
		CHECK(reorder(&c->plain_b, &c->blk_b, &c->in_b));
	} else {
		c->blk_w = c->blk_b;
		c->wsize = dnnl_memory_desc_get_size(&c->blk_w);
		CHECK(reorder(&c->plain_w, &c->blk_w, &c->wprep));
	}
	dnnl_primitive_desc_destroy(pd);
	dnnl_primitive_attr_destroy(attr);
	if (ops)
		dnnl_post_ops_destroy(ops);
	return c;
fail:
	{ // the primitives made before the failure
		dnnl_primitive_t made[] = {c->conv, c->in_a, c->in_b, c->out, c->wprep};
		for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
			if (made[i])
				dnnl_primitive_destroy(made[i]);
	}
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (fwd_pd)
		dnnl_primitive_desc_destroy(fwd_pd);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	if (ops)
		dnnl_post_ops_destroy(ops);
	free(c);
	return NULL;
}

size_t tconv_weights_bytes(const tconv *c) { return c->wsize; }

// run executes prim on one argument set, making memory objects over the given buffers.
static dnnl_status_t run(dnnl_primitive_t prim, int nargs, const int *kinds, const dnnl_memory_desc_t **mds, void **ptrs) {
	dnnl_exec_arg_t args[5];
	dnnl_status_t st = dnnl_success;
	int made = 0;
	for (; made < nargs; made++) {
		args[made].arg = kinds[made];
		st = dnnl_memory_create(&args[made].memory, mds[made], engine, ptrs[made]);
		if (st != dnnl_success)
			goto out;
	}
	st = dnnl_primitive_execute(prim, stream, nargs, args);
	if (st == dnnl_success)
		st = dnnl_stream_wait(stream);
out:
	for (int i = 0; i < made; i++)
		dnnl_memory_destroy(args[i].memory);
	return st;
}

static dnnl_status_t run_reorder(dnnl_primitive_t r, const dnnl_memory_desc_t *from, void *src, const dnnl_memory_desc_t *to, void *dst) {
	int kinds[2] = {DNNL_ARG_FROM, DNNL_ARG_TO};
	const dnnl_memory_desc_t *mds[2] = {from, to};
	void *ptrs[2] = {src, dst};
	return run(r, 2, kinds, mds, ptrs);
}

static dnnl_status_t thread_init(void) {
	omp_set_num_threads(1); // our pool provides the parallelism
	if (stream)
		return dnnl_success;
	return dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
}

int tconv_prep_weights(const tconv *c, const float *w, float *out, char *err, int errlen) {
	CHECK(thread_init());
	if (c->wprep) {
		CHECK(run_reorder(c->wprep, &c->plain_w, (void *)w, &c->blk_w, out));
	} else {
		memcpy(out, w, c->wsize);
	}
	return 0;
fail:
	return -1;
}

int tconv_exec(const tconv *c, const float *a, const float *b, const float *bias, float *out, char *err, int errlen) {
	CHECK(thread_init());
	void *pa = (void *)a, *pb = (void *)b, *po = out;
	if (c->in_a) {
		pa = tl_scratch(SLOT_A, dnnl_memory_desc_get_size(&c->blk_a));
		if (!pa)
			goto oom;
		CHECK(run_reorder(c->in_a, &c->plain_a, (void *)a, &c->blk_a, pa));
	}
	if (c->in_b) {
		pb = tl_scratch(SLOT_B, dnnl_memory_desc_get_size(&c->blk_b));
		if (!pb)
			goto oom;
		CHECK(run_reorder(c->in_b, &c->plain_b, (void *)b, &c->blk_b, pb));
	}
	if (c->out) {
		po = tl_scratch(SLOT_OUT, dnnl_memory_desc_get_size(&c->blk_out));
		if (!po)
			goto oom;
	}
	void *scratch = tl_scratch(SLOT_SCRATCH, c->scratch);
	if (c->scratch && !scratch)
		goto oom;
	int kinds[5];
	const dnnl_memory_desc_t *mds[5];
	void *ptrs[5];
	int n = 0;
	dnnl_memory_desc_t bias_md, scratch_md;
	switch (c->kind) {
	case TCONV_FWD:
		kinds[n] = DNNL_ARG_SRC, mds[n] = &c->blk_a, ptrs[n++] = pa;
		kinds[n] = DNNL_ARG_WEIGHTS, mds[n] = &c->blk_b, ptrs[n++] = pb;
		if (bias) {
			dnnl_dims_t bd = {c->plain_out.dims[1]};
			CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x));
			kinds[n] = DNNL_ARG_BIAS, mds[n] = &bias_md, ptrs[n++] = (void *)bias;
		}
		kinds[n] = DNNL_ARG_DST, mds[n] = &c->blk_out, ptrs[n++] = po;
		break;
	case TCONV_DATA:
		kinds[n] = DNNL_ARG_DIFF_DST, mds[n] = &c->blk_a, ptrs[n++] = pa;
		kinds[n] = DNNL_ARG_WEIGHTS, mds[n] = &c->blk_b, ptrs[n++] = pb;
		kinds[n] = DNNL_ARG_DIFF_SRC, mds[n] = &c->blk_out, ptrs[n++] = po;
		break;
	default:
		kinds[n] = DNNL_ARG_SRC, mds[n] = &c->blk_a, ptrs[n++] = pa;
		kinds[n] = DNNL_ARG_DIFF_DST, mds[n] = &c->blk_b, ptrs[n++] = pb;
		kinds[n] = DNNL_ARG_DIFF_WEIGHTS, mds[n] = &c->blk_out, ptrs[n++] = po;
	}
	if (c->scratch) {
		dnnl_dims_t sd = {(dnnl_dim_t)c->scratch};
		CHECK(dnnl_memory_desc_init_by_tag(&scratch_md, 1, sd, dnnl_u8, dnnl_x));
		kinds[n] = DNNL_ARG_SCRATCHPAD, mds[n] = &scratch_md, ptrs[n++] = scratch;
	}
	CHECK(run(c->conv, n, kinds, mds, ptrs));
	if (c->out)
		CHECK(run_reorder(c->out, &c->blk_out, po, &c->plain_out, out));
	return 0;
oom:
	snprintf(err, errlen, "oneDNN: out of memory for a convolution's scratch buffers");
fail:
	return -1;
}
