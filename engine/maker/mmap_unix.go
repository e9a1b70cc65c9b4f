//go:build unix

package maker

import (
	"fmt"
	"os"
	"syscall"
)

// mapMin is the smallest file hashed through a mapping; smaller ones are
// read (a mapping per small file would cost more than the copy it saves).
const mapMin = 4 << 20

// fileMaps holds a read-only mapping per big file of a plan (nil for the
// others). Mappings are shared by the hashing workers, which only read.
type fileMaps [][]byte

// mapFiles maps the plan's big files. A file whose size changed since the
// scan is an error; one that cannot be mapped is simply read instead.
func mapFiles(plan *Plan) (fileMaps, error) {
	maps := make(fileMaps, len(plan.Files))
	for i, pf := range plan.Files {
		if pf.Pad || pf.Length < mapMin || int64(int(pf.Length)) != pf.Length {
			continue
		}
		f, err := os.Open(pf.Source)
		if err != nil {
			maps.close()
			return nil, fmt.Errorf("cannot read %s: %w", pf.Source, unwrapPath(err))
		}
		fi, err := f.Stat()
		if err == nil && fi.Size() != pf.Length {
			err = fmt.Errorf("%s changed since it was scanned (%d bytes, now %d)", pf.Source, pf.Length, fi.Size())
		}
		if err != nil {
			f.Close()
			maps.close()
			return nil, err
		}
		m, merr := syscall.Mmap(int(f.Fd()), 0, int(pf.Length), syscall.PROT_READ, syscall.MAP_SHARED)
		f.Close()
		if merr != nil {
			continue // read it instead
		}
		adviseSequential(m)
		maps[i] = m
	}
	return maps, nil
}

// close unmaps every mapping.
func (m fileMaps) close() {
	for i, b := range m {
		if b != nil {
			syscall.Munmap(b)
			m[i] = nil
		}
	}
}
