package ops

// A 3x3 "same" convolution of a 2x nearest-upsampled image, computed on the image before
// upsampling. Output pixel (2i+py, 2j+px) of phase (py, px) sees only a 2x2 neighbourhood of the
// small image, with a kernel whose taps are sums of the 3x3 kernel's: along one axis, phase 0
// reads rows i-1 (tap 0) and i (taps 1+2), phase 1 rows i (taps 0+1) and i+1 (tap 2). So the
// work is 4 of the 9 multiply-adds per output pixel, the upsampled image is never stored, and
// padding (circular or zero) of the upsampled image is padding of the small one.

// phaseKernels writes the four phases' 2x2 kernels: wp[ph][co][ci*4+ty*2+tx], ph = py*2+px.
// Along each axis phase 0's taps are (k0, k1+k2) and phase 1's (k0+k1, k2).
func phaseKernels(w []float32, cout, cin int, wp []float32) {
	for co := 0; co < cout; co++ {
		for ci := 0; ci < cin; ci++ {
			k := (*[9]float32)(w[(co*cin+ci)*9:])
			// rows summed along y: r[py*2+ty][kx]
			var r [4][3]float32
			for x := 0; x < 3; x++ {
				r[0][x] = k[x]
				r[1][x] = k[3+x] + k[6+x]
				r[2][x] = k[x] + k[3+x]
				r[3][x] = k[6+x]
			}
			for py := 0; py < 2; py++ {
				for px := 0; px < 2; px++ {
					d := (*[4]float32)(wp[(((py*2+px)*cout+co)*cin+ci)*4:])
					for ty := 0; ty < 2; ty++ {
						row := &r[py*2+ty]
						if px == 0 {
							d[ty*2], d[ty*2+1] = row[0], row[1]+row[2]
						} else {
							d[ty*2], d[ty*2+1] = row[0]+row[1], row[2]
						}
					}
				}
			}
		}
	}
}

// foldPhaseGrads is the adjoint of phaseKernels: it adds the 2x2 kernels' gradients gp (laid out
// [ph][ci*4+t][co], as the weight-gradient products leave them) into the 3x3 gradient dw.
func foldPhaseGrads(gp []float32, cout, cin int, dw []float32) {
	kc := cin * 4
	for ci := 0; ci < cin; ci++ {
		for co := 0; co < cout; co++ {
			// adjoint of the x sums: rg[py*2+ty][kx]
			var rg [4][3]float32
			for py := 0; py < 2; py++ {
				for px := 0; px < 2; px++ {
					part := gp[(py*2+px)*kc*cout:]
					for ty := 0; ty < 2; ty++ {
						g0 := part[(ci*4+ty*2)*cout+co]
						g1 := part[(ci*4+ty*2+1)*cout+co]
						row := &rg[py*2+ty]
						if px == 0 {
							row[0] += g0
							row[1] += g1
							row[2] += g1
						} else {
							row[0] += g0
							row[1] += g0
							row[2] += g1
						}
					}
				}
			}
			// adjoint of the y sums
			d := (*[9]float32)(dw[(co*cin+ci)*9:])
			for x := 0; x < 3; x++ {
				d[x] += rg[0][x] + rg[2][x]
				d[3+x] += rg[1][x] + rg[2][x]
				d[6+x] += rg[1][x] + rg[3][x]
			}
		}
	}
}

// small is the geometry of the small image as a 3x3 same convolution: chunks split it (an output
// chunk of the upsampled convolution is the 2x2 block of every small-image pixel of the chunk),
// and phase taps are taps of its im2col.
func (g convGeom) small() convGeom {
	return convGeom{n: g.n, cin: g.cin, h: g.h / 2, w: g.w / 2, cout: g.cout, k: 3, pad: 1, oh: g.h / 2, ow: g.w / 2, circ: g.circ}
}

// im2colPhase writes phase (py, px)'s receptive fields of chunk c (small-image rows) of x, a
// [Cin*4][c.cols] matrix: tap t reads offset (py-1+t/2, px-1+t%2), the 3x3 im2col's tap
// (py+t/2, px+t%2).
func (s convGeom) im2colPhase(x []float32, c chunk, py, px int, cols []float32) {
	nc, nr, h, w := c.cols(s.ow), c.r1-c.r0, s.h, s.w
	for b := c.b0; b < c.b1; b++ {
		for ci := 0; ci < s.cin; ci++ {
			plane := x[(b*s.cin+ci)*h*w:][:h*w]
			for t := 0; t < 4; t++ {
				s.tapSame(plane, c, py+t/2, px+t%2, cols[(ci*4+t)*nc+(b-c.b0)*nr*w:][:nr*w])
			}
		}
	}
}

// phasePlanes splits the gradient gy (upsampled size, n*c planes) into its four phases:
// out[(plane*4+py*2+px)][i][j] = gy[plane][2i+py][2j+px], h x w each.
func phasePlanes(p *Pool, gy []float32, planes, h, w int, out []float32) {
	forPlanes(p, planes, len(gy), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := gy[pl*4*h*w:][:4*h*w]
			for py := 0; py < 2; py++ {
				e := out[(pl*4+py*2)*h*w:][:h*w]
				o := out[(pl*4+py*2+1)*h*w:][:h*w]
				for i := 0; i < h; i++ {
					row := src[(2*i+py)*2*w:][:2*w]
					er, or := e[i*w:][:w], o[i*w:][:w]
					for j := range er {
						er[j], or[j] = row[2*j], row[2*j+1]
					}
				}
			}
		}
	})
}

// upForward computes y = act(scale * W (*) upsample(x) + bias), pixel-normalised if pn; g is the geometry of the
// convolution of the upsampled image, wp scratch for the phase kernels (16*Cout*Cin).
func upForward(p *Pool, g convGeom, x, w []float32, scale float32, bias []float32, act, pn bool, y, wp []float32) {
	phaseKernels(w, g.cout, g.cin, wp)
	s := g.small()
	n, at := s.chunks()
	kc := 4 * g.cin
	bw := g.ow
	p.Dynamic(n, g.flops() < minParallelFLOPs, func(wk, i int) {
		c := at(i)
		nc, nr := c.cols(s.ow), c.r1-c.r0
		cols := p.Scratch(wk, 0, kc*nc)
		tmp := [2][]float32{p.Scratch(wk, 1, g.cout*nc), p.Scratch(wk, 2, g.cout*nc)}
		for py := 0; py < 2; py++ {
			for px := 0; px < 2; px++ {
				s.im2colPhase(x, c, py, px, cols)
				sgemm(false, false, g.cout, nc, kc, scale, wp[(py*2+px)*g.cout*kc:], kc, cols, nc, 0, tmp[px], nc)
				if pn {
					normCols(tmp[px], g.cout, nc, bias, act, p.Scratch(wk, 3, nc))
				}
			}
			bias, act := bias, act
			if pn {
				bias, act = nil, false
			}
			// both column phases of output rows 2r+py, interleaved
			for co := 0; co < g.cout; co++ {
				var bv float32
				if bias != nil {
					bv = bias[co]
				}
				for b := c.b0; b < c.b1; b++ {
					plane := y[(b*g.cout+co)*g.oh*bw:][:g.oh*bw]
					off := co*nc + (b-c.b0)*nr*s.w
					for r := 0; r < nr; r++ {
						row := plane[(2*(c.r0+r)+py)*bw:][:bw]
						e := tmp[0][off+r*s.w:][:s.w]
						o := tmp[1][off+r*s.w:][:s.w]
						for j := range e {
							ve, vo := e[j]+bv, o[j]+bv
							if act { // (branch-free leaky ReLU)
								ve, vo = max(ve, ve*Slope), max(vo, vo*Slope)
							}
							row[2*j], row[2*j+1] = ve, vo
						}
					}
				}
			}
		}
	})
}

// upData computes the adjoint in x: gx = scale * upsample^T(W^T (*) gy), as one product per
// chunk over all phases and taps (K = 16*Cout): phase (py, px) tap t of the forward pass read
// offset d = (py-1+t/2, px-1+t%2), so the adjoint reads gy's phase plane at -d. wp and wt are
// scratch of 16*Cout*Cin each, gp of len(gy).
func upData(p *Pool, g convGeom, gy, w []float32, scale float32, gx, wp, wt, gp []float32) {
	// wt[ci][(ph*cout+co)*4+t] = wp[ph][co][ci*4+t]
	phaseKernels(w, g.cout, g.cin, wp)
	kc := 16 * g.cout
	for ph := 0; ph < 4; ph++ {
		for co := 0; co < g.cout; co++ {
			for ci := 0; ci < g.cin; ci++ {
				copy(wt[ci*kc+(ph*g.cout+co)*4:][:4], wp[((ph*g.cout+co)*g.cin+ci)*4:][:4])
			}
		}
	}
	s := g.small()
	plane := s.h * s.w
	phasePlanes(p, gy, g.n*g.cout, s.h, s.w, gp)
	n, at := s.chunks()
	p.Dynamic(n, g.flops() < minParallelFLOPs, func(wk, i int) {
		c := at(i)
		nc, nr := c.cols(s.ow), c.r1-c.r0
		cols := p.Scratch(wk, 0, kc*nc)
		tmp := p.Scratch(wk, 1, g.cin*nc)
		for b := c.b0; b < c.b1; b++ {
			for co := 0; co < g.cout; co++ {
				for ph := 0; ph < 4; ph++ {
					py, px := ph/2, ph%2
					src := gp[((b*g.cout+co)*4+ph)*plane:][:plane]
					for t := 0; t < 4; t++ {
						row := ((ph*g.cout+co)*4 + t) * nc
						s.tapSame(src, c, 2-py-t/2, 2-px-t%2, cols[row+(b-c.b0)*nr*s.w:][:nr*s.w])
					}
				}
			}
		}
		sgemm(false, false, g.cin, nc, kc, scale, wt, kc, cols, nc, 0, tmp, nc)
		for ci := 0; ci < g.cin; ci++ {
			for b := c.b0; b < c.b1; b++ {
				copy(gx[(b*g.cin+ci)*plane+c.r0*s.w:][:nr*s.w], tmp[ci*nc+(b-c.b0)*nr*s.w:][:nr*s.w])
			}
		}
	})
}

// upWeight computes the adjoint in W: per phase, the 2x2 kernel's gradient im2col(x) * gy^T,
// accumulated in each lane's partials (4 * 4*Cin * Cout each) and folded into the 3x3 dw.
// gp is scratch of len(gy).
func upWeight(p *Pool, g convGeom, x, gy []float32, scale float32, dw []float32, partials [][]float32, gp []float32) {
	s := g.small()
	plane := s.h * s.w
	phasePlanes(p, gy, g.n*g.cout, s.h, s.w, gp)
	n, at := s.chunks()
	kc := 4 * g.cin
	for _, part := range partials {
		clear(part)
	}
	run := p.Parallel
	if g.flops() < minParallelFLOPs {
		run = p.Serial
	}
	run(n, Lanes, func(wk, lane, lo, hi int) {
		acc := partials[lane]
		for i := lo; i < hi; i++ {
			c := at(i)
			nc, nr := c.cols(s.ow), c.r1-c.r0
			cols := p.Scratch(wk, 0, kc*nc)
			gt := p.Scratch(wk, 1, g.cout*nc)
			for ph := 0; ph < 4; ph++ {
				s.im2colPhase(x, c, ph/2, ph%2, cols)
				for b := c.b0; b < c.b1; b++ {
					for co := 0; co < g.cout; co++ {
						copy(gt[co*nc+(b-c.b0)*nr*s.w:][:nr*s.w], gp[((b*g.cout+co)*4+ph)*plane+c.r0*s.w:])
					}
				}
				sgemm(false, true, kc, g.cout, nc, scale, cols, nc, gt, nc, 1, acc[ph*kc*g.cout:], g.cout)
			}
		}
	})
	clear(dw)
	for _, part := range partials {
		foldPhaseGrads(part, g.cout, g.cin, dw)
	}
}
