package maker

import "syscall"

// adviseSequential tells the kernel that m is read front to back, so it
// reads ahead further.
func adviseSequential(m []byte) { syscall.Madvise(m, syscall.MADV_SEQUENTIAL) }
