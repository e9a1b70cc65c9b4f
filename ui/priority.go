package ui

import "github.com/swarmdrop/swarmdrop/engine"

// filePriority is how much the user wants one file: skipped, normal or
// high.
type filePriority = engine.FilePriority

// File priorities.
const (
	prioritySkip   = engine.PrioritySkip
	priorityNormal = engine.PriorityNormal
	priorityHigh   = engine.PriorityHigh
)

// priorityNames are the priorities as the window writes them.
var priorityNames = map[filePriority]string{prioritySkip: "Skip", priorityNormal: "Normal", priorityHigh: "High"}

// priorityOf reads a priority's name.
func priorityOf(name string) filePriority {
	for p, n := range priorityNames {
		if n == name {
			return p
		}
	}
	return priorityNormal
}
