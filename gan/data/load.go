package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// NoImagesError is returned by Load and LoadFS when a folder has files but
// no usable image. Summary.Skipped lists why each image file was refused.
type NoImagesError struct {
	// Images is the number of image files found (by extension or content).
	Images int
	// Summary is the load summary; Used is empty.
	Summary Summary
}

// Error describes the problem in one sentence.
func (e *NoImagesError) Error() string {
	if e.Images == 0 {
		return fmt.Sprintf("%s contains no image files (PNG, JPEG, GIF, BMP, TIFF or WebP)", display(e.Summary.Source))
	}
	return fmt.Sprintf("none of the %s in %s could be used: see the skipped list", plural(e.Images, "image file"), display(e.Summary.Source))
}

// folderError is an error about the folder itself, with a message meant for
// users that still matches errors.Is against the underlying cause.
type folderError struct {
	msg string
	err error
}

func (e *folderError) Error() string { return e.msg }
func (e *folderError) Unwrap() error { return e.err }

// maxDepth bounds folder nesting (a guard against cycles the inode check
// cannot see, e.g. in a custom fs.FS).
const maxDepth = 64

// Load loads every usable image under the folder dir, recursively. Images
// that cannot be used are listed in the summary's Skipped list; Load fails
// only if the folder is missing or unreadable, has no files, or has no
// usable image (*NoImagesError). It returns ctx.Err() if ctx is cancelled.
func Load(ctx context.Context, dir string, opt Options) (*Dataset, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &folderError{fmt.Sprintf("no such folder: %s", display(dir)), err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &folderError{fmt.Sprintf("cannot read folder %s: permission denied", display(dir)), err}
	case err != nil:
		return nil, fmt.Errorf("cannot open folder %s: %w", display(dir), err)
	case !fi.IsDir():
		return nil, &folderError{fmt.Sprintf("%s is not a folder", display(dir)), nil}
	}
	return load(ctx, osTree{dir}, dir, opt)
}

// LoadFS is Load for a folder of an fs.FS, such as an embed.FS; name labels
// it in messages. The folder is fsys's root.
func LoadFS(ctx context.Context, fsys fs.FS, name string, opt Options) (*Dataset, error) {
	if fsys == nil {
		return nil, fmt.Errorf("loading %s: nil file system", display(name))
	}
	return load(ctx, fsTree{fsys}, name, opt)
}

// tree abstracts a folder on disk (which may have non-UTF-8 names, refused
// by io/fs) and an fs.FS. Names are slash-separated and relative.
type tree interface {
	readDir(name string) ([]fs.DirEntry, error)
	stat(name string) (fs.FileInfo, error) // follows symbolic links
	open(name string) (fs.File, error)
}

type osTree struct{ root string }

func (t osTree) path(name string) string {
	if name == "." {
		return t.root
	}
	return filepath.Join(t.root, filepath.FromSlash(name))
}
func (t osTree) readDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(t.path(name)) }
func (t osTree) stat(name string) (fs.FileInfo, error)      { return os.Stat(t.path(name)) }
func (t osTree) open(name string) (fs.File, error)          { return os.Open(t.path(name)) }

type fsTree struct{ fsys fs.FS }

func (t fsTree) readDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.fsys, name) }
func (t fsTree) stat(name string) (fs.FileInfo, error)      { return fs.Stat(t.fsys, name) }
func (t fsTree) open(name string) (fs.File, error)          { return t.fsys.Open(name) }

// imageExt reports whether a file name has an extension of images, whose
// files are reported when unusable; unsupported names a format Tessera
// knows but cannot decode.
func imageExt(name string) (ok bool, unsupported string) {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".dib", ".tif", ".tiff", ".webp":
		return true, ""
	case ".heic":
		return true, "HEIC"
	case ".heif":
		return true, "HEIF"
	case ".avif":
		return true, "AVIF"
	case ".jxl":
		return true, "JPEG XL"
	case ".psd":
		return true, "Photoshop"
	case ".svg":
		return true, "SVG"
	}
	return false, ""
}

// walker collects the candidate image files of a tree.
type walker struct {
	ctx     context.Context
	t       tree
	files   int      // regular, non-hidden files seen
	cands   []string // image files (by extension or content)
	skipped []Skipped
	visited []visitedDir
}

type visitedDir struct {
	path string
	fi   fs.FileInfo
}

// dir walks folder name. Errors other than on the root become skips.
func (w *walker) dir(name string, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := w.t.readDir(name)
	if err != nil {
		if name == "." {
			return err
		}
		w.skip(name+"/", "cannot read folder: "+reason(err))
		return nil
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := e.Name()
		if name != "." {
			p = name + "/" + p
		}
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := w.t.stat(p)
			if err != nil {
				if ok, _ := imageExt(p); ok {
					w.files++
					w.skip(p, "cannot follow symbolic link: "+reason(err))
				}
				continue
			}
			mode = fi.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if err := w.subdir(p, depth+1); err != nil {
				return err
			}
		case mode.IsRegular():
			w.file(p)
		}
		// Devices, pipes and sockets are ignored: reading them may block.
	}
	return nil
}

// subdir walks a child folder unless it was already visited.
func (w *walker) subdir(p string, depth int) error {
	fi, err := w.t.stat(p)
	if err != nil {
		w.skip(p+"/", "cannot read folder: "+reason(err))
		return nil
	}
	for _, v := range w.visited {
		if os.SameFile(v.fi, fi) {
			same := "the loaded folder itself"
			if v.path != "." {
				same = display(v.path) + "/"
			}
			w.skip(p+"/", fmt.Sprintf("same folder as %s (symbolic link loop or duplicate link): not loaded twice", same))
			return nil
		}
	}
	if depth > maxDepth {
		w.skip(p+"/", fmt.Sprintf("folders nested more than %d deep are not loaded", maxDepth))
		return nil
	}
	w.visited = append(w.visited, visitedDir{p, fi})
	return w.dir(p, depth)
}

// file records a regular file: a candidate if it has an image extension or
// image content.
func (w *walker) file(p string) {
	w.files++
	if ok, _ := imageExt(p); ok || w.sniff(p) {
		w.cands = append(w.cands, p)
	}
}

// sniff reports whether the file starts like a registered image format.
func (w *walker) sniff(p string) bool {
	f, err := w.t.open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	_, _, err = image.DecodeConfig(bytes.NewReader(head[:n]))
	return n > 0 && !errors.Is(err, image.ErrFormat)
}

func (w *walker) skip(p, why string) { w.skipped = append(w.skipped, Skipped{Path: p, Reason: why}) }

// reason renders a file system error without repeating the path.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	}
	return err.Error()
}

// outcome is what a worker learned about one candidate file.
type outcome struct {
	hd        header
	early     error // refused before the cache check (unreadable, bad header)
	cacheFull bool  // not decoded: it cannot fit the cache
	late      error // refused while decoding
	img       *workImage
	size      int64
	sum       [sha256.Size]byte
}

// load is Load and LoadFS after their own checks.
func load(ctx context.Context, t tree, label string, opt Options) (*Dataset, error) {
	opt = opt.withDefaults()
	if opt.MinSide > opt.MaxSide {
		return nil, fmt.Errorf("loading %s: MinSide %d is above MaxSide %d", display(label), opt.MinSide, opt.MaxSide)
	}
	w := &walker{ctx: ctx, t: t}
	if fi, err := t.stat("."); err == nil {
		w.visited = append(w.visited, visitedDir{".", fi})
	}
	if err := w.dir(".", 0); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, &folderError{fmt.Sprintf("cannot read folder %s: permission denied", display(label)), err}
		}
		return nil, fmt.Errorf("cannot read folder %s: %w", display(label), err)
	}
	if w.files == 0 && len(w.skipped) == 0 {
		return nil, &folderError{fmt.Sprintf("%s contains no files", display(label)), nil}
	}
	sort.Strings(w.cands)

	// Decode with a small worker pool; a collector takes the results in
	// path order so that every decision, the cache cap included, is the
	// same whatever the timing.
	var used atomic.Int64 // bytes of working copies accepted so far
	n := len(w.cands)
	slots := make([]chan outcome, n)
	for i := range slots {
		slots[i] = make(chan outcome, 1)
	}
	workers := min(2, runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancel(ctx)
	inflight := make(chan struct{}, workers+1) // bounds decoded images waiting for the collector
	jobs := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // feeder
		defer wg.Done()
		defer close(jobs)
		for i := range n {
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				slots[i] <- process(ctx, t, w.cands[i], opt, &used)
			}
		}()
	}
	defer func() {
		cancel() // stops the feeder and idle workers on early returns
		wg.Wait()
	}()

	ds := &Dataset{}
	sum := &ds.summary
	sum.Source = label
	sum.Skipped = w.skipped
	fp := sha256.New()
	for i, p := range w.cands {
		var o outcome
		select {
		case o = <-slots[i]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		<-inflight
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case o.early != nil:
			sum.Skipped = append(sum.Skipped, Skipped{p, o.early.Error()})
			continue
		case o.cacheFull || used.Load()+o.hd.bytes > opt.CacheBytes:
			sum.Skipped = append(sum.Skipped, Skipped{p, fmt.Sprintf("not loaded: the working copies would exceed the %s memory cap (CacheBytes)", mib(opt.CacheBytes))})
			continue
		case o.late != nil:
			sum.Skipped = append(sum.Skipped, Skipped{p, o.late.Error()})
			continue
		}
		used.Add(o.hd.bytes)
		hd := o.hd
		sum.Used = append(sum.Used, ImageInfo{
			Path: p, Width: hd.w, Height: hd.h, OrigWidth: hd.origW, OrigHeight: hd.origH,
			Format: hd.format, Gray: hd.channels == 1, Upscaled: hd.upscaled,
		})
		sum.TotalPixels += int64(hd.w) * int64(hd.h)
		ds.images = append(ds.images, o.img)
		area := float64(hd.w) * float64(hd.h)
		if k := len(ds.cum); k > 0 {
			area += ds.cum[k-1]
		}
		ds.cum = append(ds.cum, area)
		var num [8]byte
		binary.BigEndian.PutUint64(num[:], uint64(len(p)))
		fp.Write(num[:])
		io.WriteString(fp, p)
		binary.BigEndian.PutUint64(num[:], uint64(o.size))
		fp.Write(num[:])
		fp.Write(o.sum[:])
	}
	sort.SliceStable(sum.Skipped, func(a, b int) bool { return sum.Skipped[a].Path < sum.Skipped[b].Path })
	if len(ds.images) == 0 {
		return nil, &NoImagesError{Images: n, Summary: ds.summary}
	}
	sum.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	return ds, nil
}

// process reads and decodes one candidate file.
func process(ctx context.Context, t tree, p string, opt Options, used *atomic.Int64) (o outcome) {
	if ctx.Err() != nil {
		return outcome{early: ctx.Err()}
	}
	b, err := readFile(t, p, opt)
	if err != nil {
		return outcome{early: err}
	}
	o.size = int64(len(b))
	o.hd, err = inspect(b, opt)
	if err != nil {
		if _, u := imageExt(p); u != "" && err == errUnknownFormat {
			err = reasonf("%s images are not supported: convert to PNG or JPEG", u)
		}
		o.early = err
		return o
	}
	// The accepted total only grows, so a file that cannot fit now will not
	// fit when the collector reaches it either: skip the decoding.
	if used.Load()+o.hd.bytes > opt.CacheBytes {
		o.cacheFull = true
		return o
	}
	o.img, o.hd, o.late = decodeImage(b, o.hd, opt)
	o.sum = sha256.Sum256(b)
	return o
}

// readFile reads a candidate file, refusing empty and absurdly large ones.
func readFile(t tree, p string, opt Options) ([]byte, error) {
	f, err := t.open(p)
	if err != nil {
		return nil, reasonf("%s", reason(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, reasonf("%s", reason(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, reasonf("not a regular file")
	}
	// No image format stores more than 8 bytes per pixel uncompressed.
	limit := opt.MaxPixels*8 + 1<<20
	size := fi.Size()
	switch {
	case size == 0:
		return nil, reasonf("empty file")
	case size > limit:
		return nil, reasonf("file is %s, too large for a %s megapixel image", mib(size), megapixels(opt.MaxPixels))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, reasonf("%s", reason(err))
	}
	if len(b) == 0 {
		return nil, reasonf("empty file")
	}
	return b, nil
}

// mib formats a byte count in MiB or GiB.
func mib(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
