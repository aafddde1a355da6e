package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"tessera/assets"
)

// fixtureCase is one file of the fixture folder and its documented outcome.
type fixtureCase struct {
	path   string
	data   []byte
	link   string // make a symbolic link to this target instead of a file
	mode   os.FileMode
	root   bool   // case is meaningless when running as root
	reason string // substring of the skip reason; "" = used or ignored
	ignore bool   // neither used nor skipped
	format string // for used images
	w, h   int    // working copy size for used images
	gray   bool
	check  func(t *testing.T, wi *workImage)
}

// fixtureOptions keeps the fixture small and fast.
var fixtureOptions = Options{MaxSide: 128, MinSide: 8}

func fixture(t *testing.T) []fixtureCase {
	webp, err := os.ReadFile("testdata/quadrants.webp")
	if err != nil {
		t.Fatal(err)
	}
	gray8 := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range gray8.Pix {
		gray8.Pix[i] = uint8(i)
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			gray16.SetGray16(x, y, color.Gray16{uint16(x * 1600)})
		}
	}
	alpha := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			a := uint8(0)
			if x >= 16 {
				a = 255
			}
			alpha.SetNRGBA(x, y, color.NRGBA{200, 100, 50, a})
		}
	}
	rgb16 := image.NewRGBA64(image.Rect(0, 0, 24, 24))
	for y := range 24 {
		for x := range 24 {
			rgb16.SetRGBA64(x, y, color.RGBA64{0xffff, uint16(x * 2000), 0x1234, 0xffff})
		}
	}
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{10, 200, 10, 255}}
	paletted := image.NewPaletted(image.Rect(0, 0, 24, 16), pal)
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(i % 3)
	}
	grayPal := image.NewPaletted(image.Rect(0, 0, 16, 16), color.Palette{color.Gray{0}, color.Gray{90}, color.Gray{255}})
	for i := range grayPal.Pix {
		grayPal.Pix[i] = uint8(i % 3)
	}
	cmyk := cmykJPEG(2, 2, func(bx, by int) color.CMYK {
		return color.CMYK{uint8(200 * bx), uint8(200 * by), 40, 10}
	})
	pngData := encPNG(t, gradient(64, 48))
	quads := quadrants(32, 16)
	quadJPEG := encJPEG(t, quads)

	cases := []fixtureCase{
		{path: "rgb.png", data: pngData, format: "png", w: 64, h: 48, check: func(t *testing.T, wi *workImage) {
			if got, want := pixel(wi, 63, 47), [3]uint8{255, 255, 60}; got != want {
				t.Errorf("corner = %v, want %v", got, want)
			}
		}},
		{path: "photo.jpg", data: encJPEG(t, gradient(96, 64)), format: "jpeg", w: 96, h: 64},
		{path: "big.jpeg", data: encJPEG(t, gradient(300, 200)), format: "jpeg", w: 128, h: 85},
		{path: "anim.gif", data: encGIF(t, paletted), format: "gif", w: 24, h: 16, check: func(t *testing.T, wi *workImage) {
			for x, want := range [][3]uint8{{255, 0, 0}, {0, 0, 255}, {10, 200, 10}} {
				if got := pixel(wi, x, 0); got != want {
					t.Errorf("pixel %d = %v, want %v", x, got, want)
				}
			}
		}},
		{path: "scan.bmp", data: encBMP(t, gradient(40, 20)), format: "bmp", w: 40, h: 20},
		{path: "scan.tif", data: encTIFF(t, gradient(20, 40)), format: "tiff", w: 20, h: 40},
		{path: "quadrants.webp", data: webp, format: "webp", w: 16, h: 12, check: func(t *testing.T, wi *workImage) {
			checkCorners(t, wi, "RGBW")
		}},
		{path: "gray8.png", data: encPNG(t, gray8), format: "png", w: 40, h: 30, gray: true, check: func(t *testing.T, wi *workImage) {
			if got := pixel(wi, 5, 1); got != [3]uint8{45, 45, 45} {
				t.Errorf("gray pixel = %v, want 45", got)
			}
		}},
		{path: "gray16.png", data: encPNG(t, gray16), format: "png", w: 40, h: 30, gray: true, check: func(t *testing.T, wi *workImage) {
			if got, want := pixel(wi, 10, 3)[0], uint8(16000>>8); got != want {
				t.Errorf("gray16 pixel = %d, want %d", got, want)
			}
		}},
		{path: "alpha.png", data: encPNG(t, alpha), format: "png", w: 32, h: 32, check: func(t *testing.T, wi *workImage) {
			if got := pixel(wi, 2, 2); got != [3]uint8{128, 128, 128} {
				t.Errorf("transparent pixel = %v, want mid-grey", got)
			}
			if got := pixel(wi, 20, 2); got != [3]uint8{200, 100, 50} {
				t.Errorf("opaque pixel = %v, want 200,100,50", got)
			}
		}},
		{path: "rgb16.png", data: encPNG(t, rgb16), format: "png", w: 24, h: 24, check: func(t *testing.T, wi *workImage) {
			if got, want := pixel(wi, 3, 0), [3]uint8{255, 6000 >> 8, 0x12}; got != want {
				t.Errorf("16-bit pixel = %v, want %v", got, want)
			}
		}},
		{path: "palette.png", data: encPNG(t, paletted), format: "png", w: 24, h: 16},
		{path: "graypal.gif", data: encGIF(t, grayPal), format: "gif", w: 16, h: 16, gray: true},
		{path: "cmyk.jpg", data: cmyk, format: "jpeg", w: 16, h: 16, check: func(t *testing.T, wi *workImage) {
			for _, b := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				r, g, bl := color.CMYKToRGB(uint8(200*b[0]), uint8(200*b[1]), 40, 10)
				if got := pixel(wi, 8*b[0]+4, 8*b[1]+4); !near(got, [3]uint8{r, g, bl}, 2) {
					t.Errorf("CMYK block %v = %v, want %v", b, got, [3]uint8{r, g, bl})
				}
			}
		}},
		{path: "truncated.png", data: pngData[:len(pngData)/2], reason: "truncated PNG: unexpected EOF"},
		{path: "zero.png", data: []byte{}, reason: "empty file"},
		{path: "notes.jpg", data: []byte("these are my notes, not a photo\n"), reason: "not an image: unknown format"},
		{path: "phone.HEIC", data: []byte("\x00\x00\x00\x18ftypheic"), reason: "HEIC images are not supported"},
		{path: "locked.png", data: pngData, mode: 0o000, root: true, reason: "permission denied"},
		{path: "tiny.png", data: encPNG(t, gradient(1, 1)), reason: "too small: 1x1 is below the 8 pixel minimum side"},
		{path: "bomb.png", data: bombPNG(30000, 30000), reason: "30000x30000 is 900 megapixels, above the 100 megapixel limit"},
		{path: "nested/a/b/deep.png", data: pngData, format: "png", w: 64, h: 48},
		{path: "nested/loop", link: "..", reason: "same folder as the loaded folder itself (symbolic link loop"},
		{path: "link.png", link: "rgb.png", format: "png", w: 64, h: 48},
		{path: "dangling.png", link: "nowhere.png", reason: "cannot follow symbolic link: no such file"},
		{path: "dangling.txt", link: "nowhere.txt", ignore: true},
		{path: "\xffodd name.png", data: pngData, format: "png", w: 64, h: 48},
		{path: "texture_without_extension", data: pngData, format: "png", w: 64, h: 48},
		{path: "really_a_png.jpg", data: pngData, format: "png", w: 64, h: 48},
		{path: "manual.pdf", data: []byte("%PDF-1.4\n"), ignore: true},
		{path: "readme.txt", data: []byte("hello"), ignore: true},
		{path: ".hidden.png", data: []byte("junk"), ignore: true},
		{path: ".cache/thumb.png", data: []byte("junk"), ignore: true},
	}
	for o := 1; o <= 8; o++ {
		w, h := 32, 16
		if o >= 5 {
			w, h = h, w
		}
		o := o
		cases = append(cases, fixtureCase{
			path:   fmt.Sprintf("exif/orientation_%d.jpg", o),
			data:   withOrientation(quadJPEG, uint16(o), o%2 == 0),
			format: "jpeg", w: w, h: h,
			check: func(t *testing.T, wi *workImage) { checkCorners(t, wi, storedAt[o]) },
		})
	}
	return cases
}

// storedAt lists, per orientation, which stored quadrant (by its colour
// name) is displayed in the corners TL, TR, BL, BR. Stored: R G / B W.
var storedAt = map[int]string{
	1: "RGBW", 2: "GRWB", 3: "WBGR", 4: "BWRG",
	5: "RBGW", 6: "BRWG", 7: "WGBR", 8: "GWRB",
}

// checkCorners checks the four corners of a working copy against quadrant
// colours: want names the colours of the corners TL, TR, BL, BR.
func checkCorners(t *testing.T, wi *workImage, want string) {
	t.Helper()
	colour := map[byte][3]uint8{'R': {255, 0, 0}, 'G': {0, 255, 0}, 'B': {0, 0, 255}, 'W': {255, 255, 255}}
	p := wi.levels[0]
	pts := [4][2]int{{1, 1}, {p.w - 2, 1}, {1, p.h - 2}, {p.w - 2, p.h - 2}}
	for i, pt := range pts {
		if got := pixel(wi, pt[0], pt[1]); !near(got, colour[want[i]], 24) {
			t.Errorf("corner %d at %v = %v, want %c", i, pt, got, want[i])
		}
	}
}

func buildFixture(t *testing.T) (string, []fixtureCase) {
	dir := t.TempDir()
	cases := fixture(t)
	for _, c := range cases {
		if c.link != "" {
			p := filepath.Join(dir, filepath.FromSlash(c.path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(c.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, dir, c.path, c.data)
		if c.mode != 0 || c.root {
			if err := os.Chmod(filepath.Join(dir, filepath.FromSlash(c.path)), c.mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, cases
}

func TestLoadFixture(t *testing.T) {
	dir, cases := buildFixture(t)
	start := time.Now()
	ds, err := Load(context.Background(), dir, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded the fixture in %v", time.Since(start))
	sum := ds.Summary()
	used := map[string]int{}
	for i, u := range sum.Used {
		used[u.Path] = i
	}
	skipped := map[string]string{}
	for _, s := range sum.Skipped {
		skipped[strings.TrimSuffix(s.Path, "/")] = s.Reason
	}
	asRoot := os.Geteuid() == 0
	for _, c := range cases {
		t.Run(strings.ToValidUTF8(c.path, "?"), func(t *testing.T) {
			if c.root && asRoot {
				t.Skip("running as root: the file is readable anyway")
			}
			i, isUsed := used[c.path]
			why, isSkipped := skipped[c.path]
			switch {
			case c.ignore:
				if isUsed || isSkipped {
					t.Fatalf("want ignored, got used=%v skipped=%q", isUsed, why)
				}
			case c.reason != "":
				if !isSkipped || !strings.Contains(why, c.reason) {
					t.Fatalf("want skipped with %q, got used=%v reason=%q", c.reason, isUsed, why)
				}
			default:
				if !isUsed {
					t.Fatalf("want used, got skipped with %q", why)
				}
				info := sum.Used[i]
				if info.Format != c.format || info.Width != c.w || info.Height != c.h || info.Gray != c.gray {
					t.Errorf("got %+v, want format %s %dx%d gray=%v", info, c.format, c.w, c.h, c.gray)
				}
				wi := ds.images[i]
				if p := wi.levels[0]; p.w != c.w || p.h != c.h || len(p.pix) != p.w*p.h*p.c {
					t.Errorf("working copy is %dx%dx%d with %d bytes", p.w, p.h, p.c, len(p.pix))
				}
				if c.check != nil {
					c.check(t, wi)
				}
			}
		})
	}
	// Used and Skipped are sorted by path.
	for i := 1; i < len(sum.Used); i++ {
		if sum.Used[i-1].Path >= sum.Used[i].Path {
			t.Errorf("Used not sorted: %q before %q", sum.Used[i-1].Path, sum.Used[i].Path)
		}
	}
	var text bytes.Buffer
	if err := sum.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("%d images used", len(sum.Used)),
		`"\xffodd name.png"`,
		"truncated.png: truncated PNG: unexpected EOF",
		"bomb.png: 30000x30000 is 900 megapixels, above the 100 megapixel limit",
		"megapixels",
		"Fingerprint: " + sum.Fingerprint,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary text lacks %q:\n%s", want, text.String())
		}
	}
	if !utf8Valid(text.String()) {
		t.Error("summary text is not valid UTF-8")
	}
	// JSON keeps the exact bytes of a name that is not UTF-8 (path_bytes), and only there
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Used []struct {
			Path      string `json:"path"`
			PathBytes []byte `json:"path_bytes"`
		} `json:"used"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	raw := 0
	for _, u := range back.Used {
		if u.PathBytes != nil {
			raw++
			if string(u.PathBytes) != "\xffodd name.png" {
				t.Errorf("path_bytes %q, want the name's bytes", u.PathBytes)
			}
		}
	}
	if raw != 1 || len(back.Used) != len(sum.Used) {
		t.Errorf("JSON: %d of %d used images carry path_bytes, want exactly the non-UTF-8 one:\n%s", raw, len(back.Used), js)
	}
	thumbs := ds.Thumbnails(20)
	if len(thumbs) != ds.Len() {
		t.Fatalf("%d thumbnails for %d images", len(thumbs), ds.Len())
	}
	for i, th := range thumbs {
		r := th.Bounds()
		if max(r.Dx(), r.Dy()) != 20 {
			t.Errorf("thumbnail %d is %v", i, r)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestLoadDeterministic loads twice: same summary whatever the worker
// timing, and the fingerprint changes with one byte of one file.
func TestLoadDeterministic(t *testing.T) {
	dir := t.TempDir()
	for i := range 6 {
		writeFile(t, dir, fmt.Sprintf("d%d/img%d.png", i%2, i), encPNG(t, gradient(30+i, 20)))
	}
	writeFile(t, dir, "bad.png", []byte("nope"))
	a, err := Load(context.Background(), dir, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(context.Background(), dir, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Summary(), b.Summary()) {
		t.Fatalf("summaries differ:\n%+v\n%+v", a.Summary(), b.Summary())
	}
	if len(a.Summary().Fingerprint) != 64 {
		t.Fatalf("fingerprint %q", a.Summary().Fingerprint)
	}
	writeFile(t, dir, "d0/img0.png", encPNG(t, gradient(30, 21)))
	c, err := Load(context.Background(), dir, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	if c.Summary().Fingerprint == a.Summary().Fingerprint {
		t.Fatal("fingerprint did not change with the data")
	}
}

func TestLoadErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file.png")
	writeFile(t, base, "file.png", encPNG(t, gradient(10, 10)))
	empty := filepath.Join(base, "empty")
	writeFile(t, empty, ".DS_Store", []byte("x")) // hidden files do not count
	docs := filepath.Join(base, "docs")
	writeFile(t, docs, "a.pdf", []byte("%PDF"))
	bad := filepath.Join(base, "bad")
	writeFile(t, bad, "a.png", []byte("junk"))
	writeFile(t, bad, "sub/b.jpg", nil)
	writeFile(t, bad, "notes.txt", []byte("x"))
	missing := filepath.Join(base, "missing")

	for _, tc := range []struct {
		dir  string
		want string
		is   error
	}{
		{missing, "no such folder: " + missing, fs.ErrNotExist},
		{file, file + " is not a folder", nil},
		{empty, empty + " contains no files", nil},
		{docs, docs + " contains no image files (PNG, JPEG, GIF, BMP, TIFF or WebP)", nil},
		{bad, "none of the 2 image files in " + bad + " could be used: see the skipped list", nil},
	} {
		_, err := Load(context.Background(), tc.dir, DefaultOptions())
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%s) error = %v, want %q", tc.dir, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Load(%s) error %v is not %v", tc.dir, err, tc.is)
		}
	}
	_, err := Load(context.Background(), bad, DefaultOptions())
	var nie *NoImagesError
	if !errors.As(err, &nie) {
		t.Fatalf("error %T is not *NoImagesError", err)
	}
	if got := len(nie.Summary.Skipped); got != 2 || nie.Summary.Skipped[0].Reason != "not an image: unknown format" || nie.Summary.Skipped[1].Reason != "empty file" {
		t.Errorf("skipped = %+v", nie.Summary.Skipped)
	}
	if _, err := Load(context.Background(), base, Options{MinSide: 2000}); err == nil || !strings.Contains(err.Error(), "MinSide 2000 is above MaxSide 1024") {
		t.Errorf("bad options error = %v", err)
	}
}

func TestLoadCancelled(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		writeFile(t, dir, fmt.Sprintf("%d.png", i), encPNG(t, gradient(16, 16)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, dir, fixtureOptions); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load with a cancelled context: %v", err)
	}
	if _, err := LoadFS(ctx, os.DirFS(dir), "dirfs", fixtureOptions); !errors.Is(err, context.Canceled) {
		t.Fatalf("LoadFS with a cancelled context: %v", err)
	}
}

func TestLoadOptions(t *testing.T) {
	fsys := fstest.MapFS{
		"a.png":      {Data: encPNG(t, gradient(40, 40))},
		"b.png":      {Data: encPNG(t, gradient(40, 40))},
		"c.png":      {Data: encPNG(t, gradient(40, 40))},
		"dot.png":    {Data: encPNG(t, gradient(1, 1))},
		"narrow.png": {Data: encPNG(t, gradient(2, 100))},
	}
	// Upscaling: 1x1 becomes 8x8; 2x100 would need a 400 pixel long side.
	ds, err := LoadFS(context.Background(), fsys, "mem", Options{MaxSide: 128, MinSide: 8, Upscale: true})
	if err != nil {
		t.Fatal(err)
	}
	s := ds.Summary()
	if len(s.Used) != 4 || s.Used[3].Path != "dot.png" || !s.Used[3].Upscaled || s.Used[3].Width != 8 || s.Used[3].Height != 8 {
		t.Errorf("used = %+v", s.Used)
	}
	if len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0].Reason, "too narrow") {
		t.Errorf("skipped = %+v", s.Skipped)
	}
	// The cache cap keeps the first images in path order.
	one := pyramidBytes(40, 40, 3)
	ds, err = LoadFS(context.Background(), fsys, "mem", Options{MaxSide: 128, MinSide: 8, CacheBytes: 2*one + 1})
	if err != nil {
		t.Fatal(err)
	}
	s = ds.Summary()
	if len(s.Used) != 2 || s.Used[0].Path != "a.png" || s.Used[1].Path != "b.png" {
		t.Errorf("used = %+v", s.Used)
	}
	if len(s.Skipped) != 3 || !strings.Contains(s.Skipped[0].Reason, "memory cap") {
		t.Errorf("skipped = %+v", s.Skipped)
	}
}

// deniedFS refuses to open or list one name, to test permission errors
// even as root.
type deniedFS struct {
	fstest.MapFS
	name string
}

func (d deniedFS) Open(name string) (fs.File, error) {
	if name == d.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.Open(name)
}

func (d deniedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == d.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.ReadDir(name)
}

func TestLoadFSPermission(t *testing.T) {
	fsys := deniedFS{fstest.MapFS{
		"ok.png":     {Data: encPNG(t, gradient(16, 16))},
		"locked.png": {Data: encPNG(t, gradient(16, 16))},
	}, "locked.png"}
	ds, err := LoadFS(context.Background(), fsys, "mem", fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	s := ds.Summary()
	if len(s.Skipped) != 1 || s.Skipped[0] != (Skipped{"locked.png", "permission denied"}) {
		t.Errorf("skipped = %+v", s.Skipped)
	}
	fsys.MapFS["private/a.png"] = &fstest.MapFile{Data: encPNG(t, gradient(16, 16))}
	fsys.name = "private"
	ds, err = LoadFS(context.Background(), fsys, "mem", fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	s = ds.Summary()
	if len(s.Skipped) != 1 || s.Skipped[0] != (Skipped{"private/", "cannot read folder: permission denied"}) {
		t.Errorf("skipped = %+v", s.Skipped)
	}
	fsys.name = "."
	if _, err := LoadFS(context.Background(), fsys, "mem", fixtureOptions); err == nil || err.Error() != "cannot read folder mem: permission denied" {
		t.Errorf("unreadable root: %v", err)
	}
}

func TestLoadBuiltIn(t *testing.T) {
	ds, err := LoadFS(context.Background(), assets.Textures(), assets.DefaultSetName, Options{MaxSide: 256})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || len(ds.Summary().Skipped) != 0 {
		var b bytes.Buffer
		ds.Summary().WriteText(&b)
		t.Fatalf("built-in set:\n%s", b.String())
	}
}

// TestBombHeader checks that a 30000x30000 PNG header is refused quickly
// without allocating its pixels.
func TestBombHeader(t *testing.T) {
	b := bombPNG(30000, 30000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, _, err := decodeBytes(b, DefaultOptions())
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil || err.Error() != "30000x30000 is 900 megapixels, above the 100 megapixel limit" {
		t.Fatalf("err = %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", alloc)
	}
	if elapsed > time.Second {
		t.Errorf("refusing the bomb took %v", elapsed)
	}
}

func TestJPEGOrientation(t *testing.T) {
	jpg := encJPEG(t, gradient(16, 16))
	if got := jpegOrientation(jpg); got != 1 {
		t.Errorf("no EXIF: orientation %d", got)
	}
	for o := 1; o <= 8; o++ {
		for _, big := range []bool{false, true} {
			if got := jpegOrientation(withOrientation(jpg, uint16(o), big)); got != o {
				t.Errorf("orientation %d (big endian %v): got %d", o, big, got)
			}
		}
	}
	for _, b := range [][]byte{nil, {0xff, 0xd8}, withOrientation(jpg, 9, true), withOrientation(jpg, 6, true)[:30]} {
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("bad input %x: orientation %d", b, got)
		}
	}
}

func TestCMYKConversion(t *testing.T) {
	img := image.NewCMYK(image.Rect(0, 0, 3, 1))
	cols := []color.CMYK{{0, 0, 0, 0}, {255, 0, 0, 0}, {10, 80, 160, 40}}
	for x, c := range cols {
		img.SetCMYK(x, 0, c)
	}
	row := make([]uint8, 9)
	rowConverter(img, 3)(0, row)
	for x, c := range cols {
		r, g, b := color.CMYKToRGB(c.C, c.M, c.Y, c.K)
		if got := [3]uint8(row[3*x : 3*x+3]); got != [3]uint8{r, g, b} {
			t.Errorf("CMYK %v -> %v, want %v", c, got, [3]uint8{r, g, b})
		}
	}
}
