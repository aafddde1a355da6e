package ui

import (
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
	"time"

	"gioui.org/layout"
	"gioui.org/op"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"tessera/app"
	"tessera/gan/train"
)

// trainPane starts, pauses, stops and watches training.
type trainPane struct {
	u                                             *UI
	startBtn, pauseBtn, stopBtn, contBtn, openBtn widget.Clickable
	openPath                                      widget.Editor
	plots                                         [3]plotCache
	maxRes, loss, mode                            widget.Enum
	kimg, batch, seed                             widget.Editor
	settingsList                                  widget.List
}

func (p *trainPane) init(u *UI) {
	p.u = u
	s := u.settings
	p.maxRes.Value = strconv.Itoa(s.MaxRes)
	p.loss.Value, p.mode.Value = s.Loss, s.Mode
	for _, e := range []*widget.Editor{&p.kimg, &p.batch, &p.seed, &p.openPath} {
		e.SingleLine, e.Submit = true, true
	}
	p.kimg.SetText(strconv.FormatFloat(s.KimgPerStage, 'f', -1, 64))
	p.batch.SetText(strconv.Itoa(s.Batch))
	p.seed.SetText(strconv.FormatUint(s.Seed, 10))
	p.settingsList.Axis = layout.Vertical
}

// readSettings validates the settings fields into the settings.
func (p *trainPane) readSettings() (app.Settings, error) {
	s := p.u.Settings()
	res, err := strconv.Atoi(p.maxRes.Value)
	if err != nil {
		return s, fmt.Errorf("choose a resolution")
	}
	kimg, err := strconv.ParseFloat(strings.TrimSpace(p.kimg.Text()), 64)
	if err != nil || kimg <= 0 || kimg > 10000 {
		return s, fmt.Errorf("images per stage: a number of thousands, e.g. 6")
	}
	batch, err := strconv.Atoi(strings.TrimSpace(p.batch.Text()))
	if err != nil || batch < 4 || batch%4 != 0 || batch > 256 {
		return s, fmt.Errorf("batch: a multiple of 4 from 4 to 256")
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(p.seed.Text()), 10, 64)
	if err != nil {
		return s, fmt.Errorf("seed: a whole number")
	}
	s.MaxRes, s.KimgPerStage, s.Batch, s.Seed = res, kimg, batch, seed
	s.Loss, s.Mode = p.loss.Value, p.mode.Value
	return s, nil
}

func (p *trainPane) start() {
	snap := p.u.d.Session.Snapshot()
	if snap.State.Busy() {
		return
	}
	s, err := p.readSettings()
	if err != nil {
		p.u.setMessage(err.Error())
		return
	}
	cfg, err := s.TrainConfig()
	if err != nil {
		p.u.setMessage(err.Error())
		return
	}
	p.u.updateSettings(func(x *app.Settings) { *x = s })
	if err := p.u.d.Session.Start(cfg, s.RunsDir); err != nil {
		p.u.setMessage("cannot start: " + err.Error())
		return
	}
	p.u.setMessage("")
}

func (p *trainPane) pauseResume() {
	switch p.u.d.Session.Snapshot().State {
	case app.Training:
		p.u.d.Session.Pause()
	case app.Paused:
		p.u.d.Session.Resume()
	case app.Stopped:
		p.continueRun()
	}
}

func (p *trainPane) continueRun() {
	if err := p.u.d.Session.Continue(); err != nil {
		p.u.setMessage("cannot continue: " + err.Error())
	}
}

func (p *trainPane) openRun(dir string) {
	if err := p.u.d.Session.Open(dir); err != nil {
		p.u.setMessage("cannot open " + dir + ": " + err.Error())
		return
	}
	p.u.updateSettings(func(s *app.Settings) { s.LastRun = dir })
}

func (p *trainPane) openDialog() {
	if p.u.d.Session.Snapshot().State.Busy() {
		return
	}
	ok := p.u.chooseFolder("Open a run folder", p.u.Settings().RunsDir, p.openRun)
	if !ok {
		if dir := strings.TrimSpace(p.openPath.Text()); dir != "" {
			p.openRun(dir)
		} else {
			p.u.setMessage("type the run folder's path, then press Enter")
		}
	}
}

func (p *trainPane) layout(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	st := snap.State
	if p.startBtn.Clicked(gtx) {
		p.start()
	}
	if p.pauseBtn.Clicked(gtx) {
		p.pauseResume()
	}
	if p.stopBtn.Clicked(gtx) {
		p.u.d.Session.Stop()
	}
	if p.contBtn.Clicked(gtx) {
		p.continueRun()
	}
	if p.openBtn.Clicked(gtx) {
		p.openDialog()
	}
	for {
		e, ok := p.openPath.Update(gtx)
		if !ok {
			break
		}
		if _, ok := e.(widget.SubmitEvent); ok && !st.Busy() {
			p.openRun(strings.TrimSpace(p.openPath.Text()))
		}
	}
	idle := !st.Busy()
	pauseLabel := "Pause"
	if st == app.Paused {
		pauseLabel = "Resume"
	}
	return layout.Flex{}.Layout(gtx,
		layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			gtx.Constraints.Min.X, gtx.Constraints.Max.X = gtx.Dp(330), gtx.Dp(330)
			return panel(gtx, func(gtx layout.Context) layout.Dimensions {
				ws := []layout.Widget{
					heading(th, "RUN"),
					row(6,
						button(th, &p.startBtn, "Start new run", true, idle && snap.Data != nil),
						button(th, &p.pauseBtn, pauseLabel, false, st == app.Training || st == app.Paused),
						button(th, &p.stopBtn, "Stop", false, st == app.Training || st == app.Paused),
					),
					row(6,
						button(th, &p.contBtn, "Continue run", false, st == app.Stopped),
						button(th, &p.openBtn, "Open run...", false, idle),
					),
					func(gtx layout.Context) layout.Dimensions {
						if !idle { // only usable when no run is active
							return layout.Dimensions{}
						}
						return editor(th, &p.openPath, "or type a run folder and press Enter", 300)(gtx)
					},
					heading(th, "PROGRESS"),
				}
				ws = append(ws, p.stats(snap)...)
				if idle {
					// hidden while training: they only apply to new runs, and every label costs
					// frame time on software renderers while training competes for the CPU
					ws = append(ws, heading(th, "SETTINGS (for new runs)"))
					ws = append(ws, p.settings(gtx, idle)...)
				}
				return material.List(th, &p.settingsList).Layout(gtx, len(ws), func(gtx layout.Context, i int) layout.Dimensions {
					return layout.Inset{Bottom: 6}.Layout(gtx, ws[i])
				})
			})
		}),
		layout.Rigid(layout.Spacer{Width: 12}.Layout),
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions { return p.watch(gtx, snap) }),
	)
}

func (p *trainPane) stats(snap *app.Snapshot) []layout.Widget {
	th := p.u.th
	s := snap.Status
	run := "none"
	if snap.RunDir != "" {
		run = snap.RunDir
	}
	total := ""
	if s.Total > 0 {
		total = fmt.Sprintf(" of %s", kimg(s.Total))
	}
	ws := []layout.Widget{
		stat(th, "Run", run),
		stat(th, "State", snap.State.String()),
	}
	if snap.RunDir == "" {
		return ws
	}
	eta := "-"
	if s.ETA > 0 && snap.State == app.Training {
		eta = fmtDuration(s.ETA)
	}
	ws = append(ws,
		stat(th, "Stage", s.Phase.String()),
		stat(th, "Images seen", kimg(s.Images)+total),
		stat(th, "Speed", fmt.Sprintf("%.1f images/s, %.0f GFLOP/s", s.ImagesPerS, s.GFLOPPerS)),
		stat(th, "Trained for", fmtDuration(s.Elapsed)),
		stat(th, "Time left", eta),
	)
	if len(snap.Evals) > 0 {
		e := snap.Evals[len(snap.Evals)-1]
		ws = append(ws, stat(th, "MS-SWD", fmt.Sprintf("%.1f (x1e3, at %s images, %d px)", e.SWD[len(e.SWD)-1], kimg(e.Images), e.Res)))
	}
	return ws
}

func (p *trainPane) settings(gtx layout.Context, enabled bool) []layout.Widget {
	th := p.u.th
	dis := func(w layout.Widget) layout.Widget {
		return func(gtx layout.Context) layout.Dimensions {
			if !enabled {
				gtx = gtx.Disabled()
			}
			return w(gtx)
		}
	}
	radio := func(e *widget.Enum, key, lbl string) layout.Widget {
		return func(gtx layout.Context) layout.Dimensions {
			r := material.RadioButton(th, e, key, lbl)
			r.TextSize = 13
			return r.Layout(gtx)
		}
	}
	return []layout.Widget{
		dis(row(4, muted(th, "Resolution"), radio(&p.maxRes, "64", "64"), radio(&p.maxRes, "128", "128"), radio(&p.maxRes, "256", "256"))),
		dis(row(8, muted(th, "k images per stage"), editor(th, &p.kimg, "6", 70))),
		dis(row(8, muted(th, "Batch"), editor(th, &p.batch, "16", 60), muted(th, "Seed"), editor(th, &p.seed, "1", 80))),
		dis(row(4, muted(th, "Loss"), radio(&p.loss, string(train.WGANGP), "WGAN-GP"), radio(&p.loss, string(train.WGANClip), "WGAN clip"))),
		dis(row(4, muted(th, "Mode"), radio(&p.mode, string(train.Progressive), "progressive"), radio(&p.mode, string(train.Fixed), "fixed"))),
		muted(th, "Defaults reach 64 px in about half an hour on 2 cores."),
	}
}

// watch shows the live sample grid, the stage timeline and the charts.
func (p *trainPane) watch(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
			return layout.Flex{}.Layout(gtx,
				layout.Rigid(func(gtx layout.Context) layout.Dimensions {
					side := min(gtx.Constraints.Max.X*3/5, gtx.Constraints.Max.Y)
					return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
						layout.Rigid(func(gtx layout.Context) layout.Dimensions {
							caption := "Samples appear here as the generator learns."
							if snap.Grid != nil {
								caption = fmt.Sprintf("Samples at %s (averaged generator, fixed latents)", snap.Status.Phase)
							}
							return layout.Inset{Bottom: 4}.Layout(gtx, muted(th, caption))
						}),
						layout.Rigid(func(gtx layout.Context) layout.Dimensions {
							side -= gtx.Dp(24)
							return p.u.roundedImage(gtx, snap.Grid, image.Pt(side, side))
						}),
					)
				}),
				layout.Rigid(layout.Spacer{Width: 12}.Layout),
				layout.Flexed(1, func(gtx layout.Context) layout.Dimensions { return p.charts(gtx, snap) }),
			)
		}),
		layout.Rigid(layout.Spacer{Height: 10}.Layout),
		layout.Rigid(func(gtx layout.Context) layout.Dimensions { return p.timeline(gtx, snap) }),
	)
}

func (p *trainPane) charts(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	n := len(snap.History)
	x := make([]float64, n)
	ld, lg, wd, gp := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, m := range snap.History {
		x[i], ld[i], lg[i], wd[i], gp[i] = float64(m.Images), m.LossD, m.LossG, m.WDist, m.GP
	}
	var ex, ey []float64
	for _, m := range snap.Evals {
		ex, ey = append(ex, float64(m.Images)), append(ey, m.SWD[len(m.SWD)-1])
	}
	charts := []chart{
		{title: "Losses", data: []series{{name: "critic", col: colAccent, x: x, y: ld}, {name: "generator", col: colAccent2, x: x, y: lg}}},
		{title: "Wasserstein estimate and gradient penalty", data: []series{{name: "W", col: colGood, x: x, y: wd}, {name: "GP", col: colBad, x: x, y: gp}}},
		{title: "MS-SWD x1e3 (lower is better)", data: []series{{name: "MS-SWD", col: colAccent, x: ex, y: ey, marks: true}}},
	}
	gap := gtx.Dp(10)
	h := (gtx.Constraints.Max.Y - 2*gap) / 3
	var children []layout.FlexChild
	for i, c := range charts {
		c := c
		if i > 0 {
			children = append(children, layout.Rigid(layout.Spacer{Height: unit.Dp(10)}.Layout))
		}
		children = append(children, layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			return c.layout(gtx, p.u.th, image.Pt(gtx.Constraints.Max.X, h), &p.plots[i])
		}))
	}
	return layout.Flex{Axis: layout.Vertical}.Layout(gtx, children...)
}

// timeline draws the stages as segments, filled as far as training has come.
func (p *trainPane) timeline(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	h := gtx.Dp(40)
	size := image.Pt(gtx.Constraints.Max.X, h)
	cfg := snap.Config
	plan, err := train.NewPlan(cfg.Mode, cfg.Schedule, cfg.Model)
	if err != nil || snap.RunDir == "" {
		return fill(gtx, colPanel, size)
	}
	end := plan.Total()
	last := len(plan.Res) - 1
	if end == 0 {
		end = plan.StageStart(last + 1) // the last stage's fade and stabilisation
	}
	gap := gtx.Dp(3)
	x := 0
	for i, res := range plan.Res {
		s0, s1 := plan.StageStart(i), plan.StageStart(i+1)
		if i == last {
			s1 = end
		}
		w := int(float64(size.X) * float64(s1-s0) / float64(end))
		if i == last {
			w = size.X - x
		}
		r := image.Rect(x, 0, x+w-gap, gtx.Dp(22))
		func() {
			defer clip.Rect(r).Push(gtx.Ops).Pop()
			paint.ColorOp{Color: colRaised}.Add(gtx.Ops)
			paint.PaintOp{}.Add(gtx.Ops)
			done := math.Max(0, math.Min(1, float64(snap.Status.Images-s0)/float64(s1-s0)))
			fr := r
			fr.Max.X = r.Min.X + int(done*float64(r.Dx()))
			paint.FillShape(gtx.Ops, colAccent, clip.Rect(fr).Op())
		}()
		func() {
			defer op.Offset(image.Pt(x+gtx.Dp(6), gtx.Dp(3))).Push(gtx.Ops).Pop()
			g := gtx
			g.Constraints = layout.Constraints{Max: image.Pt(w, h)}
			coloured(fmt.Sprintf("%d px", res), 11, colFg)(g)
		}()
		x += w
	}
	func() {
		defer op.Offset(image.Pt(0, gtx.Dp(24))).Push(gtx.Ops).Pop()
		g := gtx
		g.Constraints = layout.Constraints{Max: size}
		muted(th, "Stages: each new resolution fades in, then stabilises. "+fmt.Sprintf("%s images in all.", kimg(end)))(g)
	}()
	return layout.Dimensions{Size: size}
}

func kimg(n int64) string {
	if n < 10000 {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%.1fk", float64(n)/1000)
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
}
