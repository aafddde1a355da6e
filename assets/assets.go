// Package assets embeds Tessera's default texture set (with its credits).
package assets

import (
	"embed"
	"io/fs"
)

//go:embed textures
var textures embed.FS

// Textures returns the default texture set: a folder of photographs of stone walls.
func Textures() fs.FS {
	sub, err := fs.Sub(textures, "textures")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	return sub
}

//go:embed textures/CREDITS.md
var credits string

// TextureCredits returns the license credit of the default texture set (Markdown).
func TextureCredits() string { return credits }

// DefaultSetName names the default texture set in the UI and logs.
const DefaultSetName = "stone wall (built-in)"
