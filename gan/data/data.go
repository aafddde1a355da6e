// Package data turns a folder of texture photos, as users really have them,
// into a steady, reproducible stream of training crops for the GAN.
//
// Loading ([Load], [LoadFS]) walks a folder recursively, decodes every PNG,
// JPEG, GIF, BMP, TIFF and WebP image it finds (formats are detected by
// content), and keeps a downscaled "working copy" of each one in memory as
// sRGB-encoded uint8 planes (one plane for grayscale images, three
// interleaved channels otherwise), together with a mipmap pyramid used for
// antialiased sampling. Files that cannot be used are never fatal: they are
// listed in [Summary.Skipped] with a reason.
//
// Policies worth knowing:
//   - Alpha is composited over mid-grey (sRGB 128/255): transparent parts
//     of a texture become neutral grey rather than black.
//   - JPEG EXIF orientation (tags 1-8) is applied, so the working copy looks
//     as the photo does in a viewer. OrigWidth/OrigHeight are reported in
//     that displayed orientation.
//   - Symbolic links to files and to folders are followed. Visited folders
//     are tracked by device and inode (os.SameFile), so symlink cycles and
//     duplicate links are visited once and reported as skipped. Folders are
//     also not descended deeper than 64 levels (a guard for fs.FS
//     implementations without inode identity).
//   - Files and folders whose name starts with '.' are ignored.
//   - Files without an image extension are used if their content is an
//     image, and silently ignored otherwise. Files with an image extension
//     that cannot be used are reported.
//   - File names are kept byte for byte (non-UTF-8 names work); messages
//     render unusual names with strconv.Quote.
//
// Sampling ([Dataset.Batch], [Dataset.Stream]) is a pure function of the
// dataset, the crop options and a seed, so a trainer can regenerate any batch
// after a resume.
package data

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // register GIF decoding
	_ "image/jpeg" // register JPEG decoding
	_ "image/png"  // register PNG decoding
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	_ "golang.org/x/image/bmp"  // register BMP decoding
	_ "golang.org/x/image/tiff" // register TIFF decoding
	_ "golang.org/x/image/webp" // register WebP decoding
)

// Options controls how images are loaded into working copies. Zero or
// negative numeric fields take their default (see [DefaultOptions]).
type Options struct {
	// MaxSide is the long side of the decoded working copy; larger images
	// are downscaled by area-averaging. Default 1024.
	MaxSide int
	// MaxPixels refuses, before decoding, images whose header declares more
	// pixels than this (decompression bombs). Default 100_000_000.
	MaxPixels int64
	// CacheBytes caps the memory of the working copies kept (pyramids
	// included); images that would exceed it are skipped with a reason.
	// Default 1 GiB.
	CacheBytes int64
	// MinSide is the smallest short side a working copy may have (after the
	// MaxSide cap). Smaller images are upscaled to it if Upscale is set, and
	// skipped with a reason otherwise. Default 64. It must not exceed MaxSide.
	MinSide int
	// Upscale allows images whose short side is below MinSide to be upscaled
	// (bilinear), as long as their long side then stays within MaxSide.
	Upscale bool
}

// DefaultOptions returns the default loading options.
func DefaultOptions() Options {
	return Options{
		MaxSide:    1024,
		MaxPixels:  100_000_000,
		CacheBytes: 1 << 30,
		MinSide:    64,
	}
}

// withDefaults fills zero or negative fields with their defaults.
func (o Options) withDefaults() Options {
	def := DefaultOptions()
	if o.MaxSide <= 0 {
		o.MaxSide = def.MaxSide
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = def.MaxPixels
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = def.CacheBytes
	}
	if o.MinSide <= 0 {
		o.MinSide = def.MinSide
	}
	return o
}

// Dataset is a set of loaded working copies, ready for sampling. It is
// immutable after loading and safe for concurrent use.
type Dataset struct {
	summary Summary
	images  []*workImage
	cum     []float64 // cumulative areas of images, for area-proportional picking
}

// Summary describes what a load used and skipped.
type Summary struct {
	// Source names the folder (or fs.FS label) that was loaded.
	Source string `json:"source"`
	// Used lists the images kept, sorted by relative path.
	Used []ImageInfo `json:"used"`
	// Skipped lists files (and folders) that could not be used, with why.
	Skipped []Skipped `json:"skipped"`
	// TotalPixels is the number of pixels of all working copies.
	TotalPixels int64 `json:"total_pixels"`
	// Fingerprint identifies the used data: the hex SHA-256 over, for each
	// used image in order, its relative path and the SHA-256 of its bytes
	// (see [Dataset.Summary]).
	Fingerprint string `json:"fingerprint"`
}

// ImageInfo describes one used image.
type ImageInfo struct {
	// Path is the path relative to the loaded folder, slash-separated,
	// byte for byte as on disk (it may not be valid UTF-8).
	Path string `json:"path"`
	// Width and Height are the working copy's size.
	Width  int `json:"width"`
	Height int `json:"height"`
	// OrigWidth and OrigHeight are the file's size, in displayed
	// orientation (after EXIF orientation).
	OrigWidth  int `json:"orig_width"`
	OrigHeight int `json:"orig_height"`
	// Format is the detected format: png, jpeg, gif, bmp, tiff or webp.
	Format string `json:"format"`
	// Gray reports a grayscale image (kept as one channel, sampled as three
	// equal channels).
	Gray bool `json:"gray"`
	// Upscaled reports an image upscaled to reach Options.MinSide.
	Upscaled bool `json:"upscaled"`
}

// Skipped is a file or folder that could not be used.
type Skipped struct {
	// Path is relative to the loaded folder, byte for byte as on disk.
	// Folders end in '/'.
	Path string `json:"path"`
	// Reason says why, e.g. "truncated PNG: unexpected EOF".
	Reason string `json:"reason"`
}

// MarshalJSON writes the image's fields, with path_bytes where the path is not UTF-8: JSON
// replaces such bytes with U+FFFD, so the path is also written as "path_bytes" (base64 of the
// exact bytes), with which a script can still find the file.
func (u ImageInfo) MarshalJSON() ([]byte, error) {
	type plain ImageInfo
	return json.Marshal(struct {
		plain
		PathBytes []byte `json:"path_bytes,omitempty"`
	}{plain(u), rawPath(u.Path)})
}

// MarshalJSON writes the skipped file, with path_bytes where the path is not UTF-8.
func (k Skipped) MarshalJSON() ([]byte, error) {
	type plain Skipped
	return json.Marshal(struct {
		plain
		PathBytes []byte `json:"path_bytes,omitempty"`
	}{plain(k), rawPath(k.Path)})
}

func rawPath(p string) []byte {
	if utf8.ValidString(p) {
		return nil
	}
	return []byte(p)
}

// Len returns the number of used images.
func (d *Dataset) Len() int { return len(d.images) }

// Summary returns a copy of the load summary. The fingerprint is the hex
// SHA-256 over, for each used image in path order, the 8-byte big-endian
// length of its path, the path, the 8-byte file size and the SHA-256 of the
// file's bytes.
func (d *Dataset) Summary() Summary {
	s := d.summary
	s.Used = append([]ImageInfo(nil), s.Used...)
	s.Skipped = append([]Skipped(nil), s.Skipped...)
	return s
}

// WriteText writes a human-readable report: the images used, those skipped
// with their reasons, and the total megapixels.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Source: %s\n", display(s.Source))
	fmt.Fprintf(&b, "%s used (%s megapixels in working copies):\n", plural(len(s.Used), "image"), megapixels(s.TotalPixels))
	for _, u := range s.Used {
		var notes []string
		notes = append(notes, fmt.Sprintf("from %dx%d %s", u.OrigWidth, u.OrigHeight, formatLabel(u.Format)))
		if u.Gray {
			notes = append(notes, "grayscale")
		}
		if u.Upscaled {
			notes = append(notes, "upscaled")
		}
		fmt.Fprintf(&b, "  %s  %dx%d (%s)\n", display(u.Path), u.Width, u.Height, strings.Join(notes, ", "))
	}
	if len(s.Skipped) == 0 {
		b.WriteString("Nothing skipped.\n")
	} else {
		fmt.Fprintf(&b, "%s skipped:\n", plural(len(s.Skipped), "file"))
		for _, sk := range s.Skipped {
			fmt.Fprintf(&b, "  %s: %s\n", display(sk.Path), sk.Reason)
		}
	}
	if s.Fingerprint != "" {
		fmt.Fprintf(&b, "Fingerprint: %s\n", s.Fingerprint)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
}

// Thumbnails returns one opaque thumbnail per used image, in Summary().Used
// order, whose long side is size pixels (area-averaged from the mipmap
// pyramid). It returns nil if size < 1.
func (d *Dataset) Thumbnails(size int) []image.Image {
	if size < 1 {
		return nil
	}
	out := make([]image.Image, len(d.images))
	for i, wi := range d.images {
		out[i] = wi.thumbnail(size)
	}
	return out
}

// display renders a name for messages: as-is when it is printable UTF-8,
// quoted with strconv.Quote otherwise.
func display(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// megapixels formats a pixel count in megapixels: "900", "12.35", "0.04".
func megapixels(p int64) string {
	if p%1_000_000 == 0 {
		return strconv.FormatInt(p/1_000_000, 10)
	}
	s := strconv.FormatFloat(float64(p)/1e6, 'f', 2, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// formatLabel names a format as users know it.
func formatLabel(f string) string {
	switch f {
	case "webp":
		return "WebP"
	case "":
		return "image"
	}
	return strings.ToUpper(f)
}
