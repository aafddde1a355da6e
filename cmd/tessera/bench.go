package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"tessera/gan/model"
	"tessera/gan/ops"
	"tessera/gan/train"
)

// pytorchZeroPad is the speed bar: images/s of a PyTorch 1.13 CPU implementation (oneDNN) of the
// same architecture, batch 16, 2 threads, zero padding, measured on the project's reference
// machine (../shared/DESIGN.md, section 6). scripts/pytorch_bench.py measures it on any machine.
var pytorchZeroPad = map[int]float64{8: 74, 16: 24, 32: 9.4, 64: 6.0, 128: 3.4}

type benchResult struct {
	Res         int            `json:"res"`
	Batch       int            `json:"batch"`
	Channels    map[string]int `json:"channels"`
	Iters       int            `json:"iters"`
	ImagesPerS  float64        `json:"images_per_s"`
	MsPerIter   float64        `json:"ms_per_iter"`
	MsMin       float64        `json:"ms_per_iter_min"`
	GFLOPPerS   float64        `json:"gflop_per_s"`
	GFLOPIter   float64        `json:"gflop_per_iter"`
	PeakRSSMB   float64        `json:"peak_rss_mb"`
	Workers     int            `json:"workers"`
	BLASCore    string         `json:"blas_core"`
	ConvEngine  string         `json:"conv_engine"`
	PyTorch     float64        `json:"pytorch_images_per_s,omitempty"`
	SpeedupVsPT float64        `json:"speedup_vs_pytorch,omitempty"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[5]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	res := fs.Int("res", 64, "resolution of the benchmarked stage (fading in at alpha 0.5)")
	batch := fs.Int("batch", 16, "minibatch size")
	iters := fs.Int("iters", 8, "timed iterations (after 2 warm-up iterations)")
	loss := fs.String("loss", "wgan-gp", "wgan-gp or wgan-clip")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed iterations to this file")
	opProfile := fs.Bool("op-profile", false, "print the wall time spent in each kind of op")
	conv := fs.String("conv", ops.ConvEngine(), "engine of the convolutions without upsampling: onednn, or im2col (im2col + OpenBLAS, for comparison)")
	channels := fs.String("channels", "", "feature maps per resolution, e.g. 16:64,32:32, or \"reference\" for the widths the PyTorch figures were measured with (default: the default architecture)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("bench: unexpected argument %q", pos[0])
	}
	if *iters < 1 {
		return usagef("bench: --iters must be at least 1, not %d", *iters)
	}
	defer ops.SetConvEngine(ops.ConvEngine()) // run() may be called again (tests)
	if err := ops.SetConvEngine(*conv); err != nil {
		return usageError{err}
	}
	cfg := train.DefaultConfig().WithLoss(train.Loss(*loss))
	cfg.Model.MaxRes, cfg.Batch = *res, *batch
	switch *channels {
	case "":
	case "reference":
		cfg.Model.Channels = model.ReferenceChannels()
	default:
		ch, err := model.ParseChannels(*channels)
		if err != nil {
			return usageError{err}
		}
		maps.Copy(cfg.Model.Channels, ch)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	ds, err := train.LoadData(ctx, train.BuiltinSource, train.DataOptions(cfg, true))
	if err != nil {
		return dataErr(err)
	}
	t, err := train.New(cfg, ds)
	if err != nil {
		return err
	}
	defer t.Close()
	plan := t.Plan()
	stage := len(plan.Res) - 1
	t.SeekImages(plan.StageStart(stage) + plan.FadeLen(stage)/2) // the last stage, fading in, alpha 0.5
	fmt.Fprintf(stderr, "bench: %d px (fade-in at alpha %.2f), batch %d, %s, channels %s, %d workers, OpenBLAS %s, convolutions %s\n",
		*res, t.Phase().Alpha, *batch, cfg.Loss, cfg.Model.FormatChannels(), ops.DefaultPool().Workers(), ops.BLASCore(), ops.ConvEngine())
	var times []float64
	var flops float64
	for i := 0; i < *iters+2; i++ {
		if i == 2 && *opProfile {
			ops.SetProfiling(true)
			defer func() { fmt.Fprintln(stderr, "time per op kind (timed iterations):"); ops.WriteProfile(stderr) }()
		}
		if i == 2 && *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
		t.SeekImages(plan.StageStart(stage) + plan.FadeLen(stage)/2) // stay at the same point
		r, err := t.Step(ctx)
		if err != nil {
			return err
		}
		if i >= 2 {
			times = append(times, r.Duration.Seconds())
			flops = r.FLOPs
			fmt.Fprintf(stderr, "  iteration %d: %.0f ms\n", i-1, 1000*r.Duration.Seconds())
		}
	}
	slices.Sort(times)
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	out := benchResult{
		Res: *res, Batch: *batch, Channels: map[string]int{}, Iters: *iters,
		ImagesPerS: float64(*batch*cfg.NCritic) / med, MsPerIter: 1000 * med, MsMin: 1000 * times[0],
		GFLOPPerS: flops / med / 1e9, GFLOPIter: flops / 1e9, PeakRSSMB: peakRSS() / (1 << 20),
		Workers: ops.DefaultPool().Workers(), BLASCore: ops.BLASCore(), ConvEngine: ops.ConvEngine(),
	}
	for _, r := range cfg.Model.Resolutions() {
		out.Channels[strconv.Itoa(r)] = cfg.Model.Channels[r]
	}
	reference := true // the architecture the PyTorch figures were measured with
	for _, r := range cfg.Model.Resolutions() {
		reference = reference && cfg.Model.Channels[r] == model.ReferenceChannels()[r]
	}
	if pt, ok := pytorchZeroPad[*res]; ok && *batch == 16 && cfg.Loss == train.WGANGP && reference {
		out.PyTorch, out.SpeedupVsPT = pt, out.ImagesPerS/pt
	}
	fmt.Fprintf(stdout, "%d px, batch %d: %.1f images/s, %.0f ms/iteration (median of %d), %.0f GFLOP/s (%.1f GFLOP/iteration), peak RSS %.0f MB\n",
		out.Res, out.Batch, out.ImagesPerS, out.MsPerIter, len(times), out.GFLOPPerS, out.GFLOPIter, out.PeakRSSMB)
	if _, ok := pytorchZeroPad[*res]; ok && !reference {
		fmt.Fprintln(stdout, "(the PyTorch speed bar is for the reference widths: bench --channels reference)")
	}
	if out.PyTorch > 0 {
		fmt.Fprintf(stdout, "PyTorch 1.13 (oneDNN, 2 threads, zero padding) on the reference machine of DESIGN.md section 6 (2 cores, AVX2): %.1f images/s -> %.2fx\n", out.PyTorch, out.SpeedupVsPT)
		fmt.Fprintln(stdout, "(other CPUs differ: scripts/pytorch_bench.py times the same iteration in PyTorch on this machine)")
	}
	if *asJSON {
		b, _ := json.Marshal(out)
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM), or the Go runtime's
// view of it where /proc is unavailable.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f kB", &kb); err == nil {
					return kb * 1024
				}
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.Sys)
}

var _ = time.Second
