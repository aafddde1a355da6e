package ui

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gioui.org/f32"
	"gioui.org/gpu/headless"
	"gioui.org/io/input"
	"gioui.org/io/key"
	"gioui.org/io/pointer"
	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/unit"

	"tessera/app"
	"tessera/gan/train"
)

// harness renders the UI in a headless GPU window and feeds it input through a Gio router, as a
// real window would.
type harness struct {
	t       *testing.T
	u       *UI
	s       *app.Session
	win     *headless.Window
	router  input.Router
	ops     op.Ops
	size    image.Point
	changed chan struct{}
	input   bool // input was queued: a window redraws after delivering it
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, nil) }

// newHarnessWith calls before on the session before the UI is made, as the studio's main opens
// a run given on its command line.
func newHarnessWith(t *testing.T, before func(*app.Session)) *harness {
	t.Helper()
	if os.Getenv("EGL_PLATFORM") == "" {
		os.Setenv("EGL_PLATFORM", "surfaceless") // headless rendering needs no X server
	}
	size := image.Pt(1280, 800)
	win, err := headless.NewWindow(size.X, size.Y)
	if err != nil {
		t.Skipf("no headless GPU context here: %v", err)
	}
	h := &harness{t: t, win: win, size: size, changed: make(chan struct{}, 1)}
	inv := func() {
		select {
		case h.changed <- struct{}{}:
		default:
		}
	}
	h.s = app.NewSession(inv)
	settings := app.DefaultSettings()
	settings.RunsDir, settings.ExportDir = t.TempDir(), t.TempDir()
	// a tiny run: 8 px, a few dozen images per phase
	settings.MaxRes, settings.KimgPerStage, settings.Batch = 8, 0.032, 8
	if before != nil {
		before(h.s)
	}
	h.u = New(Deps{Session: h.s, Settings: settings, Invalidate: inv, Credits: "# credits", Version: "test"})
	h.u.SetTheme(NewTheme(false))
	t.Cleanup(func() {
		h.s.Close()
		win.Release()
	})
	return h
}

// frame lays out and renders one frame and returns its pixels.
func (h *harness) frame() *image.RGBA {
	h.ops.Reset()
	gtx := layout.Context{
		Ops: &h.ops, Metric: unit.Metric{PxPerDp: 1, PxPerSp: 1},
		Constraints: layout.Exact(h.size), Now: time.Now(), Source: h.router.Source(),
	}
	h.u.Layout(gtx)
	h.router.Frame(&h.ops)
	if err := h.win.Frame(&h.ops); err != nil {
		h.t.Fatal(err)
	}
	img := image.NewRGBA(image.Rectangle{Max: h.size})
	if err := h.win.Screenshot(img); err != nil {
		h.t.Fatal(err)
	}
	return img
}

// until renders frames (whenever the session or a background job asks for one) until cond holds.
func (h *harness) until(what string, cond func(img *image.RGBA) bool) *image.RGBA {
	h.t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		img := h.frame()
		if cond(img) {
			return img
		}
		if h.input { // the frame just drawn delivered the input; draw its consequences
			h.input = false
			continue
		}
		select {
		case <-h.changed:
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s (state %v, log %v)", what, h.s.Snapshot().State, h.s.Snapshot().Log)
		}
	}
}

// save writes a frame to $TESSERA_UI_DUMP/name.png when that variable is set (for debugging).
func (h *harness) save(img *image.RGBA, name string) {
	dir := os.Getenv("TESSERA_UI_DUMP")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		h.t.Log(err)
		return
	}
	defer f.Close()
	png.Encode(f, img)
}

func (h *harness) click(p image.Point) {
	pos := f32.Pt(float32(p.X), float32(p.Y))
	h.input = true
	h.router.Queue(
		pointer.Event{Kind: pointer.Move, Position: pos, Source: pointer.Mouse},
		pointer.Event{Kind: pointer.Press, Position: pos, Buttons: pointer.ButtonPrimary, Source: pointer.Mouse},
		pointer.Event{Kind: pointer.Release, Position: pos, Source: pointer.Mouse},
	)
}

func (h *harness) shortcut(name key.Name) {
	h.input = true
	h.router.Queue(key.Event{Name: name, Modifiers: key.ModShortcut, State: key.Press})
}

func near(c color.RGBA, want color.NRGBA, tol int) bool {
	d := func(a, b uint8) int {
		x := int(a) - int(b)
		if x < 0 {
			return -x
		}
		return x
	}
	return d(c.R, want.R) <= tol && d(c.G, want.G) <= tol && d(c.B, want.B) <= tol
}

// runs returns the rows of r where pred holds on at least minRun consecutive pixels, with the
// horizontal extent of the first such run in each row.
func runs(img *image.RGBA, r image.Rectangle, minRun int, pred func(color.RGBA) bool) []image.Rectangle {
	var out []image.Rectangle
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		n := 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if pred(img.RGBAAt(x, y)) {
				n++
				if n == minRun {
					end := x + 1
					for end < r.Max.X && pred(img.RGBAAt(end, y)) {
						end++
					}
					out = append(out, image.Rect(x-minRun+1, y, end, y+1))
					break
				}
			} else {
				n = 0
			}
		}
	}
	return out
}

// clusters merges row runs into boxes of consecutive rows.
func clusters(rows []image.Rectangle) []image.Rectangle {
	var out []image.Rectangle
	for _, r := range rows {
		if len(out) > 0 && r.Min.Y <= out[len(out)-1].Max.Y+1 {
			out[len(out)-1] = out[len(out)-1].Union(r)
			continue
		}
		out = append(out, r)
	}
	return out
}

func center(r image.Rectangle) image.Point { return r.Min.Add(r.Max).Div(2) }

func isAccent(c color.RGBA) bool { return near(c, colAccent, 12) }

// isContent matches pixels that are neither background nor panel colour (images, text).
func isContent(c color.RGBA) bool {
	return !near(c, colPanel, 6) && !near(c, colBg, 6) && !near(c, colRaised, 6)
}

func differs(a, b *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !near(a.RGBAAt(x, y), color.NRGBA(b.RGBAAt(x, y)), 3) {
				n++
			}
		}
	}
	return n
}

// TestStudio drives the studio like a user: the data pane shows the built-in photos, clicking
// Start trains, pausing and exploring work, moving a slider changes the preview, and export writes
// a seamless texture.
func TestStudio(t *testing.T) {
	h := newHarness(t)
	left := image.Rect(0, 60, 400, 790)

	// Data: the built-in set loads at first start; its three thumbnails are drawn.
	img := h.until("data", func(*image.RGBA) bool { d := h.s.Snapshot().Data; return d != nil && !h.s.Snapshot().State.Busy() })
	img = h.frame()
	thumbs := clusters(runs(img, image.Rect(400, 60, 1280, 400), 100, isContent))
	if len(thumbs) == 0 || thumbs[0].Dy() < 100 {
		t.Fatalf("no thumbnails drawn on the data pane: %v", thumbs)
	}
	if n := len(runs(img, image.Rect(400, thumbs[0].Min.Y+60, 1280, thumbs[0].Min.Y+61), 100, isContent)); n != 1 {
		t.Fatalf("thumbnail row: %d runs", n)
	}

	// Train: click the Start button (the accent-coloured button of the left panel).
	h.shortcut("2")
	img = h.frame()
	img = h.frame()
	if h.u.Tab() != TabTrain {
		t.Fatalf("Ctrl+2 showed tab %d", h.u.Tab())
	}
	buttons := clusters(runs(img, left, 60, isAccent))
	if len(buttons) == 0 {
		t.Fatal("no Start button found")
	}
	h.click(center(buttons[0]))
	h.until("training", func(*image.RGBA) bool { return h.s.Snapshot().State == app.Training })
	grid := image.Rect(350, 90, 880, 600)
	img = h.until("a sample grid", func(img *image.RGBA) bool {
		return h.s.Snapshot().Grid != nil && len(runs(img, grid, 40, isContent)) > 20
	})

	// Pause (Ctrl+P) publishes the model; Explore builds the directions and shows picks.
	h.shortcut("P")
	h.until("pause", func(*image.RGBA) bool { return h.s.Snapshot().State == app.Paused })
	h.shortcut("3")
	img = h.until("picks", func(img *image.RGBA) bool {
		return h.u.Tab() == TabExplore && len(clusters(runs(img, image.Rect(0, 60, 440, 200), 40, isContent))) > 0
	})
	picks := clusters(runs(img, image.Rect(0, 60, 440, 200), 40, isContent))
	h.click(center(image.Rect(picks[0].Min.X, picks[0].Min.Y, picks[0].Min.X+40, picks[0].Max.Y)))
	preview := image.Rect(460, 120, 1250, 760)
	img = h.until("a preview", func(img *image.RGBA) bool { return len(runs(img, preview, 200, isContent)) > 100 })
	before := h.frame()

	// The direction sliders are the long accent-coloured tracks below the A-B slider.
	h.save(before, "explore")
	tracks := clusters(runs(before, image.Rect(0, 200, 440, 790), 100, isAccent))
	if len(tracks) < 3 {
		t.Fatalf("found %d slider tracks, want the A-B slider and the direction sliders", len(tracks))
	}
	// the accent part of a centred slider runs from its left end to its thumb, half way
	dir1 := tracks[1]
	h.click(image.Pt(dir1.Min.X+dir1.Dx()*19/10, center(dir1).Y))
	after := h.until("the preview to change", func(img *image.RGBA) bool { return differs(before, img, preview) > 1000 })
	if differs(before, after, preview) == 0 {
		t.Fatal("moving a direction slider did not change the preview")
	}

	// Export (Ctrl+4, then Ctrl+E) writes a texture with a seam score near 1.
	h.shortcut("4")
	h.frame()
	h.shortcut("E")
	h.until("the export", func(*image.RGBA) bool {
		h.u.export.mu.Lock()
		defer h.u.export.mu.Unlock()
		return !h.u.export.running && h.u.export.status != "" && h.u.export.status != "starting"
	})
	h.u.export.mu.Lock()
	status := h.u.export.status
	h.u.export.mu.Unlock()
	files, _ := os.ReadDir(h.u.Settings().ExportDir)
	if len(files) == 0 {
		t.Fatalf("export wrote nothing: %s", status)
	}

	// Stop (Ctrl+S) saves a checkpoint; the title names the run.
	h.shortcut("S")
	h.frame()
	h.s.Wait()
	if st := h.s.Snapshot().State; st != app.Stopped {
		t.Fatalf("after Ctrl+S: %v", st)
	}
	if _, err := os.Stat(h.s.Snapshot().RunDir + "/" + train.CheckpointFile); err != nil {
		t.Fatal(err)
	}
	if title := h.u.Title(); len(title) < len("Tessera - x") {
		t.Errorf("title %q does not name the run", title)
	}
}

// TestStudioOpensRunAtStart: a run opened before the window (tessera-studio --run DIR, or the
// last run) opens with its own data, instead of the data pane's first load refusing it.
func TestStudioOpensRunAtStart(t *testing.T) {
	// a short run to open, made as the CLI or an earlier studio would
	s := app.NewSession(nil)
	if err := s.LoadData(train.BuiltinSource, 8, false); err != nil {
		t.Fatal(err)
	}
	s.Wait()
	settings := app.DefaultSettings()
	settings.MaxRes, settings.KimgPerStage, settings.Batch = 8, 0.032, 8
	cfg, err := settings.TrainConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(cfg, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Wait()
	dir := s.Snapshot().RunDir
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err != nil {
		t.Fatal(err)
	}

	var openErr error
	h := newHarnessWith(t, func(s *app.Session) { openErr = s.Open(dir) })
	if openErr != nil {
		t.Fatalf("Open: %v", openErr)
	}
	h.until("the opened run", func(*image.RGBA) bool {
		n := h.s.Snapshot()
		return !n.State.Busy() && n.Data != nil
	})
	snap := h.s.Snapshot()
	if snap.State != app.Stopped || snap.RunDir != dir || snap.Model == nil {
		t.Fatalf("after opening: state %v, run %q (want %q), model %v", snap.State, snap.RunDir, dir, snap.Model != nil)
	}
	h.u.mu.Lock()
	msg := h.u.message
	h.u.mu.Unlock()
	if msg != "" {
		t.Errorf("the studio says %q after opening a run", msg)
	}
}
