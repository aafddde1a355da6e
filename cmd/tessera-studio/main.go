// Command tessera-studio is Tessera's desktop studio: it wires the studio's core (package app)
// and its user interface (package ui) to a Gio window. Training runs in the background at a
// lower CPU priority than the window, so the interface stays responsive.
package main

import (
	"flag"
	"fmt"
	"image"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	gioapp "gioui.org/app"
	"gioui.org/io/system"
	"gioui.org/op"
	"gioui.org/unit"

	"tessera/app"
	"tessera/assets"
	"tessera/gan/ops"
	"tessera/gan/train"
	"tessera/ui"
)

func main() {
	runDir := flag.String("run", "", "open this run directory (made by the studio or by 'tessera train')")
	dataDir := flag.String("data", "", "load this folder of photos instead of the last one")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: tessera-studio [--run RUNDIR] [--data DIR]\n\nThe Tessera desktop studio.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := ops.DefaultPool().SetBackground(); err != nil {
		log.Printf("could not lower the training threads' priority: %v", err)
	}
	cfgDir, err := app.ConfigDir()
	if err != nil {
		log.Printf("no config directory (%v): settings will not be kept", err)
	}
	settings, err := app.LoadSettings(cfgDir)
	if err != nil {
		log.Print(err)
	}
	if *dataDir != "" {
		settings.DataDir = train.SourceOf(*dataDir)
	}
	w := new(gioapp.Window)
	w.Option(gioapp.Title("Tessera"), gioapp.Size(unit.Dp(settings.WindowW), unit.Dp(settings.WindowH)),
		gioapp.MinSize(unit.Dp(1000), unit.Dp(640)))
	session := app.NewSession(w.Invalidate)
	// the run first: opening it loads its own data, and the data pane then loads none
	open := *runDir
	if open == "" && *dataDir == "" {
		open = settings.LastRun
	}
	opened := false
	if open != "" {
		if _, err := os.Stat(open); err == nil {
			if err := session.Open(open); err != nil {
				session.Logf("could not open %s: %v", open, err)
			} else {
				opened = true
			}
		} else if *runDir != "" {
			// an explicit --run that is not there is an error; a last run that was deleted is not
			log.Printf("--run %s: %v", open, err)
			session.Logf("could not open %s: %v", open, err)
		}
	}
	u := ui.New(ui.Deps{
		Session: session, Settings: settings, ConfigDir: cfgDir, Invalidate: w.Invalidate,
		ChooseFolder: chooseFolder(), Credits: assets.TextureCredits(), Version: train.Software,
	})
	if opened {
		u.SetTab(ui.TabTrain)
	}

	// SIGINT and SIGTERM close the window, which saves a checkpoint like any close.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		w.Perform(system.ActionClose)
		w.Invalidate() // wake the event loop if it is idle, so it acts on the close
	}()

	go func() {
		loop(w, u, session)
		os.Exit(0)
	}()
	gioapp.Main()
}

func loop(w *gioapp.Window, u *ui.UI, session *app.Session) {
	var ops op.Ops
	title := ""
	var size image.Point
	var frames frameLog
	if path := os.Getenv("TESSERA_FRAME_LOG"); path != "" {
		frames.path = path
	}
	for {
		switch e := w.Event().(type) {
		case gioapp.DestroyEvent:
			frames.write()
			u.Close(size)
			session.Close() // stops training and writes its checkpoint
			if e.Err != nil {
				log.Print(e.Err)
			}
			return
		case gioapp.FrameEvent:
			start := time.Now()
			gtx := gioapp.NewContext(&ops, e)
			u.Layout(gtx)
			laid := time.Now()
			e.Frame(gtx.Ops)
			frames.add(laid.Sub(start), time.Since(laid))
			if e.Metric.PxPerDp > 0 {
				size = image.Pt(int(float32(e.Size.X)/e.Metric.PxPerDp), int(float32(e.Size.Y)/e.Metric.PxPerDp))
			}
			if t := u.Title(); t != title {
				title = t
				w.Option(gioapp.Title(t))
			}
		}
	}
}

// frameLog records how long each frame takes to lay out and to draw (TESSERA_FRAME_LOG=file
// writes both in milliseconds, a line per frame, when the window closes).
type frameLog struct {
	path string
	d    [][2]time.Duration
}

func (f *frameLog) add(layout, draw time.Duration) {
	if f.path != "" {
		f.d = append(f.d, [2]time.Duration{layout, draw})
	}
}

func (f *frameLog) write() {
	if f.path == "" {
		return
	}
	out, err := os.Create(f.path)
	if err != nil {
		log.Print(err)
		return
	}
	defer out.Close()
	for _, d := range f.d {
		fmt.Fprintf(out, "%.3f %.3f\n", d[0].Seconds()*1000, d[1].Seconds()*1000)
	}
}
