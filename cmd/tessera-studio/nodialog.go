//go:build nodialog

package main

// chooseFolder: built without native dialogs (tag nodialog); the studio offers typed paths.
func chooseFolder() func(title, start string) (string, error) { return nil }
