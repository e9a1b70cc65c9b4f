// Package lsd is local service discovery (BEP 14): it announces the
// torrents it is given to the local network by UDP multicast, and reports
// the peers it hears announcing them.
//
// The message codec (ParseAnnounce, AppendAnnounce) is pure; a Service
// owns the sockets, the announce schedule and the bounds on what the
// network can make it do.
//
// An engine uses a Service this way: New(Config{Port: its TCP listening
// port}), SetEnabled with the user's setting (and again when it changes),
// Serve in its goroutine tree; Add(ih) when a torrent that is not private
// starts, Remove(ih) when it is paused or removed or turns out private (a
// magnet's metadata); and it hands each Peer read from Peers to the
// torrent's swarm as a peer from local discovery.
package lsd
