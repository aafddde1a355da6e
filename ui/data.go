package ui

import (
	"fmt"
	"image"
	"strings"

	"gioui.org/layout"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"tessera/app"
	"tessera/gan/train"
)

// dataPane chooses and shows the training data.
type dataPane struct {
	u                *UI
	builtin, browse  widget.Clickable
	load             widget.Clickable
	path             widget.Editor
	upscale          widget.Bool
	list, thumbsList widget.List
}

func (p *dataPane) init(u *UI) {
	p.u = u
	p.path.SingleLine, p.path.Submit = true, true
	p.list.Axis = layout.Vertical
	p.thumbsList.Axis = layout.Vertical
	src := u.settings.DataDir
	if src != "" && src != train.BuiltinSource {
		p.path.SetText(src)
	}
	// at first start, the last folder (or the built-in set); not while a run is being opened,
	// which loads the run's own data
	if snap := u.d.Session.Snapshot(); snap.Data == nil && !snap.State.Busy() {
		p.loadSource(src)
	}
}

func (p *dataPane) loadSource(src string) {
	if src == "" {
		src = train.BuiltinSource
	}
	s := p.u.Settings()
	if err := p.u.d.Session.LoadData(src, s.MaxRes, p.upscale.Value); err != nil {
		p.u.setMessage(err.Error())
		return
	}
	p.u.updateSettings(func(s *app.Settings) { s.DataDir = src })
}

func (p *dataPane) chooseDialog() {
	start := strings.TrimSpace(p.path.Text())
	ok := p.u.chooseFolder("Choose a folder of texture photos", start, func(dir string) {
		p.path.SetText(dir)
		p.loadSource(dir)
	})
	if !ok {
		p.u.setMessage("no folder dialog here: type the folder's path and press Enter")
	}
}

func (p *dataPane) layout(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	busy := snap.State.Busy()
	if p.builtin.Clicked(gtx) && !busy {
		p.path.SetText("")
		p.loadSource(train.BuiltinSource)
	}
	if p.browse.Clicked(gtx) && !busy {
		p.chooseDialog()
	}
	submitted := false
	for {
		e, ok := p.path.Update(gtx)
		if !ok {
			break
		}
		if _, ok := e.(widget.SubmitEvent); ok {
			submitted = true
		}
	}
	if (p.load.Clicked(gtx) || submitted) && !busy {
		p.loadSource(strings.TrimSpace(p.path.Text()))
	}
	return layout.Flex{}.Layout(gtx,
		layout.Rigid(func(gtx layout.Context) layout.Dimensions {
			gtx.Constraints.Min.X, gtx.Constraints.Max.X = gtx.Dp(380), gtx.Dp(380)
			return panel(gtx, column(8,
				heading(th, "TRAINING DATA"),
				muted(th, "A folder of texture photos: one large photo is enough.\nSubfolders are included; broken files are skipped and listed."),
				row(8,
					button(th, &p.builtin, "Built-in stone wall", false, !busy),
					button(th, &p.browse, "Choose folder...", true, !busy && p.u.d.ChooseFolder != nil),
				),
				row(8, editor(th, &p.path, "or type a folder path", 260), button(th, &p.load, "Load", false, !busy)),
				material.CheckBox(th, &p.upscale, "Upscale photos smaller than the training size").Layout,
				func(gtx layout.Context) layout.Dimensions { return p.summary(gtx, snap) },
			))
		}),
		layout.Rigid(layout.Spacer{Width: 12}.Layout),
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
			return panel(gtx, func(gtx layout.Context) layout.Dimensions { return p.thumbs(gtx, snap) })
		}),
	)
}

func (p *dataPane) summary(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	if snap.State == app.Loading && snap.RunDir == "" {
		return muted(th, "Loading...")(gtx)
	}
	if snap.Data == nil {
		return muted(th, "No data loaded.")(gtx)
	}
	s := snap.Data.Summary
	src := s.Source
	if src == train.BuiltinSource {
		src = "built-in stone wall photos (CC BY 3.0, see About)"
	}
	ws := []layout.Widget{
		stat(th, "Source", src),
		stat(th, "Images used", fmt.Sprint(len(s.Used))),
		stat(th, "Pixels", fmt.Sprintf("%.1f megapixels", float64(s.TotalPixels)/1e6)),
		stat(th, "Skipped", fmt.Sprint(len(s.Skipped))),
	}
	if len(s.Skipped) > 0 {
		ws = append(ws, heading(th, "SKIPPED FILES"))
		for i, k := range s.Skipped {
			if i == 12 {
				ws = append(ws, muted(th, fmt.Sprintf("... and %d more (run 'tessera data' for the full list)", len(s.Skipped)-12)))
				break
			}
			k := k
			ws = append(ws, coloured(k.Path+": "+k.Reason, 14, colBad))
		}
	}
	return column(4, ws...)(gtx)
}

func (p *dataPane) thumbs(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	th := p.u.th
	if snap.Data == nil || len(snap.Data.Thumbs) == 0 {
		return muted(th, "Thumbnails of the photos appear here.")(gtx)
	}
	size := gtx.Dp(unit.Dp(132))
	gap := gtx.Dp(10)
	cols := max(1, (gtx.Constraints.Max.X+gap)/(size+gap))
	thumbs := snap.Data.Thumbs
	used := snap.Data.Summary.Used
	rows := (len(thumbs) + cols - 1) / cols
	return material.List(th, &p.thumbsList).Layout(gtx, rows, func(gtx layout.Context, r int) layout.Dimensions {
		var children []layout.FlexChild
		for c := 0; c < cols; c++ {
			i := r*cols + c
			if i >= len(thumbs) {
				break
			}
			children = append(children, layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				return layout.Inset{Right: unit.Dp(10), Bottom: unit.Dp(10)}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
					return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
						layout.Rigid(func(gtx layout.Context) layout.Dimensions {
							return p.u.roundedImage(gtx, thumbs[i], image.Pt(size, size))
						}),
						layout.Rigid(func(gtx layout.Context) layout.Dimensions {
							gtx.Constraints.Max.X = size
							name := []rune(used[i].Path) // one line under the thumbnail
							if len(name) > 21 {
								name = append([]rune("..."), name[len(name)-18:]...)
							}
							return coloured(fmt.Sprintf("%s\n%dx%d", string(name), used[i].OrigWidth, used[i].OrigHeight), 12, colMuted)(gtx)
						}),
					)
				})
			}))
		}
		return layout.Flex{}.Layout(gtx, children...)
	})
}
