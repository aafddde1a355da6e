package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tessera/gan/data"
	"tessera/gan/model"
	"tessera/gan/synth"
	"tessera/gan/train"
)

// State is what a session is doing.
type State int

const (
	Idle     State = iota // no run open
	Loading               // loading data or a checkpoint
	Training              // training in the background
	Paused                // training paused (the trainer waits between iterations)
	Stopping              // saving a checkpoint before stopping
	Stopped               // a run is open and saved; it can continue
	Finished              // the run's schedule is complete
	Failed                // the last operation failed (see Snapshot.Err)
)

var stateNames = [...]string{"idle", "loading", "training", "paused", "stopping", "stopped", "finished", "failed"}

func (s State) String() string { return stateNames[s] }

// Busy reports whether training is running or about to.
func (s State) Busy() bool { return s == Loading || s == Training || s == Paused || s == Stopping }

// Model is a frozen copy of a run's averaged generator, for exploring and exporting while
// training goes on.
type Model struct {
	Config model.Config
	Res    int
	Alpha  float64
	Params *model.Params
	Images int64
	RunDir string
	Seed   uint64
}

// Generator returns a generator running this model.
func (m *Model) Generator() *synth.Generator { return synth.New(m.Config, m.Params, m.Res, m.Alpha) }

// DataInfo describes the loaded training data.
type DataInfo struct {
	Summary data.Summary
	Thumbs  []image.Image
}

// Snapshot is an immutable view of a session. The UI reads the latest one without locking; the
// training goroutine publishes a new one whenever something changes.
type Snapshot struct {
	Version uint64
	State   State
	RunDir  string
	Config  train.Config
	Status  train.Status
	Grid    *image.NRGBA // latest sample grid (never modified once published)
	History []train.Metrics
	Evals   []train.Metrics
	Data    *DataInfo
	Model   *Model
	Err     error
	Log     []string // recent messages, newest last
}

// Session runs one training run at a time in a background goroutine.
type Session struct {
	invalidate func()
	snap       atomic.Pointer[Snapshot]
	version    atomic.Uint64

	redraw     sync.Mutex // guards the two fields below
	lastRedraw time.Time
	pending    bool // a delayed redraw request is scheduled

	mu      sync.Mutex // guards the fields below and serialises publishing
	ds      *data.Dataset
	dsSrc   string
	cancel  context.CancelFunc
	done    chan struct{} // closed when the worker goroutine ends
	paused  bool
	resume  chan struct{} // closed to wake a paused trainer
	runner  *train.Runner
	closing bool
}

// NewSession returns an idle session; invalidate is called (from any goroutine) after each new
// snapshot, to ask the UI for a frame.
func NewSession(invalidate func()) *Session {
	if invalidate == nil {
		invalidate = func() {}
	}
	s := &Session{invalidate: invalidate}
	s.snap.Store(&Snapshot{})
	return s
}

// Snapshot returns the latest snapshot. It never blocks.
func (s *Session) Snapshot() *Snapshot { return s.snap.Load() }

// update publishes a modified copy of the current snapshot. Callers hold s.mu.
func (s *Session) update(f func(*Snapshot)) {
	next := *s.snap.Load()
	f(&next)
	next.Version = s.version.Add(1)
	s.snap.Store(&next)
	s.requestRedraw()
}

// minRedraw is the shortest interval between the redraws the session asks for: at low
// resolutions an iteration takes a few milliseconds, and a frame drawn for each would take CPU
// from training for no visible gain.
const minRedraw = 200 * time.Millisecond

// requestRedraw asks the UI for a frame, at most once per minRedraw; a request that comes too
// soon is delayed, never dropped, so the latest snapshot is always drawn.
func (s *Session) requestRedraw() {
	s.redraw.Lock()
	defer s.redraw.Unlock()
	wait := minRedraw - time.Since(s.lastRedraw)
	if wait <= 0 {
		s.lastRedraw = time.Now()
		s.invalidate()
		return
	}
	if !s.pending {
		s.pending = true
		time.AfterFunc(wait, func() {
			s.redraw.Lock()
			s.pending = false
			s.lastRedraw = time.Now()
			s.redraw.Unlock()
			s.invalidate()
		})
	}
}

func (s *Session) publish(f func(*Snapshot)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.update(f)
}

func appendLog(log []string, msg string) []string {
	out := append(append([]string(nil), log...), time.Now().Format("15:04:05")+"  "+msg)
	if len(out) > 50 {
		out = out[len(out)-50:]
	}
	return out
}

// Logf adds a message to the session log.
func (s *Session) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.publish(func(n *Snapshot) { n.Log = appendLog(n.Log, msg) })
}

// LoadData loads a data source in the background (a folder, or train.BuiltinSource) and
// publishes its summary and thumbnails. It returns at once; it fails while training runs.
func (s *Session) LoadData(source string, maxRes int, upscale bool) error {
	s.mu.Lock()
	if s.done != nil {
		s.mu.Unlock()
		return errors.New("stop training before changing the data")
	}
	done := make(chan struct{})
	s.done = done
	prev := s.snap.Load().State
	s.update(func(n *Snapshot) { n.State, n.Err = Loading, nil; n.Log = appendLog(n.Log, "loading "+source) })
	s.mu.Unlock()
	go func() {
		defer s.finish(done)
		opt := data.DefaultOptions()
		opt.MinSide, opt.Upscale = maxRes, upscale
		ds, err := train.LoadData(context.Background(), source, opt)
		s.mu.Lock()
		defer s.mu.Unlock()
		defer s.endLocked(done)
		if err != nil {
			var info *DataInfo
			var ni *data.NoImagesError
			if errors.As(err, &ni) {
				info = &DataInfo{Summary: ni.Summary}
			}
			s.update(func(n *Snapshot) {
				n.State, n.Err = Failed, fmt.Errorf("loading %s: %w", source, err)
				if info != nil {
					n.Data = info
				}
				n.Log = appendLog(n.Log, n.Err.Error())
			})
			return
		}
		s.ds, s.dsSrc = ds, source
		info := &DataInfo{Summary: ds.Summary(), Thumbs: ds.Thumbnails(96)}
		st := prev
		if st == Loading || st == Failed {
			st = Idle
			if s.snap.Load().Model != nil {
				st = Stopped
			}
		}
		s.update(func(n *Snapshot) {
			n.State, n.Data = st, info
			n.Log = appendLog(n.Log, fmt.Sprintf("%d image(s) ready, %d skipped", len(info.Summary.Used), len(info.Summary.Skipped)))
		})
	}()
	return nil
}

// finish marks the worker goroutine as ended (if endLocked has not already) and closes done.
func (s *Session) finish(done chan struct{}) {
	s.mu.Lock()
	s.endLocked(done)
	s.mu.Unlock()
	close(done)
}

// endLocked releases the session from the worker of done. Workers call it in the same critical
// section that publishes their final state, so that a snapshot that is no longer busy never
// meets a session that still refuses to start. Callers hold s.mu.
func (s *Session) endLocked(done chan struct{}) {
	if s.done == done {
		s.done, s.cancel, s.runner = nil, nil, nil
	}
}

// Start begins a new run in a new directory under runsDir, on the loaded data.
func (s *Session) Start(cfg train.Config, runsDir string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return errors.New("a run is already active")
	}
	if s.ds == nil {
		return errors.New("no training data loaded")
	}
	name := time.Now().Format("20060102-150405") + "-" + runName(s.dsSrc)
	dir := filepath.Join(runsDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the run directory: %w", err)
	}
	t, err := train.New(cfg, s.ds)
	if err != nil {
		return err
	}
	s.startLocked(t, dir, 0, nil, nil)
	return nil
}

func runName(src string) string {
	if src == train.BuiltinSource || src == "" {
		return "stone-wall"
	}
	b := filepath.Base(src)
	b = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r < 32 {
			return '-'
		}
		return r
	}, b)
	if b == "" || b == "." {
		return "run"
	}
	return b
}

// Open loads a run directory (made by the studio or by 'tessera train') and shows its samples;
// Continue then resumes training. It loads the run's data in the background.
func (s *Session) Open(dir string) error {
	ck, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.done != nil {
		s.mu.Unlock()
		return errors.New("stop the active run first")
	}
	done := make(chan struct{})
	s.done = done
	s.update(func(n *Snapshot) {
		n.State, n.Err, n.RunDir, n.Config = Loading, nil, dir, ck.Config
		n.Log = appendLog(n.Log, "opening "+dir)
	})
	s.mu.Unlock()
	go func() {
		defer s.finish(done)
		history, evals := readMetrics(filepath.Join(dir, train.MetricsFile))
		t, err := train.Resume(ck, nil)
		if err != nil {
			s.fail(done, err)
			return
		}
		m := modelOf(t, dir)
		grid, _ := sampleGrid(m, ck.Config.Seed)
		// the data, in the background of the background: the run can be explored without it
		opt := train.DataOptions(ck.Config, true)
		ds, derr := train.LoadData(context.Background(), ck.Data.Source, opt)
		s.mu.Lock()
		defer s.mu.Unlock()
		defer s.endLocked(done)
		st := Stopped
		if t.Phase().Done {
			st = Finished
		}
		s.update(func(n *Snapshot) {
			n.State, n.Model, n.Grid, n.History, n.Evals = st, m, grid, history, evals
			n.Status = train.Status{Phase: t.Phase(), Images: t.Images, Iter: t.Iter, Total: t.Plan().Total(), Elapsed: ck.Elapsed}
			if len(history) > 0 {
				n.Status.Last = history[len(history)-1]
			}
			if derr != nil {
				n.Data = nil
				n.Log = appendLog(n.Log, fmt.Sprintf("the run's data (%s) could not be loaded: %v; choose its folder to continue training", ck.Data.Source, derr))
			} else {
				n.Data = &DataInfo{Summary: ds.Summary(), Thumbs: ds.Thumbnails(96)}
				if ds.Summary().Fingerprint != ck.Data.Fingerprint {
					n.Log = appendLog(n.Log, "note: the run's data folder has changed since it was trained")
				}
			}
			n.Log = appendLog(n.Log, fmt.Sprintf("opened %s at %s", dir, t.Phase()))
		})
		if derr == nil {
			s.ds, s.dsSrc = ds, ck.Data.Source
		} else {
			s.ds, s.dsSrc = nil, "" // never continue the run on the previously loaded set by accident
		}
	}()
	return nil
}

// Continue resumes training of the open run from its checkpoint.
func (s *Session) Continue() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snap.Load()
	if s.done != nil {
		return errors.New("a run is already active")
	}
	if snap.RunDir == "" {
		return errors.New("no run is open")
	}
	if s.ds == nil {
		return errors.New("the run's data is not loaded")
	}
	ck, err := train.ReadCheckpoint(filepath.Join(snap.RunDir, train.CheckpointFile))
	if err != nil {
		return err
	}
	t, err := train.Resume(ck, s.ds)
	if err != nil {
		return err
	}
	if t.Phase().Done {
		return errors.New("this run's schedule is complete")
	}
	if fp := s.ds.Summary().Fingerprint; fp != ck.Data.Fingerprint {
		s.update(func(n *Snapshot) {
			n.Log = appendLog(n.Log, fmt.Sprintf("note: continuing on %s, which differs from the data the run was trained on (%s)", s.dsSrc, ck.Data.Source))
		})
	}
	s.startLocked(t, snap.RunDir, ck.Elapsed, snap.History, snap.Evals)
	return nil
}

// startLocked starts the training goroutine. Callers hold s.mu.
func (s *Session) startLocked(t *train.Trainer, dir string, elapsed time.Duration, history, evals []train.Metrics) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.cancel, s.done, s.paused, s.resume = cancel, done, false, make(chan struct{})
	cfg := t.Config()
	s.update(func(n *Snapshot) {
		n.State, n.Err, n.RunDir, n.Config, n.History, n.Evals = Training, nil, dir, cfg, history, evals
		n.Log = appendLog(n.Log, fmt.Sprintf("training %s at %s", filepath.Base(dir), t.Phase()))
	})
	go s.train(ctx, t, dir, elapsed, done)
}

func (s *Session) train(ctx context.Context, t *train.Trainer, dir string, elapsed time.Duration, done chan struct{}) {
	defer s.finish(done)
	opt := train.RunOptions{Dir: dir, Evaluate: train.SWDEvaluator(64), OnEvent: s.onEvent(ctx, dir)}
	r, err := train.NewRunner(t, opt, elapsed)
	if err != nil {
		s.fail(done, err)
		return
	}
	s.mu.Lock()
	s.runner = r
	s.mu.Unlock()
	err = r.Run(ctx)
	t = r.T // a rollback may have replaced it
	r.Close()
	m := modelOf(t, dir)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.endLocked(done)
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		s.update(func(n *Snapshot) {
			n.State, n.Err, n.Model = Failed, err, m
			n.Log = appendLog(n.Log, "training failed: "+err.Error())
		})
	case t.Phase().Done:
		s.update(func(n *Snapshot) { n.State, n.Model = Finished, m; n.Log = appendLog(n.Log, "schedule complete") })
	default:
		s.update(func(n *Snapshot) {
			n.State, n.Model = Stopped, m
			n.Log = appendLog(n.Log, "stopped; checkpoint saved")
		})
	}
}

// fail publishes the failure of the worker of done and releases the session from it.
func (s *Session) fail(done chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.update(func(n *Snapshot) { n.State, n.Err = Failed, err; n.Log = appendLog(n.Log, err.Error()) })
	s.endLocked(done)
}

// onEvent publishes the runner's events, and holds the trainer while the session is paused.
func (s *Session) onEvent(ctx context.Context, dir string) func(train.Event) {
	return func(e train.Event) {
		t := e.Trainer
		switch e.Kind {
		case train.EventProgress:
			s.publish(func(n *Snapshot) { n.Status = e.Status })
			s.waitIfPaused(ctx, t, dir)
		case train.EventSample:
			grid, _ := e.Grid.(*image.NRGBA)
			m := modelOf(t, dir)
			s.publish(func(n *Snapshot) { n.Grid, n.Model, n.Status = grid, m, e.Status })
		case train.EventMetrics:
			s.publish(func(n *Snapshot) {
				if len(e.Status.Last.SWD) > 0 {
					n.Evals = append(n.Evals[:len(n.Evals):len(n.Evals)], e.Status.Last)
				} else {
					n.History = append(n.History[:len(n.History):len(n.History)], e.Status.Last)
				}
				n.Status = e.Status
			})
		case train.EventStage:
			s.publish(func(n *Snapshot) { n.Status = e.Status; n.Log = appendLog(n.Log, "stage: "+e.Status.Phase.String()) })
		case train.EventCheckpoint:
			s.publish(func(n *Snapshot) { n.Log = appendLog(n.Log, "checkpoint saved") })
		case train.EventLog, train.EventStalled:
			s.publish(func(n *Snapshot) { n.Log = appendLog(n.Log, e.Message) })
		case train.EventRollback:
			m := modelOf(t, dir)
			s.publish(func(n *Snapshot) { n.Model, n.Status = m, e.Status; n.Log = appendLog(n.Log, e.Message) })
		}
	}
}

func (s *Session) waitIfPaused(ctx context.Context, t *train.Trainer, dir string) {
	s.mu.Lock()
	if !s.paused {
		s.mu.Unlock()
		return
	}
	wake := s.resume
	m := modelOf(t, dir)
	s.update(func(n *Snapshot) { n.State, n.Model = Paused, m; n.Log = appendLog(n.Log, "paused") })
	s.mu.Unlock()
	select {
	case <-wake:
	case <-ctx.Done():
	}
	s.publish(func(n *Snapshot) {
		if n.State == Paused {
			n.State = Training
			n.Log = appendLog(n.Log, "resumed")
		}
	})
}

// Pause asks the trainer to pause after the current iteration.
func (s *Session) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil && s.cancel != nil && !s.paused {
		s.paused = true
	}
}

// Resume wakes a paused trainer.
func (s *Session) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		s.paused = false
		close(s.resume)
		s.resume = make(chan struct{})
	}
}

// Stop stops training after the current iteration and saves a checkpoint. It returns at once;
// Wait waits for the checkpoint.
func (s *Session) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return
	}
	s.cancel()
	if s.paused {
		s.paused = false
		close(s.resume)
		s.resume = make(chan struct{})
	}
	s.update(func(n *Snapshot) {
		if n.State == Training || n.State == Paused {
			n.State = Stopping
		}
	})
}

// Wait blocks until the background work (loading, training) has ended.
func (s *Session) Wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Close stops training, saves, and waits.
func (s *Session) Close() {
	s.Stop()
	s.Wait()
}

func modelOf(t *train.Trainer, dir string) *Model {
	ph := t.Phase()
	cfg := t.Config()
	return &Model{Config: cfg.Model, Res: ph.Res, Alpha: ph.Alpha, Params: t.GEMA.Clone(), Images: t.Images, RunDir: dir, Seed: cfg.Seed}
}

// sampleGrid renders a 4x4 grid of the model's samples from fixed latents.
func sampleGrid(m *Model, seed uint64) (*image.NRGBA, error) {
	gen := m.Generator()
	defer gen.Release()
	lt := model.RandomLatent(m.Config, 16, model.BaseRes, rngOf(seed, 0))
	imgs, side, err := gen.Generate(lt)
	if err != nil {
		return nil, err
	}
	return synth.Grid(imgs, 16, side, 4, 2)
}

// readMetrics reads a run's metrics log (loss lines and evaluation lines).
func readMetrics(path string) (history, evals []train.Metrics) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var m train.Metrics
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue // a line cut by a crash
		}
		if len(m.SWD) > 0 {
			evals = append(evals, m)
		} else {
			history = append(history, m)
		}
	}
	return history, evals
}
