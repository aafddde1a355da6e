package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"tessera/app"
	"tessera/gan/data"
	"tessera/gan/model"
	"tessera/gan/train"
)

// trainFlags are the flags shared by train and resume.
type runFlags struct {
	minutes         float64
	checkpointEvery time.Duration
	sampleEvery     int64
	evalEvery       int64
	evalSamples     int
	quiet           bool
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.minutes, "minutes", 0, "stop after this many minutes of training in total (0: when the schedule completes)")
	fs.DurationVar(&f.checkpointEvery, "checkpoint-every", 5*time.Minute, "time between checkpoints")
	fs.Int64Var(&f.sampleEvery, "sample-every", 2000, "images between sample grids")
	fs.Int64Var(&f.evalEvery, "eval-every", 0, "images between MS-SWD evaluations (0: at the end of each stage)")
	fs.IntVar(&f.evalSamples, "eval-samples", 128, "samples per MS-SWD evaluation")
	fs.BoolVar(&f.quiet, "quiet", false, "print only stage changes, checkpoints and errors")
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[0]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	def := train.DefaultConfig()
	var (
		dataDir   = fs.String("data", "", "folder of texture photos (default: the built-in stone wall set)")
		out       = fs.String("out", "", "run directory to create (required)")
		maxRes    = fs.Int("max-res", def.Model.MaxRes, "final resolution: 64, 128 or 256")
		kimg      = fs.Float64("kimg-per-stage", float64(def.Schedule.Stabilize)/1000, "thousands of real images per stage phase (each stage fades in, then stabilises, for this many)")
		finalKimg = fs.Float64("final-kimg", float64(def.Schedule.Final)/1000, "thousands of images to keep training at the final resolution after its stage (0: until stopped)")
		batch     = fs.Int("batch", def.Batch, "minibatch size (a multiple of 4)")
		loss      = fs.String("loss", string(def.Loss), "wgan-gp or wgan-clip")
		mode      = fs.String("mode", string(def.Mode), "progressive, or fixed (the non-progressive DCGAN-style baseline)")
		seed      = fs.Uint64("seed", def.Seed, "random seed: fixes data order, noise and initialisation")
		channels  = fs.String("channels", "", "feature maps per resolution, e.g. 4:128,8:128,16:128,32:64,64:32 (default: as shown by bench)")
		latent    = fs.String("latent", fmt.Sprintf("%d:%d", def.Model.StyleDim, def.Model.NoiseDim), "channels of the latent grid, style:noise (a global style vector and independent noise per cell)")
		scale     = fs.Int("scale", def.Crop.Source, "crop side in pixels of the photo (after capping its long side at 1024): larger sees more of it")
		rotate    = fs.Bool("rotate", false, "allow random 90-degree rotations (not for bricks)")
		noFlip    = fs.Bool("no-flip", false, "no random flips")
		upscale   = fs.Bool("upscale-small", false, "upscale photos smaller than the final resolution instead of skipping them")
		force     = fs.Bool("force", false, "overwrite an existing run directory")
		stageScl  = fs.String("stage-scale", formatScale(def.Schedule.Scale), "stage length multipliers per resolution, e.g. 8:2,16:3 (cheap early stages trained longer); \"none\" for equal stages")
		emaHalf   = fs.Float64("ema-half-life", halfLifeKimg(def.EMABeta, def.Batch), "half-life in thousands of images of the generator's moving average (samples and exports use it)")
	)
	var rf runFlags
	rf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("train: unexpected argument %q", pos[0])
	}
	if *out == "" {
		return usagef("train: --out RUNDIR is required")
	}
	cfg := def.WithLoss(train.Loss(*loss))
	cfg.Mode, cfg.Batch, cfg.Seed = train.Mode(*mode), *batch, *seed
	cfg.Model.MaxRes = *maxRes
	if *channels != "" {
		ch, err := model.ParseChannels(*channels)
		if err != nil {
			return usageError{err}
		}
		for r, c := range ch {
			cfg.Model.Channels[r] = c
		}
	}
	if cfg.Model.StyleDim, cfg.Model.NoiseDim, err = parseLatent(*latent); err != nil {
		return usagef("train: %v", err)
	}
	if *finalKimg < 0 {
		return usagef("train: --final-kimg must not be negative")
	}
	cfg.Schedule.Stabilize = int64(*kimg * 1000)
	cfg.Schedule.Fade = cfg.Schedule.Stabilize
	cfg.Schedule.Final = int64(*finalKimg * 1000)
	if cfg.Schedule.Scale, err = parseScale(*stageScl); err != nil {
		return usageError{err}
	}
	if !(*emaHalf > 0) {
		return usagef("train: --ema-half-life must be positive")
	}
	cfg.EMABeta = train.EMABeta(*emaHalf*1000, cfg.Batch)
	cfg.Crop.Source, cfg.Crop.Rotate90 = *scale, *rotate
	cfg.Crop.FlipH, cfg.Crop.FlipV = !*noFlip, !*noFlip
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if _, err := os.Stat(filepath.Join(*out, train.CheckpointFile)); err == nil {
		if !*force {
			return usagef("train: %s already holds a run; use 'tessera resume %s' or --force", *out, *out)
		}
		if err := app.ClearRun(*out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "removed the old run in %s\n", *out)
	}
	src := train.SourceOf(*dataDir)
	fmt.Fprintf(stderr, "loading %s\n", src)
	ds, err := train.LoadData(ctx, src, train.DataOptions(cfg, *upscale))
	if err != nil {
		return dataErr(err)
	}
	reportData(stderr, ds)
	t, err := train.New(cfg, ds)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "training %s, %s, %d px, channels %s, latent %d:%d, batch %d, seed %d -> %s\n",
		cfg.Mode, cfg.Loss, cfg.Model.MaxRes, cfg.Model.FormatChannels(), cfg.Model.StyleDim, cfg.Model.NoiseDim, cfg.Batch, cfg.Seed, *out)
	return runLoop(ctx, t, *out, 0, rf, stdout, stderr)
}

func reportData(w io.Writer, ds *data.Dataset) {
	s := ds.Summary()
	fmt.Fprintf(w, "data: %d image(s) used, %.1f megapixels", len(s.Used), float64(s.TotalPixels)/1e6)
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, ", %d skipped:", len(s.Skipped))
		for _, k := range s.Skipped {
			fmt.Fprintf(w, "\n  skipped %s: %s", k.Path, k.Reason)
		}
	}
	fmt.Fprintln(w)
}

func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[1]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	dataDir := fs.String("data", "", "use this folder instead of the one the run was trained on")
	anyData := fs.Bool("any-data", false, "continue even if the data differs from the run's (fingerprint mismatch)")
	upscale := fs.Bool("upscale-small", false, "upscale photos smaller than the final resolution instead of skipping them")
	extend := fs.Float64("extend-kimg", 0, "train this many thousand images more at the final resolution (for a run whose schedule is complete, or to go on longer)")
	var rf runFlags
	rf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("resume: want exactly one RUNDIR")
	}
	if *extend < 0 {
		return usagef("resume: --extend-kimg must not be negative")
	}
	dir := pos[0]
	ck, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		return checkpointErr(err)
	}
	if *extend > 0 {
		if ck.Config.Schedule.Final == 0 {
			return usagef("resume: this run's last stage has no end; --extend-kimg is not needed")
		}
		ck.Config.Schedule.Final += int64(*extend * 1000)
	}
	src := ck.Data.Source
	if *dataDir != "" {
		src = train.SourceOf(*dataDir)
	}
	fmt.Fprintf(stderr, "loading %s\n", src)
	ds, err := train.LoadData(ctx, src, train.DataOptions(ck.Config, *upscale))
	if err != nil {
		return dataErr(err)
	}
	reportData(stderr, ds)
	if fp := ds.Summary().Fingerprint; fp != ck.Data.Fingerprint && ck.Data.Fingerprint != "" {
		if !*anyData {
			return dataErr(fmt.Errorf("the data in %s differs from what this run was trained on (fingerprint %.12s, run has %.12s); pass --any-data to continue on it anyway", src, fp, ck.Data.Fingerprint))
		}
		fmt.Fprintln(stderr, "warning: continuing on different data (--any-data)")
	}
	t, err := train.Resume(ck, ds)
	if err != nil {
		return checkpointErr(err)
	}
	fmt.Fprintf(stderr, "resuming %s at %s, %s images seen, %s trained\n", dir, t.Phase(), kimgString(t.Images), ck.Elapsed.Round(time.Second))
	return runLoop(ctx, t, dir, ck.Elapsed, rf, stdout, stderr)
}

func runLoop(ctx context.Context, t *train.Trainer, dir string, elapsed time.Duration, rf runFlags, stdout, stderr io.Writer) error {
	p := newProgress(stderr, rf.quiet)
	opt := train.RunOptions{
		Dir: dir, CheckpointEvery: rf.checkpointEvery, SampleEvery: rf.sampleEvery, EvalEvery: rf.evalEvery,
		Evaluate: train.SWDEvaluator(rf.evalSamples), OnEvent: p.event,
	}
	if rf.minutes > 0 {
		opt.MaxDuration = time.Duration(rf.minutes * float64(time.Minute))
	}
	r, err := train.NewRunner(t, opt, elapsed)
	if err != nil {
		return err
	}
	defer r.Close()
	err = r.Run(ctx)
	p.finish()
	t = r.T // a rollback after a divergence replaces the trainer
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	st := t.Phase()
	fmt.Fprintf(stdout, "%s: %s images seen, at %s; checkpoint %s, samples in %s\n", dir, kimgString(t.Images), st,
		filepath.Join(dir, train.CheckpointFile), filepath.Join(dir, train.SamplesDir))
	return err
}

func kimgString(n int64) string {
	if n < 10000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%.1fk", float64(n)/1000)
}

// parseScale parses stage length multipliers "8:2,16:3" ("none" or "" for none).
func parseScale(s string) (map[int]float64, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	m := map[int]float64{}
	for _, part := range strings.Split(s, ",") {
		var r int
		var f float64
		if _, err := fmt.Sscanf(part, "%d:%g", &r, &f); err != nil || r < 4 || !(f > 0) {
			return nil, fmt.Errorf("stage scale %q: want res:factor pairs like 8:2,16:3", part)
		}
		m[r] = f
	}
	return m, nil
}

// formatScale renders stage multipliers as parseScale reads them, by resolution.
func formatScale(m map[int]float64) string {
	if len(m) == 0 {
		return "none"
	}
	rs := make([]int, 0, len(m))
	for r := range m {
		rs = append(rs, r)
	}
	sort.Ints(rs)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d:%g", r, m[r])
	}
	return strings.Join(parts, ",")
}

// halfLifeKimg is the half-life in thousands of images of a per-step moving average factor.
func halfLifeKimg(beta float64, batch int) float64 {
	return math.Round(float64(batch)*math.Log(0.5)/math.Log(beta)) / 1000
}

// parseLatent parses --latent, "style:noise" channel counts of the latent grid.
func parseLatent(s string) (style, noise int, err error) {
	a, b, ok := strings.Cut(s, ":")
	style, err1 := strconv.Atoi(a)
	noise, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || style < 1 || noise < 0 {
		return 0, 0, fmt.Errorf("--latent %q: want style:noise channels, e.g. 32:96 (style at least 1)", s)
	}
	return style, noise, nil
}
