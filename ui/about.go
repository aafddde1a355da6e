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
	for _, line := range creditLines(u.d.Credits) {
		ws = append(ws, muted(th, line))
	}
	ws = append(ws, muted(th, "Built with Gio (gioui.org), gorgonia, OpenBLAS and gonum."))
	return panel(gtx, func(gtx layout.Context) layout.Dimensions {
		return material.List(th, &p.list).Layout(gtx, len(ws), func(gtx layout.Context, i int) layout.Dimensions {
			return layout.Inset{Bottom: 6}.Layout(gtx, ws[i])
		})
	})
}

// creditLines turns the credits file (Markdown: a heading, a table of files, paragraphs) into
// plain lines: a table row becomes "file: size, license, credit"; the table's header and rule,
// empty lines and code marks are dropped.
func creditLines(md string) []string {
	var out []string
	header := true
	for _, line := range strings.Split(strings.TrimSpace(md), "\n") {
		line = strings.TrimSpace(strings.ReplaceAll(line, "`", ""))
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "|"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
				cells = append(cells, strings.TrimSpace(c))
			}
			if header || strings.Trim(strings.Join(cells, ""), "-: ") == "" {
				header = false // the first row names the columns; the next is the rule
				continue
			}
			if len(cells) > 1 {
				line = cells[0] + ": " + strings.Join(cells[1:], ", ")
			}
		default:
			line = strings.TrimLeft(line, "# ")
		}
		out = append(out, line)
	}
	return out
}
