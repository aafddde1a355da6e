package train

import (
	"context"
	"path/filepath"

	"tessera/assets"
	"tessera/gan/data"
)

// BuiltinSource names the embedded default texture set as a data source.
const BuiltinSource = "builtin:stone-wall"

// LoadData loads a data source: a folder path, or BuiltinSource (also for an empty source).
func LoadData(ctx context.Context, source string, opt data.Options) (*data.Dataset, error) {
	if source == "" || source == BuiltinSource {
		return data.LoadFS(ctx, assets.Textures(), BuiltinSource, opt)
	}
	return data.Load(ctx, source, opt)
}

// SourceOf returns the data source to record for a folder argument ("" is the built-in set).
func SourceOf(dir string) string {
	if dir == "" || dir == BuiltinSource {
		return BuiltinSource
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// DataOptions returns the loading options a configuration needs: images must be at least as
// large as the final training resolution.
func DataOptions(cfg Config, upscale bool) data.Options {
	opt := data.DefaultOptions()
	opt.MinSide = cfg.Model.MaxRes
	opt.Upscale = upscale
	return opt
}
