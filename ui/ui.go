package ui

import (
	"fmt"
	"image"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"gioui.org/io/event"
	"gioui.org/io/key"
	"gioui.org/layout"
	"gioui.org/op/clip"
	"gioui.org/op/paint"
	"gioui.org/unit"
	"gioui.org/widget"
	"gioui.org/widget/material"

	"tessera/app"
)

// Deps is what the UI needs from its host.
type Deps struct {
	Session    *app.Session
	Settings   app.Settings
	ConfigDir  string // where settings are saved ("" to not save)
	Invalidate func() // asks the window for a new frame; safe from any goroutine
	// ChooseFolder opens a native folder dialog; nil where none is available (the typed path is
	// always offered). It is called off the UI goroutine, one call at a time.
	ChooseFolder func(title, start string) (string, error)
	Credits      string // texture credits (Markdown)
	Version      string
}

// Tabs of the studio.
const (
	TabData = iota
	TabTrain
	TabExplore
	TabExport
	TabAbout
	numTabs
)

var tabNames = [numTabs]string{"Data", "Train", "Explore", "Export", "About"}

// UI is the studio's user interface.
type UI struct {
	d  Deps
	th *material.Theme

	mu       sync.Mutex // guards settings and messages set by background work
	settings app.Settings
	message  string   // transient message shown in the footer
	onUI     []func() // work handed from background goroutines to the next frame

	tab    int
	tabs   [numTabs]widget.Clickable
	images imageCache

	data    dataPane
	train   trainPane
	explore explorePane
	export  exportPane
	about   aboutPane

	dialog latest[dialogReq]
}

type dialogReq struct {
	title, start string
	done         func(string)
}

// New builds the UI. It loads the data of the last session (or the built-in set).
func New(d Deps) *UI {
	if d.Invalidate == nil {
		d.Invalidate = func() {}
	}
	u := &UI{d: d, th: NewTheme(true), settings: d.Settings}
	u.dialog.fn = func(r dialogReq) {
		path, err := d.ChooseFolder(r.title, r.start)
		if err != nil {
			u.setMessage("folder dialog: " + err.Error())
			return
		}
		if path != "" {
			// the callback touches widgets: it runs in the next frame, on the UI goroutine
			u.mu.Lock()
			u.onUI = append(u.onUI, func() { r.done(path) })
			u.mu.Unlock()
		}
		d.Invalidate()
	}
	u.data.init(u)
	u.train.init(u)
	u.explore.init(u)
	u.export.init(u)
	return u
}

// SetTheme replaces the theme (tests use one without system fonts).
func (u *UI) SetTheme(th *material.Theme) { u.th = th }

// Tab returns the visible tab.
func (u *UI) Tab() int { return u.tab }

// SetTab shows a tab.
func (u *UI) SetTab(t int) {
	if t >= 0 && t < numTabs {
		u.tab = t
	}
}

// Settings returns the current settings.
func (u *UI) Settings() app.Settings {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.settings
}

func (u *UI) updateSettings(f func(*app.Settings)) {
	u.mu.Lock()
	f(&u.settings)
	s := u.settings
	u.mu.Unlock()
	if u.d.ConfigDir != "" {
		if err := s.Save(u.d.ConfigDir); err != nil {
			u.setMessage("saving settings: " + err.Error())
		}
	}
}

func (u *UI) setMessage(m string) {
	u.mu.Lock()
	u.message = m
	u.mu.Unlock()
	u.d.Invalidate()
}

// chooseFolder asks the native dialog for a folder, off the UI goroutine.
func (u *UI) chooseFolder(title, start string, done func(string)) bool {
	if u.d.ChooseFolder == nil {
		return false
	}
	u.dialog.submit(dialogReq{title: title, start: start, done: done})
	return true
}

// Title is the window title: what is open and what it is doing.
func (u *UI) Title() string {
	s := u.d.Session.Snapshot()
	if s.RunDir == "" {
		return "Tessera"
	}
	t := "Tessera - " + filepath.Base(s.RunDir)
	switch s.State {
	case app.Training:
		t += fmt.Sprintf(" (training, %s)", s.Status.Phase)
	case app.Paused, app.Stopped, app.Finished, app.Failed:
		t += " (" + s.State.String() + ")"
	}
	return t
}

// Layout draws a frame.
func (u *UI) Layout(gtx layout.Context) layout.Dimensions {
	u.mu.Lock()
	pending := u.onUI
	u.onUI = nil
	u.mu.Unlock()
	for _, f := range pending {
		f()
	}
	u.shortcuts(gtx)
	for i := range u.tabs {
		if u.tabs[i].Clicked(gtx) {
			u.tab = i
		}
	}
	snap := u.d.Session.Snapshot()
	fill(gtx, colBg, gtx.Constraints.Max)
	return layout.Flex{Axis: layout.Vertical}.Layout(gtx,
		layout.Rigid(func(gtx layout.Context) layout.Dimensions { return u.header(gtx, snap) }),
		layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
			return layout.UniformInset(unit.Dp(12)).Layout(gtx, func(gtx layout.Context) layout.Dimensions {
				switch u.tab {
				case TabData:
					return u.data.layout(gtx, snap)
				case TabTrain:
					return u.train.layout(gtx, snap)
				case TabExplore:
					return u.explore.layout(gtx, snap)
				case TabExport:
					return u.export.layout(gtx, snap)
				default:
					return u.about.layout(gtx, u)
				}
			})
		}),
		layout.Rigid(func(gtx layout.Context) layout.Dimensions { return u.footer(gtx, snap) }),
	)
}

func (u *UI) header(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	h := gtx.Dp(48)
	fill(gtx, colPanel, image.Pt(gtx.Constraints.Max.X, h))
	gtx.Constraints = layout.Exact(image.Pt(gtx.Constraints.Max.X, h))
	return layout.Inset{Left: 16, Right: 16}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		gtx.Constraints.Min.Y = 0
		layout.W.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
			return u.headerRow(gtx, snap)
		})
		return layout.Dimensions{Size: gtx.Constraints.Max}
	})
}

func (u *UI) headerRow(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	{
		return layout.Flex{Alignment: layout.Middle}.Layout(gtx,
			layout.Rigid(coloured("Tessera", 20, colAccent)),
			layout.Rigid(layout.Spacer{Width: 24}.Layout),
			layout.Rigid(func(gtx layout.Context) layout.Dimensions {
				var children []layout.FlexChild
				for i := range u.tabs {
					i := i
					children = append(children, layout.Rigid(func(gtx layout.Context) layout.Dimensions {
						return layout.Inset{Right: 4}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
							bg, fg := colRaised, colFg
							if u.tab == i {
								bg, fg = colAccent, rgb(0x1a1408)
							}
							return flatButton(gtx, &u.tabs[i], tabNames[i], 13, bg, fg, layout.Inset{Top: 6, Bottom: 6, Left: 14, Right: 14})
						})
					}))
				}
				return layout.Flex{Alignment: layout.Middle}.Layout(gtx, children...)
			}),
			layout.Flexed(1, func(gtx layout.Context) layout.Dimensions {
				return layout.E.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
					return u.statusPill(gtx, snap)
				})
			}),
		)
	}
}

func (u *UI) statusPill(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	txt := snap.State.String()
	col := colMuted
	switch snap.State {
	case app.Training:
		txt = fmt.Sprintf("training  %s  %.1f img/s", snap.Status.Phase, snap.Status.ImagesPerS)
		col = colGood
	case app.Paused:
		txt = "paused at " + snap.Status.Phase.String()
		col = colAccent
	case app.Failed:
		col = colBad
	}
	return coloured(txt, 13, col)(gtx)
}

func (u *UI) footer(gtx layout.Context, snap *app.Snapshot) layout.Dimensions {
	u.mu.Lock()
	msg := u.message
	u.mu.Unlock()
	if msg == "" && len(snap.Log) > 0 {
		msg = snap.Log[len(snap.Log)-1]
	}
	if snap.Err != nil {
		msg = "error: " + snap.Err.Error()
	}
	h := gtx.Dp(28)
	fill(gtx, colPanel, image.Pt(gtx.Constraints.Max.X, h))
	gtx.Constraints.Min.Y, gtx.Constraints.Max.Y = h, h
	return layout.Inset{Left: 16, Right: 16, Top: 6}.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
		col := colMuted
		if snap.Err != nil {
			col = colBad
		}
		msg = strings.ReplaceAll(msg, "\n", " ")
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		gtx.Constraints.Max.X = 1 << 20 // one line: clipped by the window
		return coloured(msg, 12, col)(gtx)
	})
}

// shortcuts handles the keyboard shortcuts (Ctrl or Cmd + key).
func (u *UI) shortcuts(gtx layout.Context) {
	names := []key.Name{"1", "2", "3", "4", "5", "N", "O", "D", "P", "S", "R", "F", "E"}
	filters := make([]event.Filter, len(names))
	for i, n := range names {
		filters[i] = key.Filter{Name: n, Required: key.ModShortcut}
	}
	for {
		ev, ok := gtx.Event(filters...)
		if !ok {
			return
		}
		e, ok := ev.(key.Event)
		if !ok || e.State != key.Press {
			continue
		}
		switch e.Name {
		case "1", "2", "3", "4", "5":
			u.tab = int(e.Name[0] - '1')
		case "N":
			u.train.start()
		case "O":
			u.train.openDialog()
		case "D":
			u.data.chooseDialog()
		case "P":
			u.train.pauseResume()
		case "S":
			u.d.Session.Stop()
		case "R":
			u.tab = TabExplore
			u.explore.shuffle()
		case "F":
			u.explore.favourite()
		case "E":
			u.tab = TabExport
			u.export.run()
		}
	}
}

// Close saves the settings (with the last run) before the window closes.
func (u *UI) Close(windowSize image.Point) {
	snap := u.d.Session.Snapshot()
	u.updateSettings(func(s *app.Settings) {
		if snap.RunDir != "" {
			s.LastRun = snap.RunDir
		}
		if windowSize.X > 0 && windowSize.Y > 0 {
			s.WindowW, s.WindowH = windowSize.X, windowSize.Y
		}
	})
}

// roundedImage draws an image in a rounded frame of the given size.
func (u *UI) roundedImage(gtx layout.Context, img image.Image, size image.Point) layout.Dimensions {
	defer clip.Rect(image.Rectangle{Max: size}).Push(gtx.Ops).Pop()
	paint.ColorOp{Color: colRaised}.Add(gtx.Ops)
	paint.PaintOp{}.Add(gtx.Ops)
	if !isNil(img) {
		gtx.Constraints = layout.Exact(size)
		layout.Center.Layout(gtx, func(gtx layout.Context) layout.Dimensions {
			return u.images.drawImage(gtx, img, size)
		})
	}
	return layout.Dimensions{Size: size}
}

// isNil reports whether an image is nil, including a typed nil pointer in the interface.
func isNil(img image.Image) bool {
	if img == nil {
		return true
	}
	v := reflect.ValueOf(img)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
