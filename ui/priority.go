package ui

// filePriority is how much the user wants one file: skipped, normal or
// high. It stands for engine.FilePriority (issue 15's engine API), which
// replaces it once the engine has it.
type filePriority = int8

// File priorities, as the engine numbers them.
const (
	prioritySkip   filePriority = -1
	priorityNormal filePriority = 0
	priorityHigh   filePriority = 1
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
