package linkem

import (
	"context"
	"os"
	"testing"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// Start makes the topology of cfg for a test, runs it, and removes it when
// the test ends (failing the test if that goes wrong). Without root, a TUN
// device or network namespaces it ends the test with testpeers.CannotRun:
// a failure in CI.
func Start(tb testing.TB, cfg Config) *Topology {
	tb.Helper()
	testpeers.RequireRoot(tb, "emulating links between network namespaces")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testpeers.CannotRun(tb, "no TUN devices: %v", err)
	}
	testpeers.Require(tb, "ip", "iproute2")
	t, err := New(cfg)
	if err != nil {
		testpeers.CannotRun(tb, "%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- t.Serve(ctx) }()
	select {
	case <-t.Ready():
	case err := <-served:
		t.Close()
		tb.Fatalf("starting the emulator: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			tb.Errorf("emulator: %v", err)
		}
		if err := t.Close(); err != nil {
			tb.Errorf("removing the topology: %v", err)
		}
	})
	return t
}
