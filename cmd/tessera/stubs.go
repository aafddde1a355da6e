package main

import (
	"context"
	"io"
)

func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return usagef("sample: not yet")
}
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return usagef("export: not yet")
}
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return usagef("eval: not yet")
}
func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return usagef("data: not yet")
}
