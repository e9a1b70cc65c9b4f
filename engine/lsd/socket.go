package lsd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// multicastHops is the TTL (hop limit) of our announces: above 1, as the
// BEP suggests for groups wider than one link, and as libtorrent does.
const multicastHops = 32

// groupSocket is one IP family's socket: bound to port 6771 on every
// address (shared with other programs), joined to the family's group on
// some interfaces, and sending to the group through one of them at a
// time. Only the Service loop uses it, except for reading.
type groupSocket struct {
	v6     bool
	conn   net.PacketConn
	p4     *ipv4.PacketConn
	p6     *ipv6.PacketConn
	group  *net.UDPAddr
	host   string            // the Host header for this group
	joined map[int]Interface // by index
}

// openGroup opens the family's socket. Listening on the group address
// makes the standard library bind the wildcard address with the port
// shareable, on every system.
func openGroup(listen func(network, address string) (net.PacketConn, error), v6 bool) (*groupSocket, error) {
	g := &groupSocket{v6: v6, joined: make(map[int]Interface)}
	network, group, host := "udp4", Group4, HostIPv4
	if v6 {
		network, group, host = "udp6", Group6, HostIPv6
	}
	g.group = &net.UDPAddr{IP: net.ParseIP(group), Port: Port}
	g.host = host
	conn, err := listen(network, g.group.String())
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", g.group, err)
	}
	g.conn = conn
	if v6 {
		g.p6 = ipv6.NewPacketConn(conn)
		err = errors.Join(g.p6.SetMulticastHopLimit(multicastHops), g.p6.SetMulticastLoopback(true))
	} else {
		g.p4 = ipv4.NewPacketConn(conn)
		err = errors.Join(g.p4.SetMulticastTTL(multicastHops), g.p4.SetMulticastLoopback(true))
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("setting up %s: %w", g.group, err)
	}
	return g, nil
}

// wants reports whether in should be joined: it has an address of the
// socket's family.
func (g *groupSocket) wants(in Interface) bool {
	if g.v6 {
		return in.has6()
	}
	return in.has4()
}

func netInterface(in Interface) *net.Interface {
	return &net.Interface{Index: in.Index, Name: in.Name}
}

func (g *groupSocket) join(in Interface) error {
	var err error
	if g.v6 {
		err = g.p6.JoinGroup(netInterface(in), g.group)
	} else {
		err = g.p4.JoinGroup(netInterface(in), g.group)
	}
	if err != nil {
		return fmt.Errorf("joining %s on %s: %w", g.group.IP, in.Name, err)
	}
	g.joined[in.Index] = in
	return nil
}

// leave drops in; the system may already have, with the interface gone.
func (g *groupSocket) leave(in Interface) {
	if g.v6 {
		g.p6.LeaveGroup(netInterface(in), g.group)
	} else {
		g.p4.LeaveGroup(netInterface(in), g.group)
	}
	delete(g.joined, in.Index)
}

// send sends msg to the group through in.
func (g *groupSocket) send(in Interface, msg []byte) error {
	var err error
	if g.v6 {
		if err = g.p6.SetMulticastInterface(netInterface(in)); err == nil {
			_, err = g.p6.WriteTo(msg, nil, g.group)
		}
	} else {
		if err = g.p4.SetMulticastInterface(netInterface(in)); err == nil {
			_, err = g.p4.WriteTo(msg, nil, g.group)
		}
	}
	if err != nil {
		return fmt.Errorf("announcing to %s on %s: %w", g.group.IP, in.Name, err)
	}
	return nil
}

// membership is what a switched-on Service holds: its sockets, one per
// family that could be opened, and their readers. Only the Service loop
// uses it.
type membership struct {
	socks   []*groupSocket
	readers sync.WaitGroup
	failed  map[string]bool // joins that failed, logged once each
}

// refresh joins the interfaces of list not joined yet and leaves those
// no longer listed; it reports whether it joined any, and returns the
// errors of joins that failed for the first time.
func (m *membership) refresh(list []Interface) (added bool, errs []error) {
	for _, g := range m.socks {
		keep := make(map[int]bool)
		for _, in := range list {
			if !g.wants(in) {
				continue
			}
			keep[in.Index] = true
			if old, ok := g.joined[in.Index]; ok && old.Name == in.Name {
				g.joined[in.Index] = in // addresses may have changed
				continue
			}
			key := fmt.Sprintf("%s/%d/%t", in.Name, in.Index, g.v6)
			if err := g.join(in); err != nil {
				if !m.failed[key] {
					m.failed[key] = true
					errs = append(errs, err)
				}
				continue
			}
			delete(m.failed, key)
			added = true
		}
		for i, in := range g.joined {
			if !keep[i] {
				g.leave(in)
			}
		}
	}
	return added, errs
}

// announce sends one message naming hashes through every interface
// joined, for each family; it returns how many went out and the last
// error.
func (m *membership) announce(port uint16, cookie string, hashes []metainfo.Hash) (sent int, err error) {
	a := Announce{Port: port, InfoHashes: hashes, Cookie: cookie}
	for _, g := range m.socks {
		msg := AppendAnnounce(nil, g.host, a)
		for _, in := range g.joined {
			if e := g.send(in, msg); e != nil {
				err = e
				continue
			}
			sent++
		}
	}
	return sent, err
}

// joinedNames lists the interfaces joined, each once, sorted.
func (m *membership) joinedNames() []string {
	var names []string
	for _, g := range m.socks {
		for _, in := range g.joined {
			if !slices.Contains(names, in.Name) {
				names = append(names, in.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// prefixes lists the networks of the interfaces joined.
func (m *membership) prefixes() []netip.Prefix {
	var ps []netip.Prefix
	for _, g := range m.socks {
		for _, in := range g.joined {
			for _, p := range in.Prefixes {
				ps = append(ps, p.Masked())
			}
		}
	}
	return ps
}

// close closes the sockets and waits for their readers to end.
func (m *membership) close() {
	for _, g := range m.socks {
		g.conn.Close()
	}
	m.readers.Wait()
}
