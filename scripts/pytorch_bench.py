#!/usr/bin/env python3
"""The speed bar: Tessera's training iteration written in PyTorch, timed on this machine.

The same networks as gan/model (a generator on a 4x4 latent grid with pixel norm, equalized
learning rate, leaky ReLU, nearest upsampling and a fading toRGB; a critic with fromRGB, average
pooling, a fading first block, minibatch stddev and two dense layers), the same iteration as
`tessera bench` (the generator's fakes without gradient, one WGAN-GP critic step on [real; fake]
with the gradient penalty's double backward and the drift term, one generator step, Adam on
both), float32, batch 16, fade-in alpha 0.5. Compare it with `tessera bench` in the same session:

    apt-get install python3-torch          # Debian's PyTorch 1.13 (oneDNN convolutions)
    python3 scripts/pytorch_bench.py --res 64 [--threads 2] [--circular] [--channels reference]

It prints one line per timed iteration and, last, a JSON object with images_per_s (median).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

REFERENCE = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}
DEFAULT = {4: 64, 8: 64, 16: 64, 32: 32, 64: 16, 128: 16, 256: 8}


class Conv(torch.nn.Module):
    """A convolution with equalized learning rate (weights scaled at run time by gain/sqrt(fan_in))."""

    def __init__(self, cin, cout, k, gain=math.sqrt(2), circular=False):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(cout, cin, k, k))
        self.b = torch.nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin * k * k)
        self.pad, self.circular = k // 2, circular

    def forward(self, x):
        if self.circular and self.pad:
            x = F.pad(x, [self.pad] * 4, mode="circular")
            return F.conv2d(x, self.w * self.scale, self.b)
        return F.conv2d(x, self.w * self.scale, self.b, padding=self.pad)


def pixel_norm(x):
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class Generator(torch.nn.Module):
    def __init__(self, ch, res, zdim, circular):
        super().__init__()
        self.res = res
        self.blocks = torch.nn.ModuleDict()
        self.blocks["4"] = torch.nn.ModuleList([Conv(zdim, ch[4], 3, circular=circular), Conv(ch[4], ch[4], 3, circular=circular)])
        r = 8
        while r <= res:
            self.blocks[str(r)] = torch.nn.ModuleList([Conv(ch[r // 2], ch[r], 3, circular=circular), Conv(ch[r], ch[r], 3, circular=circular)])
            r *= 2
        self.rgb = torch.nn.ModuleDict({str(r): Conv(ch[r], 3, 1, gain=1) for r in (res // 2, res)})

    def forward(self, z, alpha):
        h = pixel_norm(lrelu(self.blocks["4"][0](pixel_norm(z))))
        prev, r = None, 4
        while True:
            prev = pixel_norm(lrelu(self.blocks[str(r)][1](h)))
            if r == self.res:
                break
            r *= 2
            h = pixel_norm(lrelu(self.blocks[str(r)][0](F.interpolate(prev, scale_factor=2, mode="nearest"))))
            last = prev
        img = self.rgb[str(self.res)](prev)
        old = F.interpolate(self.rgb[str(self.res // 2)](last), scale_factor=2, mode="nearest")
        return alpha * img + (1 - alpha) * old


def minibatch_stddev(x, group=4):
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(g, -1, c, h, w)  # PGAN's grouping: sample i with i+n/g, ...
    y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8).mean(dim=[1, 2, 3])  # [n/g]
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Critic(torch.nn.Module):
    def __init__(self, ch, res):
        super().__init__()
        self.res = res
        self.rgb = torch.nn.ModuleDict({str(r): Conv(3, ch[r], 1) for r in (res // 2, res)})
        self.blocks = torch.nn.ModuleDict()
        r = res
        while r > 4:
            self.blocks[str(r)] = torch.nn.ModuleList([Conv(ch[r], ch[r], 3), Conv(ch[r], ch[r // 2], 3)])
            r //= 2
        self.conv4 = Conv(ch[4] + 1, ch[4], 3)
        self.dense0 = Conv(ch[4], ch[4], 4)  # a 4x4 "valid" convolution is the dense layer
        self.dense0.pad = 0
        self.dense1 = Conv(ch[4], 1, 1, gain=1)

    def forward(self, x, alpha):
        h = lrelu(self.rgb[str(self.res)](x))
        r = self.res
        while r > 4:
            blk = self.blocks[str(r)]
            h = F.avg_pool2d(lrelu(blk[1](lrelu(blk[0](h)))), 2)
            if r == self.res:
                h = alpha * h + (1 - alpha) * lrelu(self.rgb[str(self.res // 2)](F.avg_pool2d(x, 2)))
            r //= 2
        h = lrelu(self.conv4(minibatch_stddev(h)))
        h = lrelu(self.dense0(h))
        return self.dense1(h).reshape(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--circular", action="store_true", help="circular padding in the generator (as Tessera); zero padding otherwise")
    ap.add_argument("--channels", choices=["reference", "default"], default="reference")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    ch = REFERENCE if a.channels == "reference" else DEFAULT
    zdim, n, alpha = 128, a.batch, 0.5
    G, D = Generator(ch, a.res, zdim, a.circular), Critic(ch, a.res)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-8)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-8)
    real = torch.rand(n, 3, a.res, a.res) * 2 - 1

    def iteration():
        # critic step: fakes without gradient, D on [real; fake], gradient penalty on interpolates
        with torch.no_grad():
            fake = G(torch.randn(n, zdim, 4, 4), alpha)
        scores = D(torch.cat([real, fake]), alpha)
        eps = torch.rand(n, 1, 1, 1)
        xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(D(xhat, alpha).sum(), xhat, create_graph=True)
        gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        loss = scores[n:].mean() - scores[:n].mean() + 10 * gp + 1e-3 * (scores[:n] ** 2).mean()
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        # generator step
        for p in D.parameters():
            p.requires_grad_(False)
        gloss = -D(G(torch.randn(n, zdim, 4, 4), alpha), alpha).mean()
        opt_g.zero_grad(set_to_none=True)
        gloss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)

    for _ in range(a.warmup):
        iteration()
    times = []
    for i in range(a.iters):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
        print(f"  iteration {i + 1}: {times[-1] * 1e3:.0f} ms", flush=True)
    med = statistics.median(times)
    print(json.dumps({"res": a.res, "batch": n, "threads": a.threads, "circular": a.circular, "channels": a.channels,
                      "torch": torch.__version__, "ms_per_iter": round(med * 1e3, 1), "images_per_s": round(n / med, 2)}))


if __name__ == "__main__":
    main()
