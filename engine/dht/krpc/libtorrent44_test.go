package krpc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestLibtorrentItemPackets exchanges BEP 44 packets with a libtorrent DHT
// node, both ways:
//   - libtorrent bootstraps from us and puts an immutable item and a
//     mutable one (with salt) it signs: we decode its get and put
//     queries, and its item verifies with our checks;
//   - we put to libtorrent and get back: it stores our immutable and
//     mutable items and returns them (verifying with our checks), and
//     refuses a bad token (203), a value over 1000 bytes (205), a bad
//     signature (206), a salt over 64 bytes (207), a CAS mismatch (301)
//     and an older seq (302), as we do.
//
// With SWARMDROP_KRPC_CAPTURE=DIR set it writes every packet received to
// DIR (how testdata/libtorrent44 was made).
func TestLibtorrentItemPackets(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ourPort := conn.LocalAddr().(*net.UDPAddr).Port
	ltIP := "127.0.0.13"
	ltPort := testpeers.FreePort(t, ltIP)
	ltSeed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
	testpeers.StartLT(t, "dht", "--ip", ltIP, "--port", strconv.Itoa(ltPort),
		"--bootstrap", fmt.Sprintf("127.0.0.1:%d", ourPort), "--seconds", "60", "--put-delay", "1",
		"--put-immutable", "from libtorrent", "--put-mutable", "signed by libtorrent",
		"--key", hex.EncodeToString(ltSeed), "--salt", hex.EncodeToString([]byte("lt"))).Port(t)
	lt := netip.AddrPortFrom(netip.MustParseAddr(ltIP), uint16(ltPort))
	self := id("swarmdrop-bep44-test")
	capture := os.Getenv("SWARMDROP_KRPC_CAPTURE")

	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))
	salt := []byte("swarmdrop")
	mut5, _ := SignItem(key, salt, 5, InfoHashValue(id("mnopqrstuvwxyz123456")))
	imm, _ := NewImmutableItem([]byte("d2:ih20:mnopqrstuvwxyz123456e"))
	big := mut5
	big.Seq = 6
	big.V = []byte(strconv.Itoa(997) + ":" + strings.Repeat("x", 997))
	copy(big.Sig[:], ed25519.Sign(key, SignedBytes(salt, 6, big.V)))
	longSalt, _ := SignItem(key, bytes.Repeat([]byte("s"), 65)[:64], 1, []byte("0:"))
	longSalt.Salt = bytes.Repeat([]byte("s"), 65)
	copy(longSalt.Sig[:], ed25519.Sign(key, SignedBytes(longSalt.Salt, 1, longSalt.V)))
	forged := mut5
	forged.Seq = 7
	mut6, _ := SignItem(key, salt, 6, []byte("i6e"))
	mut4, _ := SignItem(key, salt, 4, []byte("i4e"))
	cas := int64(3)

	send := func(m Msg) {
		m.Y, m.A.ID = KindQuery, self
		if _, err := conn.WriteTo(m.Encode(), net.UDPAddrFromAddrPort(lt)); err != nil {
			t.Fatal(err)
		}
	}
	// Our gets give the tokens; the puts follow once they are answered.
	send(Msg{T: []byte("gi"), Q: MethodGet, A: Args{Target: imm.Target()}})
	send(Msg{T: []byte("gm"), Q: MethodGet, A: Args{Target: mut5.Target()}})

	seen := map[string]bool{}
	var ltItems []Item
	replies := map[string]Msg{}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(30 * time.Second)
	n := 0
	done := func() bool {
		return len(ltItems) >= 2 && replies["g2"].Y != 0 && replies["gj"].Y != 0 && len(replies) >= 12
	}
	for time.Now().Before(deadline) && !done() {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		size, from, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		pkt := append([]byte(nil), buf[:size]...)
		if capture != "" {
			n++
			os.WriteFile(filepath.Join(capture, fmt.Sprintf("lt44-%02d.bin", n)), pkt, 0o644)
		}
		m, err := Decode(pkt)
		if err != nil {
			t.Fatalf("libtorrent sent a packet we cannot decode: %v\n%q", err, pkt)
		}
		switch m.Y {
		case KindQuery:
			seen[m.Q] = true
			r := Msg{T: m.T, Y: KindResponse, R: Reply{ID: self}}
			switch m.Q {
			case MethodGet:
				r.R.Token = []byte("tok")
			case MethodPut:
				it := m.A.Item
				if err := it.Verify(); err != nil || string(m.A.Token) != "tok" {
					t.Fatalf("libtorrent's put: %v (token %q): %+v", err, m.A.Token, it)
				}
				ltItems = append(ltItems, it)
			}
			conn.WriteTo(r.Encode(), from)
		case KindResponse, KindError:
			replies[string(m.T)] = m
			tok := replies["gm"].R.Token
			switch string(m.T) {
			case "gi":
				send(Msg{T: []byte("pi"), Q: MethodPut, A: Args{Token: m.R.Token, Item: imm}})
				send(Msg{T: []byte("bt"), Q: MethodPut, A: Args{Token: []byte("bad token"), Item: imm}})
			case "gm":
				send(Msg{T: []byte("p5"), Q: MethodPut, A: Args{Token: tok, Item: mut5}})
			case "p5":
				send(Msg{T: []byte("p4"), Q: MethodPut, A: Args{Token: tok, Item: mut4}})
				send(Msg{T: []byte("pc"), Q: MethodPut, A: Args{Token: tok, Item: mut6, CAS: &cas}})
				send(Msg{T: []byte("pf"), Q: MethodPut, A: Args{Token: tok, Item: forged}})
				send(Msg{T: []byte("pb"), Q: MethodPut, A: Args{Token: tok, Item: big}})
				send(Msg{T: []byte("ps"), Q: MethodPut, A: Args{Token: tok, Item: longSalt}})
				send(Msg{T: []byte("g2"), Q: MethodGet, A: Args{Target: mut5.Target()}})
				send(Msg{T: []byte("gj"), Q: MethodGet, A: Args{Target: imm.Target()}})
			}
		}
		if string(m.T) == "gm" || string(m.T) == "gi" {
			// (the tokens of the gets that came back)
			if len(m.R.Token) == 0 {
				t.Fatalf("libtorrent's get reply has no token: %+v", m)
			}
		}
	}
	if !seen[MethodGet] || !seen[MethodPut] || len(ltItems) < 2 {
		t.Errorf("libtorrent's queries: %v; items put: %d", seen, len(ltItems))
	}
	for _, it := range ltItems {
		t.Logf("libtorrent put: mutable %v seq %d salt %q v %q", it.Mutable, it.Seq, it.Salt, it.V)
	}
	for tid, want := range map[string]int{"pi": 0, "p5": 0, "bt": CodeProtocol, "p4": CodeSeqTooLow, "pc": CodeCASMismatch,
		"pf": CodeBadSignature, "pb": CodeValueTooBig, "ps": CodeSaltTooBig} {
		m := replies[tid]
		t.Logf("%s: %c %d %q", tid, m.Y, m.E.Code, m.E.Msg)
		if want == 0 && m.Y != KindResponse || want != 0 && (m.Y != KindError || m.E.Code != want) {
			t.Errorf("reply %s: %c %d %q, want code %d", tid, m.Y, m.E.Code, m.E.Msg, want)
		}
	}
	got := replies["g2"].R.Item
	got.Salt = salt
	if !got.Same(mut5) || got.Verify() != nil {
		t.Errorf("libtorrent's get of our mutable item: %+v", replies["g2"].R)
	}
	if got := replies["gj"].R.Item; !got.Same(imm) {
		t.Errorf("libtorrent's get of our immutable item: %+v", replies["gj"].R)
	}
}
