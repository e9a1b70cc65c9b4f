//go:build !linux

package swarm

import (
	"net"
	"time"
)

// tcpMinRTT returns 0 (unknown) where TCP_INFO is not read.
func tcpMinRTT(*net.TCPConn) time.Duration { return 0 }
