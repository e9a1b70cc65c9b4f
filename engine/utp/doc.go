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
// Hardening: a SYN creates no state. It is answered with one packet no
// larger than itself whose sequence number is a keyed hash of the request
// (a cookie); the connection exists only once the initiator's next packet
// echoes it. Connections are bounded per remote IP and in total; each
// connection's received bytes are bounded by its window, and all
// connections' together by a budget; bytes written wait in a bounded
// buffer; packets out of the window, malformed or forged are dropped and
// counted.
package utp
