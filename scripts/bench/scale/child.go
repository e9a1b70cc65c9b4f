package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/swarmdrop/swarmdrop/engine"
)

// engineMain is `scale engine ...`: Swarmdrop's engine configured as the
// window configures it (the torrent list and resume data kept in -state),
// with the snapshots read as the window reads them. With -add it adds
// every .torrent of that folder first (the first load); without, it
// restores the saved list (a restart). It prints "ALLSEEDING n" once n
// torrents (-expect) all seed, "GOROUTINES n" every 5 s, and stops on
// SIGINT, or by itself after a load once all seed.
func engineMain(args []string) int {
	fs := flag.NewFlagSet("engine", flag.ExitOnError)
	state := fs.String("state", "", "state folder")
	data := fs.String("data", "", "download folder")
	add := fs.String("add", "", "add every .torrent in this folder, then quit once all seed")
	expect := fs.Int("expect", 0, "torrents expected")
	port := fs.Int("port", 0, "TCP and UDP port")
	boot := fs.String("bootstrap", "", "DHT bootstrap contact host:port")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the idle engine here")
	profileAfter := fs.Duration("profile-after", 5*time.Second, "start the profiles this long after all seed")
	profileFor := fs.Duration("profile-for", 30*time.Second, "length of the CPU profile")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := engine.Config{StateDir: *state, KeepList: true, DownloadDir: *data, Port: *port,
		Bind: "127.0.0.1", NoUPnP: true}
	if *boot != "" {
		cfg.Bootstrap = []string{*boot}
	}
	e, err := engine.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engine:", err)
		return 1
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	go func() { // events are read, as the window does
		for range e.Events() {
		}
	}()
	if *add != "" {
		names, _ := filepath.Glob(filepath.Join(*add, "*.torrent"))
		for _, n := range names {
			if _, err := e.AddTorrentFile(n, engine.AddOptions{}); err != nil {
				fmt.Fprintln(os.Stderr, "engine: adding", n+":", err)
				return 1
			}
		}
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	seeding := false
	var profileAt <-chan time.Time
	for {
		select {
		case s := <-e.Snapshots():
			if seeding || len(s.Torrents) < *expect {
				continue
			}
			n, bad := 0, ""
			for _, t := range s.Torrents {
				switch t.State {
				case engine.StateSeeding:
					n++
				case engine.StateError, engine.StateDownloading:
					bad = fmt.Sprintf("%s is %s: %v", t.Name, t.State, t.Err)
				}
			}
			if bad != "" {
				fmt.Fprintln(os.Stderr, "engine:", bad)
				return 1
			}
			if n < *expect {
				continue
			}
			seeding = true
			fmt.Printf("ALLSEEDING %d\n", n)
			fmt.Printf("GOROUTINES %d\n", runtime.NumGoroutine())
			if *add != "" {
				cancel()
			} else if *cpuProfile != "" {
				profileAt = time.After(*profileAfter)
			}
		case <-tick.C:
			fmt.Printf("GOROUTINES %d\n", runtime.NumGoroutine())
		case <-profileAt:
			profileAt = nil
			go profile(*cpuProfile, *profileFor)
		case err := <-done:
			if err != nil {
				fmt.Fprintln(os.Stderr, "engine:", err)
				return 1
			}
			fmt.Println("STOPPED")
			return 0
		}
	}
}

// profile writes a CPU profile of d to path, then the heap and the
// goroutines next to it (path.heap, path.goroutines).
func profile(path string, d time.Duration) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engine: profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "engine: profile:", err)
		return
	}
	time.Sleep(d)
	pprof.StopCPUProfile()
	base := strings.TrimSuffix(path, filepath.Ext(path))
	if h, err := os.Create(base + ".heap"); err == nil {
		runtime.GC()
		pprof.WriteHeapProfile(h)
		h.Close()
	}
	if g, err := os.Create(base + ".goroutines"); err == nil {
		pprof.Lookup("goroutine").WriteTo(g, 1)
		g.Close()
	}
	fmt.Println("PROFILED")
}
