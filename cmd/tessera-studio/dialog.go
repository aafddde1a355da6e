//go:build !nodialog

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/sqweek/dialog"
)

// chooseFolder returns the native folder dialog (GTK3 through sqweek/dialog), or nil where it
// cannot work (no X display): the studio then offers typed paths only.
func chooseFolder() func(title, start string) (string, error) {
	if os.Getenv("DISPLAY") == "" {
		return nil
	}
	return func(title, start string) (path string, err error) {
		defer func() {
			if r := recover(); r != nil { // the GTK binding panics where it cannot open
				path, err = "", fmt.Errorf("the folder dialog failed: %v", r)
			}
		}()
		b := dialog.Directory().Title(title)
		if start != "" {
			b = b.SetStartDir(start)
		}
		path, err = b.Browse()
		if errors.Is(err, dialog.ErrCancelled) {
			return "", nil
		}
		return path, err
	}
}
