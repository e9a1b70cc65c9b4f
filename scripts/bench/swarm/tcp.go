package main

import (
	"fmt"
	"io"
	"net"
	"time"
)

// tcpSize is the size of the plain TCP reference transfer.
const tcpSize = 64 << 20

// tcpReference sends tcpSize bytes over one TCP connection from host
// `from` to host `to` (sockets of this process opened in their
// namespaces) and returns the receiver's steady rate from 10 % to 90 %,
// in bytes/s: what TCP itself reaches on the link, the ceiling of any
// client on it.
func tcpReference(n *network, from, to int, deadline time.Time) (float64, error) {
	var ln net.Listener
	if err := n.topo.Do(to, func() (err error) {
		ln, err = net.Listen("tcp", n.ip(to)+":0")
		return err
	}); err != nil {
		return nan, err
	}
	defer ln.Close()
	var out net.Conn
	if err := n.topo.Do(from, func() (err error) {
		out, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		return nan, err
	}
	defer out.Close()
	in, err := ln.Accept()
	if err != nil {
		return nan, err
	}
	defer in.Close()
	out.SetDeadline(deadline)
	in.SetDeadline(deadline)
	sent := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		var err error
		for left := tcpSize; left > 0 && err == nil; left -= len(buf) {
			_, err = out.Write(buf[:min(len(buf), left)])
		}
		sent <- err
	}()
	buf := make([]byte, 256<<10)
	var got int64
	var t10, t90 time.Time
	for got < tcpSize {
		k, err := in.Read(buf)
		got += int64(k)
		if t10.IsZero() && got >= tcpSize/10 {
			t10 = time.Now()
		}
		if t90.IsZero() && got >= tcpSize*9/10 {
			t90 = time.Now()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nan, fmt.Errorf("plain TCP transfer: %w", err)
		}
	}
	if err := <-sent; err != nil {
		return nan, fmt.Errorf("plain TCP transfer: %w", err)
	}
	return 0.8 * tcpSize / t90.Sub(t10).Seconds(), nil
}
