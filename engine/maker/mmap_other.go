//go:build !unix

package maker

// fileMaps would hold a mapping per file; without mmap (Windows) every
// entry stays nil, so hashPieces reads every file with ReadAt into the
// worker's buffer: positioned reads, like pread on Unix.
type fileMaps [][]byte

// mapFiles maps nothing.
func mapFiles(plan *Plan) (fileMaps, error) { return make(fileMaps, len(plan.Files)), nil }

func (fileMaps) close() {}
