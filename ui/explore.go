package ui

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"sync"

	"gioui.org/layout"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"tessera/app"
)

const candidates = 8

// explorePane walks the latent space of the latest model.
type explorePane struct {
	u *UI

	mu       sync.Mutex // guards the fields set by background work
	ex       *app.Explorer
	building *app.Model // model whose explorer is being built
	failed   *app.Model // model whose explorer could not be built (not retried)
	exErr    error
	preview  image.Image
	prevKey  string
	cands    [candidates]image.Image
	candKey  string
	project  app.Project
	projDir  string

	base                       uint64 // seed of the first candidate
	candClicks                 [candidates]widget.Clickable
	anchors                    []app.Point
	thumbs                     map[string]image.Image // anchor thumbnails by point (guarded by mu)
	anchorClicks               [8]widget.Clickable
	a, b                       int // anchor indices (-1: none)
	slot                       widget.Enum
	mix                        widget.Float
	dirs                       [app.Directions]widget.Float
	shuffleBtn, resetBtn, favB widget.Clickable
	favClicks                  [32]widget.Clickable
	seedEd                     widget.Editor
	list                       widget.List

	build   latest[*app.Model]
	render  latest[renderReq]
	renderC latest[candReq]
	renderT latest[renderReq]
}

type renderReq struct {
	ex  *app.Explorer
	p   app.Point
	key string
}

type candReq struct {
	ex   *app.Explorer
	base uint64
	key  string
}

func (p *explorePane) init(u *UI) {
	p.u = u
	p.base, p.a, p.b = 1, -1, -1
	p.slot.Value = "A"
	p.mix.Value = 0.5
	for i := range p.dirs {
		p.dirs[i].Value = 0.5
	}
	p.seedEd.SingleLine, p.seedEd.Submit = true, true
	p.list.Axis = layout.Vertical
	p.build.fn = func(m *app.Model) {
		ex, err := app.NewExplorer(m)
		proj, perr := app.LoadProject(m.RunDir)
		p.mu.Lock()
		if p.building == m {
			p.exErr, p.building = err, nil
			if err != nil {
				p.failed = m // keep the previous explorer; do not rebuild on every frame
			} else {
				p.ex = ex
			}
			if m.RunDir != p.projDir {
				p.project, p.projDir = proj, m.RunDir
				if perr != nil {
					u.setMessage(perr.Error())
				}
			}
		}
		p.mu.Unlock()
		u.d.Invalidate()
	}
	p.render.fn = func(r renderReq) {
		img, err := r.ex.Render(r.p, 8)
		if err != nil {
			u.setMessage("preview: " + err.Error())
			return
		}
		p.mu.Lock()
		p.preview, p.prevKey = img, r.key
		p.mu.Unlock()
		u.d.Invalidate()
	}
	p.thumbs = map[string]image.Image{}
	p.renderT.fn = func(r renderReq) {
		img, err := r.ex.Render(r.p, 4)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.thumbs[r.key] = img
		p.mu.Unlock()
		u.d.Invalidate()
	}
	p.renderC.fn = func(r candReq) {
		var imgs [candidates]image.Image
		for i := range imgs {
			img, err := r.ex.Render(r.ex.Random(r.base+uint64(i)), 4)
			if err != nil {
				u.setMessage("samples: " + err.Error())
				return
			}
			imgs[i] = img
		}
		p.mu.Lock()
		p.cands, p.candKey = imgs, r.key
		p.mu.Unlock()
		u.d.Invalidate()
	}
}

// explorer returns the explorer for the snapshot's model, starting to build it if needed.
func (p *explorePane) explorer(snap *app.Snapshot) (*app.Explorer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := snap.Model
	if m == nil {
		return nil, false
	}
	if p.ex != nil && p.ex.Model() == m {
		return p.ex, true
	}
	if p.building != m && p.failed != m {
		p.building = m
		p.build.submit(m)
	}
	return p.ex, p.ex != nil // the previous model's explorer stays usable meanwhile
}

func (p *explorePane) shuffle() {
	p.base += candidates
}

// current is the point the sliders describe.
func (p *explorePane) current(ex *app.Explorer) (app.Point, bool) {
	if p.a < 0 || p.a >= len(p.anchors) {
		return app.Point{}, false
	}
	pt := p.anchors[p.a]
	if p.b >= 0 && p.b < len(p.anchors) && p.b != p.a {
		pt = ex.Blend(pt, p.anchors[p.b], float64(p.mix.Value))
	}
	coords := make([]float64, len(p.dirs))
	for i := range p.dirs {
		coords[i] = 6 * (float64(p.dirs[i].Value) - 0.5) // -3 .. +3 standard deviations
	}
	return ex.Move(pt, coords), true
}

// Current returns the explored point, for export (false when nothing is chosen yet).
func (p *explorePane) Current() (*app.Explorer, app.Point, bool) {
	snap := p.u.d.Session.Snapshot()
	ex, ok := p.explorer(snap)
	if !ok {
		return nil, app.Point{}, false
	}
	pt, ok := p.current(ex)
	return ex, pt, ok
}

func pointKey(pt app.Point) string { return fmt.Sprint(pt) }

func (p *explorePane) addAnchor(pt app.Point, thumb image.Image) {
	if len(p.anchors) == len(p.anchorClicks) {
		p.anchors = p.anchors[1:]
		p.a, p.b = p.a-1, p.b-1
	}
	p.anchors = append(p.anchors, pt)
	if thumb != nil {
		p.mu.Lock()
		p.thumbs[pointKey(pt)] = thumb
		p.mu.Unlock()
	}
	i := len(p.anchors) - 1
	if p.slot.Value == "B" && p.a >= 0 { // with no A yet, a pick becomes A whatever the slot says
		p.b = i
	} else {
		p.a = i
		if p.b < 0 {
			p.slot.Value = "B"
		}
	}
}

func (p *explorePane) favourite() {
	ex, pt, ok := p.Current()
	if !ok {
		return
	}
	p.mu.Lock()
	dir := ex.Model().RunDir
	if dir != p.projDir {
		p.mu.Unlock()
		return
	}
	name := fmt.Sprintf("favourite %d", len(p.project.Favourites)+1)
	p.project.Favourites = append(p.project.Favourites, app.Favourite{Name: name, Point: pt})
	proj := p.project
	p.mu.Unlock()
	if err := proj.Save(dir); err != nil {
		p.u.setMessage("saving favourites: " + err.Error())
		return
	}
	p.u.setMessage("saved " + name + " in " + dir)
}

func (p *explorePane) layout(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	ex, ok := p.explorer(snap)
	if !ok {
		msg := "Explore needs a model: start training (samples appear after the first 2000 images) or open a run."
		p.mu.Lock()
		if p.exErr != nil {
			msg = p.exErr.Error()
		} else if p.building != nil {
			msg = "Finding the directions of variation..."
		}
		p.mu.Unlock()
		return panel(gtx, muted(th, msg))
	}
	p.handle(gtx, ex)
	cur, hasCur := p.current(ex)
	key := fmt.Sprintf("%p/%v", ex, cur)
	p.mu.Lock()
	if hasCur && p.prevKey != key {
		p.render.submit(renderReq{ex: ex, p: cur, key: key})
	}
	ckey := fmt.Sprintf("%p/%d", ex, p.base)
	if p.candKey != ckey {
		p.renderC.submit(candReq{ex: ex, base: p.base, key: ckey})
	}
	preview, cands, favs := p.preview, p.cands, append([]app.Favourite(nil), p.project.Favourites...)
	anchorThumbs := make([]image.Image, len(p.anchors))
	for i, a := range p.anchors {
		k := pointKey(a)
		if anchorThumbs[i] = p.thumbs[k]; anchorThumbs[i] == nil {
			p.renderT.submit(renderReq{ex: ex, p: a, key: k})
		}
	}
	p.mu.Unlock()

	return layout.Flex{}.Layout(gtx,
		layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			gtx.Constraints.Min.X, gtx.Constraints.Max.X = gtx.Dp(420), gtx.Dp(420)
			return panel(gtx, func(gtx layout.Context) layout.Dimensions {
				ws := []layout.Widget{
					heading(th, fmt.Sprintf("PICK (model at %d px, %s images)", ex.Model().Res, kimg(ex.Model().Images))),
					func(gtx layout.Context) layout.Dimensions { return p.thumbRow(gtx, cands[:], p.candClicks[:], -1, -1) },
					row(8, button(th, &p.shuffleBtn, "Shuffle", false, true), muted(th, "seed"), editor(th, &p.seedEd, "any number", 110)),
					heading(th, "ANCHORS (click a pick to add it)"),
					row(8, muted(th, "next pick sets"), material.RadioButton(th, &p.slot, "A", "A").Layout, material.RadioButton(th, &p.slot, "B", "B").Layout),
					func(gtx layout.Context) layout.Dimensions {
						return p.thumbRow(gtx, anchorThumbs, p.anchorClicks[:len(anchorThumbs)], p.a, p.b)
					},
					row(8, muted(th, "A"), p.slider(&p.mix, 300), muted(th, "B")),
					heading(th, "MAIN DIRECTIONS OF VARIATION"),
				}
				share := ex.VarianceShare()
				for i := range p.dirs {
					i := i
					ws = append(ws, row(8, func(gtx layout.Context) layout.Dimensions {
						gtx.Constraints.Min.X = gtx.Dp(80)
						return muted(th, fmt.Sprintf("dir %d (%.0f%%)", i+1, 100*share[i]))(gtx)
					}, p.slider(&p.dirs[i], 290)))
				}
				ws = append(ws, row(8, button(th, &p.resetBtn, "Centre sliders", false, true), button(th, &p.favB, "Add to favourites", true, hasCur)))
				if len(favs) > 0 {
					ws = append(ws, heading(th, "FAVOURITES (saved with the run)"))
					for i := range favs {
						if i >= len(p.favClicks) {
							break
						}
						ws = append(ws, button(th, &p.favClicks[i], favs[i].Name, false, true))
					}
				}
				return material.List(th, &p.list).Layout(gtx, len(ws), func(gtx layout.Context, i int) layout.Dimensions {
					return layout.Inset{Bottom: 6}.Layout(gtx, ws[i])
				})
			})
		}),
		layout.Rigid(layout.Spacer{Width: 12}.Layout),
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
			return panel(gtx, func(gtx layout.Context) layout.Dimensions {
				if !hasCur {
					return muted(th, "Click one of the picks to start exploring.")(gtx)
				}
				return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
					layout.Rigid(muted(th, fmt.Sprintf("Preview: %d px, an 8x8 latent grid (twice the training size). It tiles seamlessly.", 8*ex.Scale()))),
					layout.Rigid(layout.Spacer{Height: 8}.Layout),
					layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
						side := min(gtx.Constraints.Max.X, gtx.Constraints.Max.Y)
						return p.u.roundedImage(gtx, preview, image.Pt(side, side))
					}),
				)
			})
		}),
	)
}

func (p *explorePane) slider(f *widget.Float, width unit.Dp) layout.Widget {
	return func(gtx layout.Context) layout.Dimensions {
		gtx.Constraints.Min.X, gtx.Constraints.Max.X = gtx.Dp(width), gtx.Dp(width)
		s := material.Slider(p.u.th, f)
		s.Color = colAccent
		return s.Layout(gtx)
	}
}

// thumbRow draws clickable thumbnails; a and b mark the anchors.
func (p *explorePane) thumbRow(gtx layout.Context, imgs []image.Image, clicks []widget.Clickable, a, b int) layout.Dimensions {
	size := gtx.Dp(44)
	var children []layout.FlexChild
	for i := range clicks {
		i := i
		children = append(children, layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			return layout.Inset{Right: 5}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
				return clicks[i].Layout(gtx, func(gtx layout.Context) layout.Dimensions {
					var img image.Image
					if i < len(imgs) {
						img = imgs[i]
					}
					d := p.u.roundedImage(gtx, img, image.Pt(size, size))
					if i == a || i == b {
						col := colAccent
						if i == b {
							col = colAccent2
						}
						strokeRect(gtx, image.Rectangle{Max: d.Size}, col, float32(gtx.Dp(2)))
					}
					return d
				})
			})
		}))
	}
	if len(children) == 0 {
		return layout.Dimensions{Size: image.Pt(0, size)}
	}
	return layout.Flex{}.Layout(gtx, children...)
}

// handle processes the pane's input.
func (p *explorePane) handle(gtx layout.Context, ex *app.Explorer) {
	if p.shuffleBtn.Clicked(gtx) {
		p.shuffle()
	}
	for {
		e, ok := p.seedEd.Update(gtx)
		if !ok {
			break
		}
		if _, ok := e.(widget.SubmitEvent); ok {
			if s, err := strconv.ParseUint(strings.TrimSpace(p.seedEd.Text()), 10, 64); err == nil {
				p.base = s
			} else {
				p.u.setMessage("seed: a whole number")
			}
		}
	}
	p.mu.Lock()
	cands := p.cands
	favs := p.project.Favourites
	p.mu.Unlock()
	for i := range p.candClicks {
		if p.candClicks[i].Clicked(gtx) && cands[i] != nil {
			p.addAnchor(ex.Random(p.base+uint64(i)), cands[i])
		}
	}
	for i := range p.anchors {
		if p.anchorClicks[i].Clicked(gtx) {
			if p.slot.Value == "B" && i != p.a {
				p.b = i
			} else {
				p.a = i
			}
		}
	}
	if p.resetBtn.Clicked(gtx) {
		for i := range p.dirs {
			p.dirs[i].Value = 0.5
		}
	}
	if p.favB.Clicked(gtx) {
		p.favourite()
	}
	for i := range favs {
		if i < len(p.favClicks) && p.favClicks[i].Clicked(gtx) {
			p.slot.Value = "A"
			p.addAnchor(favs[i].Point, nil)
			for j := range p.dirs {
				p.dirs[j].Value = 0.5
			}
			p.b = -1
		}
	}
}
