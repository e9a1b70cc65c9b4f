package app

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/engine/dht/krpc"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestRouterCommand runs `swarmdrop router` as a real process on loopback:
// it prints its address and ID, learns the nodes that join through it,
// answers find_node with them and get_peers with no peers, refuses
// announce_peer, and on SIGINT saves its table and exits 0.
func TestRouterCommand(t *testing.T) {
	port := testpeers.FreePort(t, "127.0.0.1")
	cmd := swarmdropCmd(t, "router", "--port", fmt.Sprint(port), "--bind", "127.0.0.1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var first string
	select {
	case first = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatalf("no output from the router; stderr:\n%s", stderr.String())
	}
	var addr string
	var id string
	if _, err := fmt.Sscanf(first, "router listening on %s node ID %s", &addr, &id); err != nil || len(id) != 40 {
		t.Fatalf("first line %q: %v", first, err)
	}
	router := netip.MustParseAddrPort(addr)
	if router != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)) {
		t.Fatalf("listening on %v, want 127.0.0.1:%d", router, port)
	}

	// Three nodes join through the router.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 3 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(81+i))})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		n, err := dht.New(dht.Config{Conn: conn, Bootstrap: []string{router.String()}, QueryTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.Serve(ctx)
		}()
		defer func() { cancel(); <-done }()
	}

	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tid := 0
	ask := func(q krpc.Msg) krpc.Msg {
		t.Helper()
		buf := make([]byte, 4096)
		for range 5 {
			tid++
			q.T, q.Y, q.A.ID = []byte{byte(tid)}, krpc.KindQuery, krpc.ID{1, 2, 3}
			conn.WriteToUDPAddrPort(q.Encode(), router)
			conn.SetReadDeadline(time.Now().Add(time.Second))
			for {
				n, _, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					break
				}
				m, err := krpc.Decode(buf[:n])
				if err != nil {
					t.Fatalf("undecodable answer %q: %v", buf[:n], err)
				}
				if string(m.T) == string(q.T) {
					return m
				}
			}
		}
		t.Fatalf("no answer to %s; stderr:\n%s", q.Q, stderr.String())
		return krpc.Msg{}
	}
	deadline := time.Now().Add(10 * time.Second)
	var m krpc.Msg
	for {
		m = ask(krpc.Msg{Q: krpc.MethodFindNode, A: krpc.Args{Target: krpc.ID{9}}})
		if len(m.R.Nodes) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m.Y != krpc.KindResponse || len(m.R.Nodes) != 3 || fmt.Sprintf("%x", m.R.ID) != id {
		t.Fatalf("find_node: %+v", m)
	}
	for _, c := range m.R.Nodes {
		if !strings.HasPrefix(c.Addr.String(), "127.0.0.8") {
			t.Fatalf("find_node returned %v", c.Addr)
		}
	}
	m = ask(krpc.Msg{Q: krpc.MethodGetPeers, A: krpc.Args{InfoHash: krpc.ID{7}}})
	if m.Y != krpc.KindResponse || len(m.R.Values) != 0 || len(m.R.Nodes) == 0 {
		t.Fatalf("get_peers: %+v", m)
	}
	m = ask(krpc.Msg{Q: krpc.MethodAnnouncePeer, A: krpc.Args{InfoHash: krpc.ID{7}, Token: []byte("x"), Port: 1}})
	if m.Y != krpc.KindError || m.E.Code != krpc.CodeMethodUnknown {
		t.Fatalf("announce_peer: %+v", m)
	}

	// SIGINT: exit 0, the table saved in the state folder.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the router did not exit on SIGINT")
	}
	state := ""
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			state = filepath.Join(v, "swarmdrop", "router-table.dat")
		}
	}
	if st, err := os.Stat(state); err != nil || st.Size() < 3*26 {
		t.Fatalf("saved table %s: %v %v", state, st, err)
	}
}

func TestRouterUsage(t *testing.T) {
	for _, args := range [][]string{
		{"router", "--port", "70000"},
		{"router", "extra"},
		{"router", "--nodes", "nohostport"},
		{"router", "--bogus"},
	} {
		if r := runSwarmdrop(t, args...); r.code != ExitUsage || !strings.HasPrefix(r.stderr, "swarmdrop: ") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// A port in use is a failure, not a usage error.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.LocalAddr().String())
	if r := runSwarmdrop(t, "router", "--bind", "127.0.0.1", "--port", port); r.code != ExitFailure {
		t.Errorf("busy port: %+v", r)
	}
}
