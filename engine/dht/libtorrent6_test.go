package dht

import (
	"context"
	"encoding/hex"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentIPv6Seeder runs a DHT of libtorrent nodes on ::1 (BEP 32,
// IPv6 only) that bootstrap from a node of ours, and a libtorrent seeder
// that announces in it. A second node of ours, dual-stack, read-only (so
// nobody announces to it) and with one IPv6 contact only, finds the
// seeder by its lookups alone; its IPv4 table stays empty. Then our first
// node announces itself over IPv6, and a libtorrent lookup finds it.
func TestLibtorrentIPv6Seeder(t *testing.T) {
	testpeers.RequireLibtorrent(t)
	cfg := Config{QueryTimeout: time.Second, MaintenanceInterval: time.Second}
	n, addr := startNode(t, "::1", 0, cfg)
	ourHash := randomID()
	const count = 4
	var lts []netip.AddrPort
	var getter *testpeers.Proc
	for i := range count {
		port := testpeers.FreePort(t, "::1")
		args := []string{"dht", "--ip", "::1", "--port", strconv.Itoa(port), "--bootstrap", addr.String(), "--seconds", "90"}
		if i == count-1 {
			args = append(args, "--get", hex.EncodeToString(ourHash[:]))
		}
		p := testpeers.StartLT(t, args...)
		p.Port(t)
		if i == count-1 {
			getter = p
		}
		lts = append(lts, netip.AddrPortFrom(netip.IPv6Loopback(), uint16(port)))
	}
	// The seeder: a small torrent made and seeded by libtorrent on ::1.
	dir := t.TempDir()
	testpeers.RandomFile(t, filepath.Join(dir, "six.bin"), 64<<10, 6)
	torrent := filepath.Join(t.TempDir(), "six.torrent")
	ih := strings.TrimSpace(testpeers.LT(t, "create", filepath.Join(dir, "six.bin"), torrent))
	var boot []string
	for _, a := range append([]netip.AddrPort{addr}, lts...) {
		boot = append(boot, a.String())
	}
	_, seedPort := testpeers.SeedLT(t, torrent, dir, "--ip", "::1", "--dht", strings.Join(boot, ","))
	seeder := netip.AddrPortFrom(netip.IPv6Loopback(), uint16(seedPort))
	var infoHash [20]byte
	if b, err := hex.DecodeString(ih); err != nil || len(b) != 20 {
		t.Fatalf("libtorrent's info hash %q", ih)
	} else {
		copy(infoHash[:], b)
	}

	fcfg := cfg
	fcfg.ReadOnly = true
	fcfg.Bootstrap = []string{lts[0].String()}
	finder, _ := startNode(t, "::", 0, fcfg)
	deadline := time.Now().Add(45 * time.Second)
	var found []netip.AddrPort
	var res LookupResult
	for !slices.Contains(found, seeder) && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		res, err = finder.Lookup(ctx, infoHash, LookupOptions{}, func(p []netip.AddrPort) { found = append(found, p...) })
		cancel()
		t.Logf("lookup: %+v, %v; found %v", res, err, found)
		if !slices.Contains(found, seeder) {
			time.Sleep(time.Second)
		}
	}
	st := finder.Stats()
	t.Logf("finder: IPv4 %+v, IPv6 %+v; libtorrent seeder at %v", st.IPv4, st.IPv6, seeder)
	if !slices.Contains(found, seeder) {
		t.Fatalf("our lookup over IPv6 found %v, not the libtorrent seeder %v", found, seeder)
	}
	if res.IPv4.Looked || res.IPv6.Answered == 0 || st.IPv4.Good != 0 || st.IPv6.Good == 0 || !st.IPv4.Served {
		t.Fatalf("the seeder was not found through IPv6 only: %+v; tables %+v %+v", res, st.IPv4, st.IPv6)
	}

	// We announce over IPv6; libtorrent's lookup finds us.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.GetPeers(ctx, ourHash, 7777, nil); err != nil {
		t.Fatalf("announcing over IPv6: %v", err)
	}
	getter.Wait(t, "PEER [::1]:7777", 30*time.Second)
}
