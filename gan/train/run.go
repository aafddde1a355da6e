package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"tessera/gan/model"
	"tessera/gan/synth"
)

// Run directory layout:
//
//	checkpoint.tsr   the latest checkpoint (see WriteCheckpoint for the format)
//	config.json      the run's configuration, for people and other tools
//	metrics.jsonl    one JSON object per log interval (see Metrics)
//	samples/         sample grids from fixed latents: <images seen, 9 digits>-<res>px.png
//	samples/latest.png
const (
	CheckpointFile = "checkpoint.tsr"
	ConfigFile     = "config.json"
	MetricsFile    = "metrics.jsonl"
	SamplesDir     = "samples"
)

// Metrics is one line of metrics.jsonl.
type Metrics struct {
	Time       time.Time `json:"time"`
	Elapsed    float64   `json:"elapsed_s"` // training time
	Images     int64     `json:"images"`    // real images shown to the critic
	Iter       int64     `json:"iter"`
	Stage      int       `json:"stage"`
	Res        int       `json:"res"`
	Alpha      float64   `json:"alpha"`
	LossD      float64   `json:"loss_d"`
	LossG      float64   `json:"loss_g"`
	WDist      float64   `json:"wdist"` // critic's Wasserstein estimate
	GP         float64   `json:"gp"`
	Drift      float64   `json:"drift"`
	ImagesPerS float64   `json:"images_per_s"`
	GFLOPPerS  float64   `json:"gflop_per_s"`
	SWD        []float64 `json:"ms_swd,omitempty"` // per level, finest first, then the average (x1e3)
	SWDRes     []int     `json:"ms_swd_res,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// Status is a snapshot of a run for progress displays.
type Status struct {
	Phase      Phase
	Images     int64
	Iter       int64
	Total      int64 // images of the schedule (0: open-ended)
	Elapsed    time.Duration
	ImagesPerS float64
	GFLOPPerS  float64
	ETA        time.Duration // to the end of the schedule (or of the last stage's stabilisation)
	Last       Metrics       // the latest metrics line with losses
	LastSWD    Metrics       // the latest metrics line with MS-SWD
}

// Event is something a run reports while it trains.
type Event struct {
	Kind    EventKind
	Trainer *Trainer // the run's trainer (a rollback replaces it)
	Status  Status
	Grid    image.Image // EventSample: the sample grid
	Message string      // EventLog, EventError
}

// EventKind says what an Event reports.
type EventKind int

const (
	EventProgress   EventKind = iota // an iteration finished
	EventSample                      // a new sample grid
	EventCheckpoint                  // a checkpoint was written
	EventMetrics                     // a metrics line (possibly with MS-SWD) was written
	EventStage                       // a new phase (resolution or fade) started
	EventLog                         // a message for the user
	EventStalled                     // a checkpoint cannot be written: training waits (Message says why)
	EventRollback                    // training diverged and was rolled back (Message says why)
)

// Evaluator computes MS-SWD of generated images against real crops. It returns the per-level
// values (finest first), their resolutions and the average.
type Evaluator func(ctx context.Context, t *Trainer, gen *synth.Generator) (levels []float64, res []int, avg float64, err error)

// RunOptions configures Runner.
type RunOptions struct {
	Dir             string
	CheckpointEvery time.Duration // default 5 minutes
	SampleEvery     int64         // images between sample grids (default 2000)
	LogEvery        int           // iterations between metrics lines (default 10)
	EvalEvery       int64         // images between MS-SWD evaluations (0: only at the end of stages)
	MaxDuration     time.Duration // stop (with a checkpoint) after this much training time; 0: no limit
	Evaluate        Evaluator     // nil: no MS-SWD
	OnEvent         func(Event)   // called on the training goroutine; must not block for long
	// RetryEvery is the wait between attempts to write a checkpoint that could not be written
	// (disk full, directory not writable): training waits rather than run on unsaved.
	RetryEvery time.Duration // default 30 s
	// MaxRollbacks is how many divergences are survived before giving up (default 5).
	MaxRollbacks int
}

// Runner drives a Trainer: it steps it, writes checkpoints, samples and metrics into the run
// directory, and reports progress.
type Runner struct {
	T         *Trainer
	opt       RunOptions
	elapsed   time.Duration // training time before this session
	metrics   *os.File
	fixed     model.Latent // the sample grid's latents
	window    []StepResult
	lastCkp   time.Time
	last      Metrics         // the latest loss line
	lastSWD   Metrics         // the latest evaluation line
	speeds    map[int]float64 // measured images per second at each resolution
	acc       StepResult      // sums of the results since the last loss line
	pending   int             // iterations summed in acc
	rollbacks int             // divergences survived

	metricsFailing bool // the last metrics write failed (reported once)
}

// NewRunner prepares a run directory for t. elapsed is the training time of earlier sessions
// (from the checkpoint when resuming).
func NewRunner(t *Trainer, opt RunOptions, elapsed time.Duration) (*Runner, error) {
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = 5 * time.Minute
	}
	if opt.SampleEvery <= 0 {
		opt.SampleEvery = 2000
	}
	if opt.LogEvery <= 0 {
		opt.LogEvery = 10
	}
	if opt.RetryEvery <= 0 {
		opt.RetryEvery = 30 * time.Second
	}
	if opt.MaxRollbacks <= 0 {
		opt.MaxRollbacks = 5
	}
	if err := os.MkdirAll(filepath.Join(opt.Dir, SamplesDir), 0o755); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	cfg, _ := json.MarshalIndent(t.cfg, "", "  ")
	if err := WriteFileAtomic(filepath.Join(opt.Dir, ConfigFile), func(w io.Writer) error {
		_, err := w.Write(append(cfg, '\n'))
		return err
	}); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(opt.Dir, MetricsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics log: %w", err)
	}
	r := &Runner{T: t, opt: opt, elapsed: elapsed, metrics: f, lastCkp: time.Now()}
	r.fixed = model.RandomLatent(t.cfg.Model, 16, model.BaseRes, rngFor(t.cfg.Seed, streamSamples, 0))
	return r, nil
}

// Close closes the metrics log and the trainer.
func (r *Runner) Close() error {
	r.T.Close()
	return r.metrics.Close()
}

func (r *Runner) emit(e Event) {
	e.Trainer = r.T
	if r.opt.OnEvent != nil {
		r.opt.OnEvent(e)
	}
}

// Elapsed is the total training time so far.
func (r *Runner) Elapsed(session time.Duration) time.Duration { return r.elapsed + session }

// Run trains until the schedule completes, ctx is cancelled or MaxDuration passes; it always
// writes a final checkpoint. It returns nil when the schedule completed or the time ran out, and
// ctx.Err() when cancelled (after saving).
func (r *Runner) Run(ctx context.Context) (err error) {
	var session time.Duration
	lastPhase := Phase{Res: -1}
	defer func() {
		r.warnMetrics(r.flushMetrics(session))
		// a failed final save matters more than the cancellation that led to it
		if serr := r.saveOrWait(ctx, session); serr != nil && (err == nil || ctx.Err() != nil) {
			err = serr
		}
	}()
	if _, serr := os.Stat(filepath.Join(r.opt.Dir, CheckpointFile)); serr != nil {
		// a first checkpoint, so that a divergence or a crash always has a state to return to
		if err := r.saveOrWait(ctx, session); err != nil {
			return err
		}
	}
	for {
		if r.opt.MaxDuration > 0 && r.elapsed+session >= r.opt.MaxDuration {
			r.emit(Event{Kind: EventLog, Message: "time limit reached", Status: r.status(session)})
			return nil
		}
		before := r.T.Phase()
		res, err := r.T.Step(ctx)
		if errors.Is(err, ErrDone) {
			r.writeSample(session)
			r.evaluate(ctx, session, before, "schedule complete")
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		session += res.Duration
		if why := diverged(res, r.T); why != "" {
			if err := r.rollback(ctx, session, why); err != nil {
				return err
			}
			continue
		}
		r.window = append(r.window, res)
		if len(r.window) > 20 {
			r.window = r.window[1:]
		}
		if res.Phase.Res != lastPhase.Res || res.Phase.Fading != lastPhase.Fading {
			r.emit(Event{Kind: EventStage, Status: r.status(session)})
			lastPhase = res.Phase
		}
		r.acc.LossD += res.LossD
		r.acc.LossG += res.LossG
		r.acc.WDist += res.WDist
		r.acc.GP += res.GP
		r.acc.Drift += res.Drift
		r.pending++
		if r.pending >= r.opt.LogEvery {
			r.warnMetrics(r.flushMetrics(session))
		}
		r.emit(Event{Kind: EventProgress, Status: r.status(session)})

		n := int64(r.T.cfg.Batch * r.T.cfg.NCritic)
		after := r.T.Phase()
		if r.T.Images/r.opt.SampleEvery != (r.T.Images-n)/r.opt.SampleEvery || after.Stage != before.Stage {
			r.writeSample(session)
		}
		stageEnded := after.Stage != before.Stage
		if stageEnded {
			done := before
			done.Alpha, done.Fading = 1, false
			r.evaluate(ctx, session, done, fmt.Sprintf("end of the %d px stage", done.Res))
		} else if r.opt.EvalEvery > 0 && r.T.Images/r.opt.EvalEvery != (r.T.Images-n)/r.opt.EvalEvery {
			r.evaluate(ctx, session, after, "")
		}
		if stageEnded || time.Since(r.lastCkp) >= r.opt.CheckpointEvery {
			if err := r.saveOrWait(ctx, session); err != nil {
				return err
			}
		}
	}
}

// flushMetrics writes the averages of the iterations since the last loss line.
func (r *Runner) flushMetrics(session time.Duration) error {
	if r.pending == 0 {
		return nil
	}
	k, a := float64(r.pending), r.acc
	m := r.metricsLine(session)
	m.LossD, m.LossG, m.WDist, m.GP, m.Drift = a.LossD/k, a.LossG/k, a.WDist/k, a.GP/k, a.Drift/k
	r.acc, r.pending = StepResult{}, 0
	return r.writeMetrics(m)
}

func (r *Runner) metricsLine(session time.Duration) Metrics {
	ph := r.T.Phase()
	st := r.status(session)
	return Metrics{Time: time.Now().UTC(), Elapsed: (r.elapsed + session).Seconds(), Images: r.T.Images, Iter: r.T.Iter,
		Stage: ph.Stage, Res: ph.Res, Alpha: ph.Alpha, ImagesPerS: st.ImagesPerS, GFLOPPerS: st.GFLOPPerS}
}

func (r *Runner) writeMetrics(m Metrics) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := r.metrics.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("metrics log: %w", err)
	}
	r.metricsFailing = false
	if len(m.SWD) > 0 {
		r.lastSWD = m
	} else {
		r.last = m
	}
	st := r.status(time.Duration(m.Elapsed*float64(time.Second)) - r.elapsed)
	st.Last = m
	r.emit(Event{Kind: EventMetrics, Status: st})
	return nil
}

// warnMetrics reports a failed metrics write once per run of failures. The metrics log is a
// record, not state: training goes on (a disk that is full also stalls the next checkpoint, which
// waits rather than losing state).
func (r *Runner) warnMetrics(err error) {
	if err == nil || r.metricsFailing {
		return
	}
	r.metricsFailing = true
	r.emit(Event{Kind: EventLog, Message: err.Error() + "; training goes on without it until it can be written"})
}

// status computes speed and the time left from the recent iterations.
func (r *Runner) status(session time.Duration) Status {
	ph := r.T.Phase()
	s := Status{Phase: ph, Images: r.T.Images, Iter: r.T.Iter, Total: r.T.plan.Total(), Elapsed: r.elapsed + session,
		Last: r.last, LastSWD: r.lastSWD}
	var dur time.Duration
	var imgs, flops float64
	for _, w := range r.window {
		if w.Phase.Res != ph.Res || w.Rebuilt {
			continue
		}
		dur += w.Duration
		imgs += float64(r.T.cfg.Batch * r.T.cfg.NCritic)
		flops += w.FLOPs
	}
	if dur > 0 {
		s.ImagesPerS = imgs / dur.Seconds()
		s.GFLOPPerS = flops / dur.Seconds() / 1e9
		if r.speeds == nil {
			r.speeds = map[int]float64{}
		}
		r.speeds[ph.Res] = s.ImagesPerS
		s.ETA = r.eta()
	}
	return s
}

// eta estimates the time left: the images left in each stage at the speed measured at that
// resolution, or, for resolutions not reached yet, at the speed of the highest one measured scaled
// by the relative work per image to the power 0.75 (small images run less efficiently: on this
// project's machines the time per image grows about 20x from 4 to 64 px while the work grows 50x).
func (r *Runner) eta() time.Duration {
	p := r.T.plan
	ph := p.At(r.T.Images)
	ref := 0
	for res := range r.speeds {
		ref = max(ref, res)
	}
	if ref == 0 {
		return 0
	}
	speedAt := func(res int) float64 {
		if v, ok := r.speeds[res]; ok && v > 0 {
			return v
		}
		k := model.CostPerImage(r.T.cfg.Model, res) / model.CostPerImage(r.T.cfg.Model, ref)
		return r.speeds[ref] / math.Pow(k, 0.75)
	}
	var secs float64
	for i := ph.Stage; i < len(p.Res); i++ {
		end := p.StageStart(i + 1)
		if i == len(p.Res)-1 {
			end = p.StageStart(i) + p.stageLen(i) + p.Schedule.Final
		}
		left := end - max(r.T.Images, p.StageStart(i))
		if left <= 0 {
			continue
		}
		secs += float64(left) / speedAt(p.Res[i])
	}
	return time.Duration(secs * float64(time.Second))
}

// Generator returns a generator of the averaged weights at the current phase.
func (t *Trainer) Generator() *synth.Generator {
	ph := t.Phase()
	return synth.New(t.cfg.Model, t.GEMA, ph.Res, ph.Alpha)
}

// SampleGrid renders the fixed-latent sample grid of the averaged generator (4x4 samples).
func (r *Runner) SampleGrid() (image.Image, error) {
	gen := r.T.Generator()
	defer gen.Release()
	imgs, side, err := gen.Generate(r.fixed)
	if err != nil {
		return nil, err
	}
	return synth.Grid(imgs, r.fixed.N, side, 4, 2)
}

func (r *Runner) writeSample(session time.Duration) {
	grid, err := r.SampleGrid()
	if err != nil {
		r.emit(Event{Kind: EventLog, Message: "sample grid: " + err.Error()})
		return
	}
	ph := r.T.Phase()
	name := fmt.Sprintf("%09d-%dpx.png", r.T.Images, ph.Res)
	for _, n := range []string{name, "latest.png"} {
		path := filepath.Join(r.opt.Dir, SamplesDir, n)
		if err := WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, grid) }); err != nil {
			r.emit(Event{Kind: EventLog, Message: err.Error()})
		}
	}
	r.emit(Event{Kind: EventSample, Grid: grid, Status: r.status(session)})
}

// evaluate scores the averaged generator at phase ph (at a stage's end, the stage that just
// completed, at alpha 1).
func (r *Runner) evaluate(ctx context.Context, session time.Duration, ph Phase, note string) {
	if r.opt.Evaluate == nil {
		return
	}
	gen := synth.New(r.T.cfg.Model, r.T.GEMA, ph.Res, ph.Alpha)
	defer gen.Release()
	levels, res, avg, err := r.opt.Evaluate(ctx, r.T, gen)
	if errors.Is(err, ErrNoEvaluation) {
		return
	}
	if err != nil {
		r.emit(Event{Kind: EventLog, Message: "MS-SWD: " + err.Error()})
		return
	}
	m := r.metricsLine(session)
	m.Stage, m.Res, m.Alpha = ph.Stage, ph.Res, ph.Alpha
	m.LossD, m.LossG, m.WDist, m.GP, m.Drift = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	m.SWD, m.SWDRes, m.Note = append(levels, avg), res, note
	r.warnMetrics(r.writeMetrics(sanitize(m)))
}

// sanitize makes an evaluation line JSON-safe: JSON has no NaN, so its loss fields become 0 and
// its Note says that the line carries only the evaluation.
func sanitize(m Metrics) Metrics {
	for _, p := range []*float64{&m.LossD, &m.LossG, &m.WDist, &m.GP, &m.Drift} {
		if math.IsNaN(*p) {
			*p = 0
		}
	}
	if m.Note == "" {
		m.Note = "evaluation"
	}
	return m
}

// saveOrWait writes a checkpoint; when it cannot (disk full, directory gone or read-only) it
// reports the problem and retries every RetryEvery, so that training never runs on without a way
// back. It gives up only when ctx is cancelled.
func (r *Runner) saveOrWait(ctx context.Context, session time.Duration) error {
	for {
		err := r.Save(session)
		if err == nil || errors.Is(err, errNotFinite) {
			return err
		}
		r.emit(Event{Kind: EventStalled, Status: r.status(session),
			Message: fmt.Sprintf("cannot write the checkpoint (%v); training waits and retries every %v", err, r.opt.RetryEvery)})
		select {
		case <-ctx.Done():
			return fmt.Errorf("the last checkpoint could not be written: %w", err)
		case <-time.After(r.opt.RetryEvery):
		}
	}
}

var errNotFinite = errors.New("the weights are not finite")

// Save writes a checkpoint now. It refuses to write weights that are not finite.
func (r *Runner) Save(session time.Duration) error {
	path := filepath.Join(r.opt.Dir, CheckpointFile)
	if name := r.T.nonFinite(); name != "" {
		return fmt.Errorf("%w (%s); not saving", errNotFinite, name)
	}
	if err := WriteCheckpoint(path, r.T.Checkpoint(r.elapsed+session)); err != nil {
		return err
	}
	r.lastCkp = time.Now()
	r.emit(Event{Kind: EventCheckpoint, Status: r.status(session), Message: path})
	return nil
}

// diverged says why an iteration shows divergence ("" if it does not): a loss or estimate that is
// not finite, a critic whose scores run away, or weights that are not finite.
func diverged(res StepResult, t *Trainer) string {
	for _, v := range []struct {
		name string
		x    float64
	}{{"critic loss", res.LossD}, {"generator loss", res.LossG}, {"Wasserstein estimate", res.WDist}, {"gradient penalty", res.GP}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return fmt.Sprintf("the %s is %v", v.name, v.x)
		}
	}
	// D(real)^2 averages below about 100 in healthy runs (the drift term keeps the critic's
	// scores near zero); scores in the thousands mean the critic has run away.
	if res.Drift > 1e6 || math.Abs(res.WDist) > 1e4 {
		return fmt.Sprintf("the critic ran away (Wasserstein estimate %.3g, mean squared real score %.3g)", res.WDist, res.Drift)
	}
	if name := t.nonFinite(); name != "" {
		return "weights are not finite: " + name
	}
	return ""
}

// rollback returns to the last checkpoint with half the learning rate.
func (r *Runner) rollback(ctx context.Context, session time.Duration, why string) error {
	r.rollbacks++
	if r.rollbacks > r.opt.MaxRollbacks {
		return fmt.Errorf("training diverged %d times (last: %s at %d images); giving up", r.rollbacks, why, r.T.Images)
	}
	ck, err := ReadCheckpoint(filepath.Join(r.opt.Dir, CheckpointFile))
	if err != nil {
		return fmt.Errorf("training diverged (%s) and the last checkpoint cannot be read: %w", why, err)
	}
	at := r.T.Images
	ck.Config.LR /= 2
	ck.Config.ClipLR /= 2
	t, err := Resume(ck, r.T.data)
	if err != nil {
		return fmt.Errorf("training diverged (%s) and could not be rolled back: %w", why, err)
	}
	// the optimiser state was saved with the old rate: carry the new one into it
	switch o := t.optG.(type) {
	case *Adam:
		o.LR = ck.Config.LR
		t.optD.(*Adam).LR = ck.Config.LR
	case *RMSProp:
		o.LR = ck.Config.ClipLR
		t.optD.(*RMSProp).LR = ck.Config.ClipLR
	}
	r.T.Close()
	r.T = t
	r.acc, r.pending, r.window = StepResult{}, 0, nil
	msg := fmt.Sprintf("divergence at %d images: %s; rolled back to the checkpoint at %d images with the learning rate halved to %g",
		at, why, ck.Images, ck.Config.LR)
	m := r.metricsLine(session)
	m.Note = msg
	r.warnMetrics(r.writeMetrics(sanitize(m)))
	r.emit(Event{Kind: EventRollback, Status: r.status(session), Message: msg})
	return nil
}

// ClearRun removes the files of a run from dir (its checkpoint, configuration, metrics log and
// sample grids), so that a new run can start there. Other files in dir are left alone.
func ClearRun(dir string) error {
	for _, name := range []string{CheckpointFile, ConfigFile, MetricsFile, SamplesDir} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("clearing the old run: %w", err)
		}
	}
	return nil
}
