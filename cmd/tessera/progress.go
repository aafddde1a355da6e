package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
	"tessera/gan/train"
)

// progress prints a run's events: a live progress bar on a terminal, plain log lines otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	lastLine time.Time
	drawn    bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, quiet: quiet}
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) println(format string, args ...any) {
	p.clear()
	fmt.Fprintf(p.w, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}

func (p *progress) event(e train.Event) {
	s := e.Status
	switch e.Kind {
	case train.EventStage:
		p.println("stage: %s", s.Phase)
	case train.EventCheckpoint:
		if !p.quiet {
			p.println("checkpoint written (%s images)", kimgString(s.Images))
		}
	case train.EventLog:
		p.println("%s", e.Message)
	case train.EventStalled:
		p.println("error: %s", e.Message)
	case train.EventRollback:
		p.println("warning: %s", e.Message)
	case train.EventMetrics:
		if len(s.Last.SWD) > 0 {
			p.println("MS-SWD x1e3 at %s images: %s", kimgString(s.Images), formatSWD(s.Last.SWD, s.Last.SWDRes))
		}
	case train.EventProgress:
		if p.quiet {
			return
		}
		if p.tty {
			if time.Since(p.lastLine) < 200*time.Millisecond {
				return
			}
			p.lastLine = time.Now()
			p.clear()
			fmt.Fprint(p.w, bar(s))
			p.drawn = true
			return
		}
		if time.Since(p.lastLine) >= 30*time.Second {
			p.lastLine = time.Now()
			fmt.Fprintln(p.w, time.Now().Format("15:04:05")+" "+line(s))
		}
	}
}

func (p *progress) finish() { p.clear() }

func formatSWD(v []float64, res []int) string {
	var b strings.Builder
	for i, r := range res {
		if i < len(v) {
			fmt.Fprintf(&b, "%dpx %.1f, ", r, v[i])
		}
	}
	if len(v) > 0 {
		fmt.Fprintf(&b, "avg %.1f", v[len(v)-1])
	}
	return b.String()
}

func line(s train.Status) string {
	total := ""
	if s.Total > 0 {
		total = "/" + kimgString(s.Total)
	}
	return fmt.Sprintf("%s  %s%s images  %.1f img/s  %.0f GFLOP/s  W %.3f  GP %.3f  ETA %s",
		s.Phase, kimgString(s.Images), total, s.ImagesPerS, s.GFLOPPerS, s.Last.WDist, s.Last.GP, fmtDur(s.ETA))
}

func bar(s train.Status) string {
	const width = 24
	frac := 0.0
	if s.Total > 0 {
		frac = float64(s.Images) / float64(s.Total)
	}
	n := int(frac * width)
	n = max(0, min(width, n))
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "] " + line(s)
}

func fmtDur(d time.Duration) string {
	if d <= 0 {
		return "?"
	}
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
