// Package ui draws Tessera's studio with Gio: the data, training, exploration, export and about
// panes. It depends on app (the studio's core) and never on the engine's internals; it reads the
// session's latest snapshot every frame and never waits for training.
package ui

import (
	"image/color"

	"gioui.org/font/gofont"
	"gioui.org/text"
	"gioui.org/widget/material"
)

// Colours of the dark theme.
var (
	colBg      = rgb(0x16181d) // window
	colPanel   = rgb(0x1f2229) // panels
	colRaised  = rgb(0x2a2e37) // inputs, inactive tabs
	colBorder  = rgb(0x363b46)
	colFg      = rgb(0xe6e8ee) // text
	colMuted   = rgb(0x9aa1b1) // secondary text
	colAccent  = rgb(0xd9a05b) // warm stone accent
	colAccent2 = rgb(0x6fa8dc) // second series in charts
	colGood    = rgb(0x7fbf7f)
	colBad     = rgb(0xe07070)
)

func rgb(c uint32) color.NRGBA {
	return color.NRGBA{R: uint8(c >> 16), G: uint8(c >> 8), B: uint8(c), A: 0xff}
}

// NewTheme returns the studio's dark theme with the embedded Go fonts. With systemFonts false no
// system font is loaded (deterministic rendering for tests).
func NewTheme(systemFonts bool) *material.Theme {
	th := material.NewTheme()
	opts := []text.ShaperOption{text.WithCollection(gofont.Collection())}
	if !systemFonts {
		opts = append(opts, text.NoSystemFonts())
	}
	th.Shaper = text.NewShaper(opts...)
	th.Palette = material.Palette{Bg: colBg, Fg: colFg, ContrastBg: colAccent, ContrastFg: rgb(0x1a1408)}
	th.TextSize = 14
	return th
}
