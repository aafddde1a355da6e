package ui

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"gioui.org/layout"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"tessera/app"
	"tessera/gan/texture"
)

// exportPane previews the explored texture tiled, and writes it out.
type exportPane struct {
	u *UI

	size, tiles, anim                  widget.Enum
	bits16, normal, height, previewOut widget.Bool
	strength                           widget.Float
	variants, dir, pattern             widget.Editor
	exportBtn, browse, cancelBtn       widget.Clickable
	list                               widget.List

	mu       sync.Mutex
	tiled    image.Image // tiled preview of the current point
	tiledKey string
	seam     float64
	status   string
	progress float64
	running  bool
	cancel   context.CancelFunc

	preview latest[previewReq]
	job     latest[exportJob]
}

type previewReq struct {
	ex  *app.Explorer
	p   app.Point
	n   int
	key string
}

type exportJob struct {
	ex   *app.Explorer
	p    app.Point
	spec app.ExportSpec
	ctx  context.Context
}

func (p *exportPane) init(u *UI) {
	p.u = u
	s := u.settings
	p.size.Value = strconv.Itoa(s.ExportSize)
	p.tiles.Value, p.anim.Value = "3", ""
	p.strength.Value = 0.4
	for _, e := range []*widget.Editor{&p.variants, &p.dir, &p.pattern} {
		e.SingleLine = true
	}
	p.variants.SetText("1")
	p.dir.SetText(s.ExportDir)
	p.pattern.SetText(app.DefaultPattern)
	p.list.Axis = layout.Vertical
	p.preview.fn = func(r previewReq) {
		img, err := r.ex.Render(r.p, 8)
		if err != nil {
			u.setMessage("preview: " + err.Error())
			return
		}
		tiled := texture.Tile(img, r.n, r.n)
		seam := seamOf(img)
		p.mu.Lock()
		p.tiled, p.tiledKey, p.seam = tiled, r.key, seam
		p.mu.Unlock()
		u.d.Invalidate()
	}
	p.job.fn = func(j exportJob) {
		res, err := app.Export(j.ctx, j.ex, j.p, j.spec, func(what string, f float64) {
			p.mu.Lock()
			p.status, p.progress = what, f
			p.mu.Unlock()
			u.d.Invalidate()
		})
		p.mu.Lock()
		p.running = false
		switch {
		case err != nil:
			p.status = "export failed: " + err.Error()
		default:
			seams := make([]string, len(res.Seams))
			for i, s := range res.Seams {
				seams[i] = fmt.Sprintf("%.2f", s)
			}
			p.status = fmt.Sprintf("wrote %d file(s) to %s (seam score %s; 1.0 is invisible)", len(res.Files), j.spec.Dir, strings.Join(seams, ", "))
		}
		p.mu.Unlock()
		u.setMessage(p.status)
	}
}

func (p *exportPane) spec() (app.ExportSpec, error) {
	size, _ := strconv.Atoi(p.size.Value)
	n, err := strconv.Atoi(strings.TrimSpace(p.variants.Text()))
	if err != nil || n < 1 || n > 64 {
		return app.ExportSpec{}, fmt.Errorf("variants: a number from 1 to 64")
	}
	dir := strings.TrimSpace(p.dir.Text())
	if dir == "" {
		return app.ExportSpec{}, fmt.Errorf("choose an output folder")
	}
	return app.ExportSpec{
		Size: size, Bits16: p.bits16.Value, Normal: p.normal.Value, Height: p.height.Value,
		Strength: 1 + 15*float64(p.strength.Value), Variants: n, Spread: 0.3, Dir: dir,
		Pattern: strings.TrimSpace(p.pattern.Text()), Preview: p.previewOut.Value, Animation: p.anim.Value, Frames: 24,
	}, nil
}

// run starts the export of the explored point.
func (p *exportPane) run() {
	ex, pt, ok := p.u.explore.Current()
	if !ok {
		p.u.setMessage("pick a texture in Explore first")
		return
	}
	spec, err := p.spec()
	if err != nil {
		p.u.setMessage(err.Error())
		return
	}
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.running, p.cancel, p.status, p.progress = true, cancel, "starting", 0
	p.mu.Unlock()
	p.u.updateSettings(func(s *app.Settings) { s.ExportDir, s.ExportSize = spec.Dir, spec.Size })
	p.job.submit(exportJob{ex: ex, p: pt, spec: spec, ctx: ctx})
}

func (p *exportPane) layout(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	if p.exportBtn.Clicked(gtx) {
		p.run()
	}
	if p.cancelBtn.Clicked(gtx) {
		p.mu.Lock()
		if p.cancel != nil {
			p.cancel()
		}
		p.mu.Unlock()
	}
	if p.browse.Clicked(gtx) {
		if !p.u.chooseFolder("Export to folder", strings.TrimSpace(p.dir.Text()), func(d string) { p.dir.SetText(d) }) {
			p.u.setMessage("no folder dialog here: type the folder path")
		}
	}
	ex, pt, ok := p.u.explore.Current()
	n, _ := strconv.Atoi(p.tiles.Value)
	p.mu.Lock()
	if ok {
		key := fmt.Sprintf("%p/%v/%d", ex, pt, n)
		if key != p.tiledKey {
			p.preview.submit(previewReq{ex: ex, p: pt, n: n, key: key})
		}
	}
	tiled, seam, status, prog, running := p.tiled, p.seam, p.status, p.progress, p.running
	p.mu.Unlock()

	radio := func(e *widget.Enum, key, lbl string) layout.Widget {
		return func(gtx layout.Context) layout.Dimensions {
			r := material.RadioButton(th, e, key, lbl)
			r.TextSize = 13
			return r.Layout(gtx)
		}
	}
	sizeNote := "Sizes round to a multiple of one latent cell (a quarter of the training resolution)."
	if ok {
		sizeNote = fmt.Sprintf("Sizes round to a multiple of %d px (one latent cell).", ex.Scale())
	} else if r := snap.Status.Phase.Res; r >= 4 {
		sizeNote = fmt.Sprintf("Sizes round to a multiple of %d px (one latent cell).", r/4)
	}
	return layout.Flex{}.Layout(gtx,
		layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			gtx.Constraints.Min.X, gtx.Constraints.Max.X = gtx.Dp(400), gtx.Dp(400)
			return panel(gtx, func(gtx layout.Context) layout.Dimensions {
				ws := []layout.Widget{
					heading(th, "SIZE"),
					row(4, radio(&p.size, "256", "256"), radio(&p.size, "512", "512"), radio(&p.size, "1024", "1024"), radio(&p.size, "2048", "2048")),
					muted(th, sizeNote),
					heading(th, "FILES"),
					material.CheckBox(th, &p.bits16, "16-bit PNG").Layout,
					material.CheckBox(th, &p.normal, "Normal map (tangent space, OpenGL)").Layout,
					row(8, muted(th, "strength"), p.u.explore.slider(&p.strength, 200)),
					material.CheckBox(th, &p.height, "Height map (16-bit)").Layout,
					material.CheckBox(th, &p.previewOut, "3x3 tiled preview image").Layout,
					row(4, muted(th, "Looping walk"), radio(&p.anim, "", "none"), radio(&p.anim, "gif", "GIF"), radio(&p.anim, "apng", "APNG")),
					row(8, muted(th, "Variants"), editor(th, &p.variants, "1", 60)),
					row(8, muted(th, "Name"), editor(th, &p.pattern, app.DefaultPattern, 280)),
					row(8, editor(th, &p.dir, "output folder", 250), button(th, &p.browse, "Browse...", false, p.u.d.ChooseFolder != nil)),
					row(8, button(th, &p.exportBtn, "Export", true, ok && !running), button(th, &p.cancelBtn, "Cancel", false, running)),
				}
				if running {
					ws = append(ws, func(gtx layout.Context) layout.Dimensions {
						return material.ProgressBar(th, float32(prog)).Layout(gtx)
					})
				}
				if status != "" {
					ws = append(ws, label(th, status))
				}
				return material.List(th, &p.list).Layout(gtx, len(ws), func(gtx layout.Context, i int) layout.Dimensions {
					return layout.Inset{Bottom: 6}.Layout(gtx, ws[i])
				})
			})
		}),
		layout.Rigid(layout.Spacer{Width: 12}.Layout),
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
			return panel(gtx, func(gtx layout.Context) layout.Dimensions {
				if !ok {
					return muted(th, "Pick a texture in Explore; its tiled preview appears here.")(gtx)
				}
				return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
					layout.Rigid(row(12, radio(&p.tiles, "2", "2x2"), radio(&p.tiles, "3", "3x3"),
						label(th, fmt.Sprintf("Seam score %.2f (1.0: the seam is as smooth as the inside)", seam)))),
					layout.Rigid(layout.Spacer{Height: 8}.Layout),
					layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
						side := min(gtx.Constraints.Max.X, gtx.Constraints.Max.Y)
						return p.u.roundedImage(gtx, tiled, image.Pt(side, side))
					}),
					layout.Rigid(muted(th, "Files go to "+filepath.Clean(strings.TrimSpace(p.dir.Text())))),
				)
			})
		}),
	)
}
