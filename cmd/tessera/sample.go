package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math/rand/v2"
	"path/filepath"

	"tessera/gan/data"
	"tessera/gan/metric"
	"tessera/gan/model"
	"tessera/gan/synth"
	"tessera/gan/train"
)

// openRun reads a run directory's checkpoint.
func openRun(dir string) (*train.Checkpoint, error) {
	ck, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		return nil, checkpointErr(err)
	}
	return ck, nil
}

// generatorOf returns the averaged generator of a checkpoint at its phase.
func generatorOf(ck *train.Checkpoint) (*synth.Generator, train.Phase, error) {
	t, err := train.Resume(ck, nil)
	if err != nil {
		return nil, train.Phase{}, checkpointErr(err)
	}
	ph := t.Phase()
	return synth.New(ck.Config.Model, t.GEMA, ph.Res, ph.Alpha), ph, nil
}

func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[2]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	n := fs.Int("n", 16, "number of samples")
	out := fs.String("out", "", "PNG file to write (required)")
	seed := fs.Uint64("seed", 1, "random seed of the latents")
	cols := fs.Int("cols", 0, "grid columns (default: a square-ish grid)")
	cells := fs.Int("grid", model.BaseRes, "latent grid cells per side (4 gives the training size; 8 doubles it)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("sample: want RUNDIR and --out FILE")
	}
	if *n < 1 || *n > 1024 || *cells < 1 || *cells > 256 {
		return usagef("sample: --n must be 1..1024 and --grid 1..256")
	}
	ck, err := openRun(pos[0])
	if err != nil {
		return err
	}
	gen, ph, err := generatorOf(ck)
	if err != nil {
		return err
	}
	if *cols <= 0 {
		for *cols = 1; *cols**cols < *n; *cols++ {
		}
	}
	var imgs []float32
	side := 0
	for i := 0; i < *n; i += 16 {
		k := min(16, *n-i)
		lt := model.RandomLatent(ck.Config.Model, k, *cells, rand.New(rand.NewPCG(*seed, uint64(i))))
		b, s, err := gen.Generate(lt)
		if err != nil {
			return err
		}
		imgs, side = append(imgs, b...), s
	}
	grid, err := synth.Grid(imgs, *n, side, *cols, 2)
	if err != nil {
		return err
	}
	if err := train.WriteFileAtomic(*out, func(w io.Writer) error { return png.Encode(w, grid) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d samples of %d px from %s (%s, %s images)\n", *out, *n, side, pos[0], ph, kimgString(ck.Images))
	return nil
}

type evalResult struct {
	Run       string    `json:"run"`
	Images    int64     `json:"images"`
	Res       int       `json:"res"`
	Alpha     float64   `json:"alpha"`
	Samples   int       `json:"samples"`
	LevelsRes []int     `json:"levels_res"`
	Model     []float64 `json:"ms_swd"`              // per level, then the average
	Floor     []float64 `json:"real_vs_real"`        // per level, then the average
	Untrained []float64 `json:"untrained,omitempty"` // per level, then the average
	Raw       []float64 `json:"raw,omitempty"`       // the raw generator: per level, then the average
}

func swdRow(r metric.Result) []float64 {
	out := make([]float64, 0, len(r.Levels)+1)
	for _, l := range r.Levels {
		out = append(out, l.SWD)
	}
	return append(out, r.Avg)
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[4]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	dataDir := fs.String("data", "", "real images to compare with (default: the run's own data)")
	n := fs.Int("n", 256, "samples and real crops per set")
	untrained := fs.Bool("untrained", false, "also score a freshly initialised generator (the run's seed) as a reference")
	raw := fs.Bool("raw", false, "also score the raw generator (the one being trained, not its moving average)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	upscale := fs.Bool("upscale-small", false, "upscale photos smaller than the final resolution instead of skipping them")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *n < 8 {
		return usagef("eval: want RUNDIR (and --n of at least 8)")
	}
	ck, err := openRun(pos[0])
	if err != nil {
		return err
	}
	src := ck.Data.Source
	if *dataDir != "" {
		src = train.SourceOf(*dataDir)
	}
	ds, err := train.LoadData(ctx, src, train.DataOptions(ck.Config, *upscale))
	if err != nil {
		return dataErr(err)
	}
	gen, ph, err := generatorOf(ck)
	if err != nil {
		return err
	}
	score := func(g *synth.Generator) (metric.Result, error) {
		fake, err := train.Samples(ctx, g, *n, 0xe7a1)
		if err != nil {
			return metric.Result{}, err
		}
		real, err := train.RealCrops(ds, ck.Config, fake.H, *n, 0x5ea1)
		if err != nil {
			return metric.Result{}, err
		}
		return metric.MSSWD(real, fake, 0x5ed)
	}
	res := evalResult{Run: pos[0], Images: ck.Images, Res: ph.Res, Alpha: ph.Alpha, Samples: *n}
	m, err := score(gen)
	if err != nil {
		return err
	}
	res.Model = swdRow(m)
	for _, l := range m.Levels {
		res.LevelsRes = append(res.LevelsRes, l.Res)
	}
	// the floor: two disjoint sets of real crops
	side := model.BaseRes * gen.Scale()
	a, err := train.RealCrops(ds, ck.Config, side, *n, 0x5ea1)
	if err != nil {
		return err
	}
	b, err := train.RealCrops(ds, ck.Config, side, *n, 0xf100f)
	if err != nil {
		return err
	}
	floor, err := metric.MSSWD(a, b, 0x5ed)
	if err != nil {
		return err
	}
	res.Floor = swdRow(floor)
	if *raw {
		t, err := train.Resume(ck, nil)
		if err != nil {
			return checkpointErr(err)
		}
		defer t.Close()
		r, err := score(synth.New(ck.Config.Model, t.G, ph.Res, ph.Alpha))
		if err != nil {
			return err
		}
		res.Raw = swdRow(r)
	}
	if *untrained {
		cfg := ck.Config
		p := model.NewGenerator(cfg.Model, rand.New(rand.NewPCG(data.Mix(cfg.Seed, 1), 0)))
		u, err := score(synth.New(cfg.Model, p, ph.Res, ph.Alpha))
		if err != nil {
			return err
		}
		res.Untrained = swdRow(u)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, "%s at %s, %s images; MS-SWD x1e3 (%d samples vs %d real crops, lower is better)\n", pos[0], ph, kimgString(ck.Images), *n, *n)
	fmt.Fprintf(stdout, "%-14s", "")
	for _, r := range res.LevelsRes {
		fmt.Fprintf(stdout, "%8s", fmt.Sprintf("%dpx", r))
	}
	fmt.Fprintf(stdout, "%8s\n", "avg")
	row := func(name string, v []float64) {
		if v == nil {
			return
		}
		fmt.Fprintf(stdout, "%-14s", name)
		for _, x := range v {
			fmt.Fprintf(stdout, "%8.2f", x)
		}
		fmt.Fprintln(stdout)
	}
	row("model", res.Model)
	row("raw generator", res.Raw)
	row("real vs real", res.Floor)
	row("untrained", res.Untrained)
	return nil
}

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[6]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	minSide := fs.Int("min-side", 64, "smallest usable short side (the training resolution)")
	upscale := fs.Bool("upscale-small", false, "upscale photos smaller than --min-side instead of skipping them")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("data: want exactly one DIR (or %s)", train.BuiltinSource)
	}
	opt := data.DefaultOptions()
	opt.MinSide, opt.Upscale = *minSide, *upscale
	ds, err := train.LoadData(ctx, train.SourceOf(pos[0]), opt)
	if err != nil {
		if *asJSON {
			if ni, ok := err.(*data.NoImagesError); ok {
				b, _ := json.MarshalIndent(ni.Summary, "", "  ")
				fmt.Fprintln(stdout, string(b))
			}
		}
		return dataErr(err)
	}
	s := ds.Summary()
	if *asJSON {
		b, _ := json.MarshalIndent(s, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	return s.WriteText(stdout)
}
