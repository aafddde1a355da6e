package ui

import (
	"strings"

	"gioui.org/layout"
	"gioui.org/widget"
	"gioui.org/widget/material"
)

type aboutPane struct{ list widget.List }

var shortcuts = [][2]string{
	{"Ctrl+1 ... Ctrl+5", "Data, Train, Explore, Export, About"},
	{"Ctrl+D", "choose a data folder"},
	{"Ctrl+N", "start a new run"},
	{"Ctrl+O", "open a run folder"},
	{"Ctrl+P", "pause / resume training (continue a stopped run)"},
	{"Ctrl+S", "stop training (saves a checkpoint)"},
	{"Ctrl+R", "new random picks in Explore"},
	{"Ctrl+F", "add the explored texture to the favourites"},
	{"Ctrl+E", "export the explored texture"},
}

func (p *aboutPane) layout(gtx layout.Context, u *UI) layout.Dimensions {
	th := u.th
	p.list.Axis = layout.Vertical
	ws := []layout.Widget{
		heading(th, "TESSERA "+u.d.Version),
		label(th, "Tessera grows seamless textures from your own photos. It trains a progressive Wasserstein GAN\n"+
			"(Arjovsky et al. 2017; Karras et al. 2018) whose generator paints on a latent grid with wrap-around\n"+
			"convolutions, so every texture it makes tiles, at any size."),
		heading(th, "KEYBOARD"),
	}
	for _, s := range shortcuts {
		ws = append(ws, stat(th, s[0], s[1]))
	}
	ws = append(ws, heading(th, "CREDITS"))
	for _, line := range strings.Split(strings.TrimSpace(u.d.Credits), "\n") {
		ws = append(ws, muted(th, strings.TrimPrefix(line, "# ")))
	}
	ws = append(ws, muted(th, "Built with Gio (gioui.org), gorgonia, OpenBLAS and gonum."))
	return panel(gtx, func(gtx layout.Context) layout.Dimensions {
		return material.List(th, &p.list).Layout(gtx, len(ws), func(gtx layout.Context, i int) layout.Dimensions {
			return layout.Inset{Bottom: 6}.Layout(gtx, ws[i])
		})
	})
}
