// Package utp is the micro transport protocol of BEP 29 (uTP): reliable,
// ordered byte streams over UDP with LEDBAT congestion control, which
// yields to other traffic by keeping the queuing delay it causes near a
// 100 ms target. BitTorrent clients (libtorrent, Transmission, qBittorrent)
// prefer it to TCP.
//
// A Socket sends through a Transport (a udpmux.Mux sharing the DHT's UDP
// port, or a *net.UDPConn) and is fed incoming packets by whoever reads
// that port, through HandlePacket and Drained. Connections are net.Conns:
// Dial opens one, Accept returns those peers open; a Socket is a
// net.Listener.
//
// What it implements: selective ACK (extension 1), fast retransmit after
// three duplicate acknowledgements or three packets selectively
// acknowledged past a gap, retransmission timeouts per RFC 6298 with a
// 500 ms floor and exponential backoff, the receive window, Nagle for
// small writes, path MTU discovery by probing (no ICMP needed), FIN,
// RESET, keep-alives, and connect, idle and linger time-outs.
//
// Cost: the packets one flush lets out leave in one segmented send when
// the Transport is a SegmentWriter (udpmux on Linux: UDP GSO), packet
// records and payloads are pooled, and acknowledgements wait until the
// socket is drained (or 16 packets). BenchmarkLoopback reports the CPU
// time per MiB moved.
//
// Hardening: a SYN creates no state. It is answered with one packet no
// larger than itself whose sequence number is a keyed hash of the request
// (a cookie); the connection exists only once the initiator's next packet
// echoes it. Connections are bounded per remote IP and in total; each
// connection's received bytes are bounded by its window, and all
// connections' together by a budget; bytes written wait in a bounded
// buffer; packets out of the window, malformed or forged are dropped and
// counted.
//
// # Wiring it into the engine
//
// One UDP socket carries the DHT and uTP (udpmux sorts the packets):
//
//	mux := udpmux.New(udpConn, udpmux.Config{Logf: logf})
//	sock, err := utp.New(utp.Config{Transport: mux, Logf: logf})
//	mux.SetUTP(sock)
//	node, err := dht.New(dht.Config{Conn: mux.DHT(), ...})
//	go mux.Serve(ctx); go sock.Serve(ctx); go node.Serve(ctx)
//	go acceptLoop(ctx, sock) // a Socket is a net.Listener: same routing as TCP
//	c, err := sock.Dial(ctx, addr) // or sock.DialContext(ctx, "utp", "ip:port")
//
// With an IPv4 and an IPv6 socket, give each its mux, one Socket with
// Transport udpmux.Dual{V4: mux4, V6: mux6}, and SetUTP(sock) on both.
// Close the UDP socket after the three Serves have returned. Dial fails
// with ErrNotReady before Serve runs; Accept fails with ErrClosed once
// Serve has ended. Dial gives up after 3 SYNs (7 s),
// or earlier when its context ends (a TCP fallback can race it).
//
// Connections are *Conn (net.Conn; RemoteAddr is a *net.UDPAddr); Stats
// gives each one's round trip, windows, packet size and counters, and
// Socket.Stats the socket's. The limits are Config fields: connections in
// total and per IP, the accept backlog, the receive window, the budget of
// received bytes for all connections, the send buffer, the congestion
// window's cap, and the connect, idle, linger and keep-alive times.
package utp
