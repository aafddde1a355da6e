// Package texture implements the file formats and derived maps of Tessera's texture export.
//
// It provides:
//
//   - height fields ([Height], [Field]) and tangent-space normal maps ([Normal]) derived from a
//     texture; both use wrap-around (periodic) borders so that the derived maps tile exactly like
//     the seamless texture they come from;
//   - PNG encoding with ordered text metadata ([EncodePNG], [Meta]) so that an exported texture
//     carries what is needed to regenerate it, and a robust reader of that metadata
//     ([ReadPNGMeta]) that treats its input as untrusted;
//   - looping animations of a latent walk as GIF ([WriteGIF]) and APNG ([WriteAPNG]);
//   - tiled previews of a seamless texture ([Tile]).
//
// Only the standard library is used. No function panics on bad input: functions that return an
// error report it, and the few that cannot (Height, Normal, Tile, Field's conversions) return an
// empty result, as documented on each.
package texture

// maxPixels bounds the number of pixels of any image this package allocates (2^28 pixels, e.g.
// 16384 x 16384). It protects against images with huge or unbounded bounds such as image.Uniform.
const maxPixels = 1 << 28

// sizeOK reports whether a w x h image is non-empty and within maxPixels, without overflowing.
func sizeOK(w, h int) bool {
	return w > 0 && h > 0 && w <= maxPixels && h <= maxPixels/w
}
