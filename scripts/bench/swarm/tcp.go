package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// tcpSize is the size of the plain TCP reference transfer.
const tcpSize = 64 << 20

// tcpReference sends tcpSize bytes over one TCP connection from host
// `from` to host `to` and returns the receiver's steady rate from 10 % to
// 90 %, in bytes/s: what TCP itself reaches on the link, the ceiling of
// any client on it. Both ends are this program run again in the hosts'
// namespaces (tcpMain): sockets opened from this process with
// linkem's Topology.Do would end the OS thread they ran on, and the
// children started from that thread (seeders) would get their parent-death
// signal.
func tcpReference(ctx context.Context, n *network, from, to int) (float64, error) {
	self, err := os.Executable()
	if err != nil {
		return nan, err
	}
	sink, err := n.start(to, "tcp sink", nil, self, "tcp-sink", n.ip(to)+":0", fmt.Sprint(tcpSize))
	if err != nil {
		return nan, err
	}
	defer sink.Kill()
	l, err := sink.WaitPrefix(ctx, 30*time.Second, "LISTENING ")
	if err != nil {
		return nan, err
	}
	src, err := n.start(from, "tcp source", nil, self, "tcp-source", strings.TrimPrefix(l.Text, "LISTENING "), fmt.Sprint(tcpSize))
	if err != nil {
		return nan, err
	}
	defer src.Kill()
	l, err = sink.WaitPrefix(ctx, time.Minute, "RATE ")
	if err != nil {
		return nan, err
	}
	return strconv.ParseFloat(strings.TrimPrefix(l.Text, "RATE "), 64)
}

// tcpMain is `swarm tcp-sink ADDR SIZE` (listen on ADDR, print
// "LISTENING host:port", take one connection, read SIZE bytes, print
// "RATE <bytes/s from 10 % to 90 %>") or `swarm tcp-source ADDR SIZE`
// (connect to ADDR and send SIZE bytes). Both give up after a minute.
func tcpMain(args []string) int {
	err := func() error {
		if len(args) != 3 {
			return fmt.Errorf("usage: tcp-sink|tcp-source ADDR SIZE")
		}
		size, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			return err
		}
		deadline := time.Now().Add(time.Minute)
		if args[0] == "tcp-source" {
			c, err := net.DialTimeout("tcp", args[1], 10*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(deadline)
			buf := make([]byte, 1<<20)
			for left := size; left > 0; left -= int64(len(buf)) {
				if _, err := c.Write(buf[:min(int64(len(buf)), left)]); err != nil {
					return err
				}
			}
			return nil
		}
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			return err
		}
		fmt.Println("LISTENING", ln.Addr())
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(deadline)
		rate, err := readRate(c, size)
		if err != nil {
			return err
		}
		fmt.Println("RATE", rate)
		return nil
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		return 1
	}
	return 0
}

// readRate reads size bytes from r and returns the rate from 10 % to
// 90 % of them, in bytes/s.
func readRate(r io.Reader, size int64) (float64, error) {
	buf := make([]byte, 256<<10)
	var got int64
	var t10, t90 time.Time
	for got < size {
		k, err := r.Read(buf)
		got += int64(k)
		if t10.IsZero() && got >= size/10 {
			t10 = time.Now()
		}
		if t90.IsZero() && got >= size*9/10 {
			t90 = time.Now()
		}
		if err == io.EOF && got < size {
			return nan, fmt.Errorf("connection closed after %d of %d bytes", got, size)
		}
		if err != nil && err != io.EOF {
			return nan, err
		}
	}
	return 0.8 * float64(size) / t90.Sub(t10).Seconds(), nil
}
