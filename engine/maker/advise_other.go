//go:build unix && !linux

package maker

// adviseSequential does nothing where the syscall package has no madvise
// (macOS): the mapping is read without the read-ahead hint.
func adviseSequential([]byte) {}
