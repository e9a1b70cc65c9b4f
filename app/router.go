package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/printable"
)

func init() {
	register(command{name: "router", usage: "router [--port N] [--bind ADDR] [--nodes LIST]",
		summary: "Runs a routing-only DHT node: it answers with contacts and tracks no peers.", run: runRouter})
}

// routerStatsEvery is how often `swarmdrop router` prints its stats line.
const routerStatsEvery = time.Minute

// runRouter is `swarmdrop router`: a routing-only DHT node (it answers
// with contacts and tracks no peers) until interrupted. It starts from
// its saved table, plus the contacts of --nodes; it does not use the
// settings' contacts (a router is where others start).
func runRouter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("router", stdout)
	port := fs.Int("port", 6881, "UDP port `N`")
	bind := fs.String("bind", "", "listening address `ADDR` (default: all)")
	nodes := fs.String("nodes", "", "DHT contacts to join through, a `LIST` \"host:port, host:port\"")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("usage: swarmdrop router [--port N] [--bind ADDR] [--nodes LIST]")
	}
	if *port < 0 || *port > 65535 {
		return usagef("--port %d: not a port number", *port)
	}
	contacts, err := metainfo.ParseNodes(*nodes)
	if err != nil {
		return usagef("--nodes: %v", err)
	}
	var boot []string
	for _, c := range contacts {
		boot = append(boot, c.String())
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(*bind, strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listening on UDP port %d: %w", *port, err)
	}
	defer conn.Close()
	var logMu sync.Mutex
	node, err := dht.New(dht.Config{
		Conn:      conn,
		StateFile: filepath.Join(CurrentPaths().StateDir, "router-table.dat"),
		Bootstrap: boot,
		Router:    true,
		Logf: func(format string, a ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintln(stderr, printable.String(fmt.Sprintf(format, a...)))
		},
	})
	if err != nil {
		return fmt.Errorf("starting the router: %w", err)
	}
	id := node.ID()
	fmt.Fprintf(stdout, "router listening on %s node ID %s\n", conn.LocalAddr(), hex.EncodeToString(id[:]))
	done := make(chan error, 1)
	go func() { done <- node.Serve(ctx) }()
	tick := time.NewTicker(routerStatsEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("router: %w", err)
			}
			return nil
		case <-tick.C:
			st := node.Stats()
			saved := "never"
			if !st.TableSavedAt.IsZero() {
				saved = st.TableSavedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "stats: good %d questionable %d buckets %d incoming %d rate-limited %d dropped %d saved %s\n",
				st.Good, st.Questionable, st.Buckets, st.IncomingQueries, st.RateLimited, st.Dropped, saved)
		}
	}
}
