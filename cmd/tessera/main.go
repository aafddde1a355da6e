// Command tessera is Tessera's headless command line: it trains the progressive Wasserstein GAN
// on a folder of texture photos, resumes runs, renders samples, evaluates and benchmarks. It does
// not depend on any GUI library, so it runs on a server; its run directories open in the studio.
//
// Exit codes: 0 success, 1 failure, 2 bad usage, 3 unusable data, 4 missing or damaged
// checkpoint, 130 interrupted (after saving a checkpoint).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"tessera/gan/data"
	"tessera/gan/train"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitData        = 3
	exitCheckpoint  = 4
	exitInterrupted = 130
)

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"train", "--out RUNDIR [--data DIR] [flags]", "train on a folder of texture photos (the built-in stone wall set without --data)", runTrain},
		{"resume", "RUNDIR [flags]", "continue a run from its last checkpoint", runResume},
		{"sample", "RUNDIR --out grid.png [--n 16]", "render a grid of samples from a run's averaged generator", runSample},
		{"export", "RUNDIR --size 512 --out PATH [flags]", "export seamless texture PNGs (and normal/height maps)", runExport},
		{"eval", "RUNDIR [--data DIR] [--json]", "MS-SWD of a run's samples against real crops, with the real-vs-real floor", runEval},
		{"bench", "[--res 64] [--batch 16] [--json]", "time full training iterations of the default architecture", runBench},
		{"data", "DIR [--json]", "check a folder of photos: what is used, what is skipped and why", runData},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Tessera grows seamless textures from your photos with a progressive Wasserstein GAN.")
	fmt.Fprintln(w, "\nUsage: tessera COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n          %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tessera COMMAND --help' for a command's flags.")
}

// usageError marks errors in the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, args, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tessera %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing positional arguments before and between flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "tessera: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args[1:], stdout, stderr)
	return exitCode(ctx, err, stderr)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	var noImg *data.NoImagesError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "tessera: %v\n", err)
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "tessera: interrupted")
		return exitInterrupted
	case errors.As(err, &noImg):
		fmt.Fprintf(stderr, "tessera: %v\n", err)
		noImg.Summary.WriteText(stderr)
		return exitData
	case errors.Is(err, errData):
		fmt.Fprintf(stderr, "tessera: %v\n", err)
		return exitData
	case errors.Is(err, train.ErrNotCheckpoint), errors.Is(err, errCheckpoint):
		fmt.Fprintf(stderr, "tessera: %v\n", err)
		return exitCheckpoint
	}
	fmt.Fprintf(stderr, "tessera: %v\n", err)
	return exitFailure
}

var (
	errData       = errors.New("data")
	errCheckpoint = errors.New("checkpoint")
)

// dataErr marks an error as a data problem (exit code 3).
func dataErr(err error) error {
	var noImg *data.NoImagesError
	if errors.As(err, &noImg) {
		return err
	}
	return kindError{err, errData}
}

// checkpointErr marks an error as a checkpoint problem (exit code 4).
func checkpointErr(err error) error { return kindError{err, errCheckpoint} }

// kindError tags an error with a kind for the exit code, keeping its message.
type kindError struct{ err, kind error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.err, e.kind} }
