//go:build nogui

package main

import (
	"os"

	"github.com/swarmdrop/swarmdrop/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], nil))
}
