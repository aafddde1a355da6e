package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	xdraw "golang.org/x/image/draw"

	"tessera/gan/metric"
	"tessera/gan/model"
	"tessera/gan/synth"
	"tessera/gan/texture"
	"tessera/gan/train"
)

// ExportSpec says what to export.
type ExportSpec struct {
	Size      int     // side in pixels; rounded to a multiple of the generator's cell size
	Bits16    bool    // 16-bit PNG
	Normal    bool    // also a tangent-space normal map
	Height    bool    // also a 16-bit height map
	Strength  float64 // normal map strength
	Variants  int     // 1: the point itself; more: also variants around it
	Spread    float64 // how far variants stray (standard deviations of the style)
	Dir       string  // output folder
	Pattern   string  // file name pattern: {run} {images} {seed} {size} {n}
	Preview   bool    // also a 3x3 tiled preview image
	Animation string  // "", "gif" or "apng": a looping walk from the point and back
	Frames    int     // frames of the animation
	Overwrite bool    // replace files of the same name (otherwise a free name is chosen)
}

// DefaultPattern is the default file name pattern.
const DefaultPattern = "{run}-{seed}-{size}px-{n}"

// ExportResult lists what was written.
type ExportResult struct {
	Files   []string
	Seams   []float64    // seam score of each texture
	Texture *image.NRGBA // the first texture (for previews)
	Model   string       // the model file the textures can be regenerated from
}

// Tile is the largest latent grid generated in one piece: beyond it the generator works in
// tiles, so memory stays bounded at any export size.
const Tile = 64

// PNG metadata keys.
const (
	MetaSoftware = "Software"
	MetaModel    = "tessera.model"  // path of the model file (averaged generator) used
	MetaRun      = "tessera.run"    // the run directory
	MetaImages   = "tessera.images" // training images seen by the model
	MetaSize     = "tessera.size"   // side in pixels
	MetaPoint    = "tessera.point"  // the latent point, JSON
	MetaSeed     = "tessera.seed"
	MetaKind     = "tessera.kind" // texture, normal, height
)

// ModelFile writes (once) the model's weights into the run directory so that exports can be
// regenerated exactly later, even after training has moved on, and returns its absolute path.
// The name holds a hash of the weights and phase: after a rollback or a new run in the same
// directory, the same image count names a different file.
func ModelFile(m *Model) (string, error) {
	if m.RunDir == "" {
		return "", fmt.Errorf("the model has no run directory")
	}
	runDir, err := filepath.Abs(m.RunDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(runDir, ModelsDir)
	path := filepath.Join(dir, fmt.Sprintf("ema-%09d-%016x.tsr", m.Images, modelHash(m)))
	_, errJSON := os.Stat(path + ".json")
	if _, err := os.Stat(path); err == nil && errJSON == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cfg := train.DefaultConfig()
	cfg.Model = m.Config
	cfg.Seed = m.Seed
	// a checkpoint holding only the averaged generator, positioned at the model's phase
	c := &train.Checkpoint{Software: train.Software, Config: cfg, Images: m.Images}
	for _, n := range m.Params.Names() {
		c.EMA = append(c.EMA, train.Tensor{Name: n, Shape: m.Params.Shape(n), Data: m.Params.Data(n)})
	}
	c.Config.Schedule = train.Schedule{Stabilize: 1, Fade: 1, Final: 0}
	// the phase first: a model file is only reused when both exist
	if err := writeModelPhase(path, m, runDir); err != nil {
		return "", err
	}
	if err := train.WriteCheckpoint(path, c); err != nil {
		return "", err
	}
	return path, nil
}

// modelHash is an FNV-1a hash of the model's phase and weights.
func modelHash(m *Model) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(m.Res))
	h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(m.Alpha))
	h.Write(b[:])
	for _, n := range m.Params.Names() {
		h.Write([]byte(n))
		for _, v := range m.Params.Data(n) {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	return h.Sum64()
}

// The model file's phase (resolution, fade) travels in a small JSON file beside it: the
// checkpoint's schedule there is only a placeholder.
func writeModelPhase(path string, m *Model, runDir string) error {
	b, _ := json.Marshal(map[string]any{"res": m.Res, "alpha": m.Alpha, "run": runDir})
	return train.WriteFileAtomic(path+".json", func(w io.Writer) error { _, err := w.Write(b); return err })
}

// LoadModelFile reads a model written by ModelFile.
func LoadModelFile(path string) (*Model, error) {
	c, err := train.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path + ".json")
	if err != nil {
		return nil, fmt.Errorf("model phase: %w", err)
	}
	var ph struct {
		Res   int     `json:"res"`
		Alpha float64 `json:"alpha"`
		Run   string  `json:"run"`
	}
	if err := json.Unmarshal(b, &ph); err != nil {
		return nil, fmt.Errorf("model phase %s: %w", path+".json", err)
	}
	return modelFromTensors(c.Config, c.EMA, ph.Res, ph.Alpha, c.Images, ph.Run)
}

// ModelFromCheckpoint returns the averaged generator of a run's checkpoint at its phase.
func ModelFromCheckpoint(c *train.Checkpoint, runDir string) (*Model, error) {
	t, err := train.Resume(c, nil)
	if err != nil {
		return nil, err
	}
	return modelOf(t, runDir), nil
}

func modelFromTensors(cfg train.Config, ts []train.Tensor, res int, alpha float64, images int64, run string) (*Model, error) {
	p := &model.Params{}
	for _, t := range ts {
		if err := p.Set(t.Name, t.Shape, t.Data); err != nil {
			return nil, err
		}
	}
	ref := model.NewGenerator(cfg.Model, rngOf(0, 0))
	if err := ref.SameLayout(p); err != nil {
		return nil, fmt.Errorf("model file does not match its configuration: %w", err)
	}
	return &Model{Config: cfg.Model, Res: res, Alpha: alpha, Params: p, Images: images, RunDir: run, Seed: cfg.Seed}, nil
}

// fileName expands the pattern.
func fileName(pattern string, m *Model, seed uint64, size, n int) string {
	if pattern == "" {
		pattern = DefaultPattern
	}
	r := strings.NewReplacer("{run}", filepath.Base(m.RunDir), "{images}", strconv.FormatInt(m.Images, 10),
		"{seed}", strconv.FormatUint(seed, 10), "{size}", strconv.Itoa(size), "{n}", strconv.Itoa(n))
	name := r.Replace(pattern)
	name = strings.Map(func(c rune) rune {
		if c == '/' || c == '\\' || c == ':' || c < 32 {
			return '_'
		}
		return c
	}, name)
	return name
}

// maxPreviewTile is the largest tile of a tiled preview: larger textures are shown scaled
// down (a 3x3 preview of an 8192 px texture would be 600 megapixels).
const maxPreviewTile = 2048

func previewTile(img *image.NRGBA) image.Image {
	b := img.Bounds()
	if b.Dx() <= maxPreviewTile && b.Dy() <= maxPreviewTile {
		return img
	}
	small := image.NewNRGBA(image.Rect(0, 0, maxPreviewTile, maxPreviewTile*b.Dy()/b.Dx()))
	xdraw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, xdraw.Src, nil)
	return small
}

// exportSuffixes are the endings of the files one texture may write.
var exportSuffixes = []string{".png", "-height.png", "-normal.png", "-tiled3x3.png", "-walk.gif", "-walk.png"}

// freeName returns name, or name-2, name-3, ... : the first under which none of a texture's
// files exists in dir yet, so that an export never replaces an earlier one.
func freeName(dir, name string) string {
	for k := 1; ; k++ {
		cand := name
		if k > 1 {
			cand = fmt.Sprintf("%s-%d", name, k)
		}
		taken := false
		for _, suf := range exportSuffixes {
			if _, err := os.Lstat(filepath.Join(dir, cand+suf)); err == nil {
				taken = true
				break
			}
		}
		if !taken {
			return cand
		}
	}
}

// Export generates textures from p and writes them (PNG with metadata, maps, previews,
// animation) into spec.Dir. progress receives a description and a fraction.
func Export(ctx context.Context, ex *Explorer, p Point, spec ExportSpec, progress func(string, float64)) (ExportResult, error) {
	if progress == nil {
		progress = func(string, float64) {}
	}
	var res ExportResult
	m := ex.Model()
	cell := ex.Scale()
	if spec.Size < cell {
		return res, fmt.Errorf("size %d px is below one latent cell (%d px)", spec.Size, cell)
	}
	if spec.Size > 8192 {
		return res, fmt.Errorf("size %d px: at most 8192", spec.Size)
	}
	l := (spec.Size + cell/2) / cell
	size := l * cell
	if spec.Variants < 1 {
		spec.Variants = 1
	}
	if spec.Dir == "" {
		return res, fmt.Errorf("no output folder")
	}
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return res, fmt.Errorf("output folder: %w", err)
	}
	modelPath, err := ModelFile(m)
	if err != nil {
		return res, fmt.Errorf("saving the model for regeneration: %w", err)
	}
	res.Model = modelPath
	gen := ex.gen
	points := []Point{p}
	rng := rngOf(p.Seed+uint64(len(p.Style)), 99)
	for v := 1; v < spec.Variants; v++ {
		q := p
		q.Style = append([]float32(nil), p.Style...)
		for i := range q.Style {
			q.Style[i] += float32(spec.Spread * rng.NormFloat64())
		}
		q.NoiseA, q.NoiseB, q.NoiseT, q.Seed = rng.Uint64(), 0, 0, 0
		q.NoiseB = q.NoiseA
		points = append(points, q)
	}
	steps := float64(len(points))
	for i, q := range points {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		base := float64(i) / steps
		ex.mu.Lock()
		imgs, side, err := gen.GenerateTiled(ctx, ex.Latent(q, l), Tile, func(f float64) {
			progress(fmt.Sprintf("generating %d of %d (%d px)", i+1, len(points), size), base+f/steps*0.8)
		})
		ex.mu.Unlock()
		if err != nil {
			return res, err
		}
		tex8 := synth.Image(imgs, 0, side)
		seamDone := make(chan float64, 1) // scored while the PNG encodes, on the other core
		go func() { seamDone <- metric.SeamScore(tex8) }()
		if i == 0 {
			res.Texture = tex8
		}
		seed := q.Seed
		pattern := spec.Pattern
		if pattern == "" {
			pattern = DefaultPattern
		}
		if len(points) > 1 && !strings.Contains(pattern, "{n}") {
			pattern += "-{n}" // variants must not share a name
		}
		name := fileName(pattern, m, seed, size, i+1)
		if !spec.Overwrite {
			name = freeName(spec.Dir, name)
		}
		pt, _ := json.Marshal(q)
		meta := texture.Meta{
			{Key: MetaSoftware, Value: train.Software},
			{Key: MetaModel, Value: modelPath},
			{Key: MetaRun, Value: filepath.Dir(filepath.Dir(modelPath))}, // absolute
			{Key: MetaImages, Value: strconv.FormatInt(m.Images, 10)},
			{Key: MetaSize, Value: strconv.Itoa(size)},
			{Key: MetaSeed, Value: strconv.FormatUint(seed, 10)},
			{Key: MetaPoint, Value: string(pt)},
		}
		write := func(suffix, kind string, img image.Image) error {
			path := filepath.Join(spec.Dir, name+suffix+".png")
			mm := append(append(texture.Meta(nil), meta...), texture.KV{Key: MetaKind, Value: kind})
			var buf bytes.Buffer
			if err := texture.EncodePNG(&buf, img, mm); err != nil {
				return err
			}
			if err := train.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
				return err
			}
			res.Files = append(res.Files, path)
			return nil
		}
		var tex image.Image = tex8
		if spec.Bits16 {
			tex = synth.Image16(imgs, 0, side)
		}
		err = write("", "texture", tex)
		res.Seams = append(res.Seams, <-seamDone)
		if err != nil {
			return res, err
		}
		if spec.Normal || spec.Height {
			h := texture.Height(tex, 1) // from the 16-bit texture when there is one: no banding
			if spec.Height {
				if err := write("-height", "height", h.Gray16()); err != nil {
					return res, err
				}
			}
			if spec.Normal {
				s := spec.Strength
				if s <= 0 {
					s = 4
				}
				if err := write("-normal", "normal", texture.Normal(h, s, false)); err != nil {
					return res, err
				}
			}
		}
		if spec.Preview {
			if err := write("-tiled3x3", "preview", texture.Tile(previewTile(tex8), 3, 3)); err != nil {
				return res, err
			}
		}
	}
	if spec.Animation != "" {
		progress("animation", 0.85)
		if err := exportAnimation(ctx, ex, p, spec, l, &res); err != nil {
			return res, err
		}
	}
	progress("done", 1)
	return res, nil
}

// exportAnimation writes a looping walk: a circle in the plane of the first two directions of
// variation around p, so the last frame leads back to the first.
func exportAnimation(ctx context.Context, ex *Explorer, p Point, spec ExportSpec, l int, res *ExportResult) error {
	n := spec.Frames
	if n < 2 {
		n = 24
	}
	al := min(l, 16) // animations stay small
	var frames []image.Image
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := 2 * math.Pi * float64(i) / float64(n)
		img, err := ex.Render(ex.Move(p, []float64{1.5 * math.Cos(a), 1.5 * math.Sin(a)}), al)
		if err != nil {
			return err
		}
		frames = append(frames, img)
	}
	name := fileName(spec.Pattern, ex.Model(), p.Seed, al*ex.Scale(), 0)
	if !spec.Overwrite {
		name = freeName(spec.Dir, name)
	}
	name += "-walk"
	var buf bytes.Buffer
	var err error
	switch spec.Animation {
	case "gif":
		name += ".gif"
		err = texture.WriteGIF(&buf, frames, 8)
	case "apng":
		name += ".png"
		err = texture.WriteAPNG(&buf, frames, 8, 100)
	default:
		return fmt.Errorf("unknown animation format %q (gif or apng)", spec.Animation)
	}
	if err != nil {
		return err
	}
	path := filepath.Join(spec.Dir, name)
	if err := train.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return err
	}
	res.Files = append(res.Files, path)
	return nil
}

// FromPNG reads the metadata of an exported texture: the model it came from, the point and size.
func FromPNG(path string) (*Model, Point, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Point{}, 0, err
	}
	defer f.Close()
	meta, err := texture.ReadPNGMeta(f)
	if err != nil {
		return nil, Point{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	mp, ok1 := meta.Get(MetaModel)
	ps, ok2 := meta.Get(MetaPoint)
	ss, ok3 := meta.Get(MetaSize)
	if !ok1 || !ok2 || !ok3 {
		return nil, Point{}, 0, fmt.Errorf("%s was not exported by Tessera (no %s/%s/%s metadata)", path, MetaModel, MetaPoint, MetaSize)
	}
	var p Point
	if err := json.Unmarshal([]byte(ps), &p); err != nil {
		return nil, Point{}, 0, fmt.Errorf("%s: bad %s: %w", path, MetaPoint, err)
	}
	size, err := strconv.Atoi(ss)
	if err != nil {
		return nil, Point{}, 0, fmt.Errorf("%s: bad %s: %w", path, MetaSize, err)
	}
	m, err := LoadModelFile(mp)
	if err != nil {
		return nil, Point{}, 0, fmt.Errorf("the model of %s: %w", path, err)
	}
	return m, p, size, nil
}

// PNGBits returns the bits per channel (8 or 16) of a PNG file, so that a texture regenerated
// from it keeps its depth.
func PNGBits(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c, err := png.DecodeConfig(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	switch c.ColorModel {
	case color.NRGBA64Model, color.RGBA64Model, color.Gray16Model:
		return 16, nil
	}
	return 8, nil
}
