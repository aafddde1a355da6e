package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"tessera/app"
)

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands[3]
	fs := newFlags(c.name, c.args, c.summary, stderr)
	size := fs.Int("size", 512, "side in pixels (rounded to a multiple of the generator's latent cell, e.g. 16 px for a 64 px model)")
	seed := fs.Uint64("seed", 1, "seed of the texture (its style and noise)")
	n := fs.Int("n", 1, "number of textures: the seed's texture and n-1 variants around it")
	spread := fs.Float64("spread", 0.3, "how far variants stray from the seed's style")
	normal := fs.Bool("normal", false, "also write a tangent-space normal map (OpenGL convention)")
	strength := fs.Float64("strength", 4, "normal map strength")
	height := fs.Bool("height", false, "also write a 16-bit height map")
	preview := fs.Bool("preview", false, "also write a 3x3 tiled preview")
	bits := fs.Int("bits", 8, "bits per channel: 8 or 16")
	anim := fs.String("anim", "", "also write a looping latent walk: gif or apng")
	pattern := fs.String("name", app.DefaultPattern, "file name pattern: {run} {images} {seed} {size} {n}")
	out := fs.String("out", "", "output folder, or a .png file name for a single texture (required)")
	from := fs.String("from", "", "regenerate the texture exported as this PNG (reads its metadata)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("export: --out is required")
	}
	if *bits != 8 && *bits != 16 {
		return usagef("export: --bits must be 8 or 16")
	}
	if *anim != "" && *anim != "gif" && *anim != "apng" {
		return usagef("export: --anim must be gif or apng")
	}
	var m *app.Model
	var pt app.Point
	var ex *app.Explorer
	switch {
	case *from != "":
		if len(pos) > 0 {
			return usagef("export: give either RUNDIR or --from, not both")
		}
		var psize int
		m, pt, psize, err = app.FromPNG(*from)
		if err != nil {
			return checkpointErr(err)
		}
		set := map[string]bool{} // flags given on the command line override the PNG's
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["size"] {
			*size = psize
		}
		if !set["bits"] { // keep the depth of the texture being regenerated
			if *bits, err = app.PNGBits(*from); err != nil {
				return err
			}
		}
	case len(pos) == 1:
		ck, err := openRun(pos[0])
		if err != nil {
			return err
		}
		if m, err = app.ModelFromCheckpoint(ck, pos[0]); err != nil {
			return checkpointErr(err)
		}
	default:
		return usagef("export: want RUNDIR or --from FILE.png")
	}
	if *anim != "" {
		if ex, err = app.NewExplorer(m); err != nil {
			return err
		}
	} else {
		ex = app.NewRenderer(m)
	}
	if *from == "" {
		pt = ex.Random(*seed)
	}
	spec := app.ExportSpec{
		Size: *size, Bits16: *bits == 16, Normal: *normal, Height: *height, Strength: *strength,
		Variants: *n, Spread: *spread, Dir: *out, Pattern: *pattern, Preview: *preview, Animation: *anim, Frames: 24,
	}
	if strings.HasSuffix(strings.ToLower(*out), ".png") {
		if *n != 1 {
			return usagef("export: --out names one file but --n is %d; give a folder", *n)
		}
		// a named file is what the user asked for: it replaces one that is there
		spec.Dir, spec.Pattern = filepath.Dir(*out), strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
		spec.Overwrite = true
	}
	p := newProgress(stderr, false)
	start := time.Now()
	res, err := app.Export(ctx, ex, pt, spec, func(what string, f float64) {
		if p.tty {
			p.clear()
			fmt.Fprintf(stderr, "[%3.0f%%] %s", 100*f, what)
			p.drawn = true
		}
	})
	p.finish()
	if err != nil {
		return err
	}
	for _, f := range res.Files {
		fmt.Fprintln(stdout, f)
	}
	for i, s := range res.Seams {
		fmt.Fprintf(stderr, "texture %d: seam score %.3f (1.0: the seam is as smooth as the inside)\n", i+1, s)
	}
	fmt.Fprintf(stderr, "exported %d file(s) in %.1f s from %s (%d px model, %s images); regenerate with: tessera export --from %s --out DIR\n",
		len(res.Files), time.Since(start).Seconds(), res.Model, m.Res, kimgString(m.Images), res.Files[0])
	return nil
}
