package engine

import (
	"github.com/swarmdrop/swarmdrop/engine/dht"
	"github.com/swarmdrop/swarmdrop/nat"
	"net"
	"strconv"
)

// dhtStatus describes the DHT node for a snapshot.
func (n *network) dhtStatus() DHTStatus {
	if n.dht == nil {
		return DHTStatus{}
	}
	st := n.dht.Stats()
	id := n.dht.ID()
	return DHTStatus{
		Enabled:             true,
		NodeID:              hexString(id[:]),
		Good:                st.Good,
		Questionable:        st.Questionable,
		Buckets:             st.Buckets,
		IncomingQueries:     st.IncomingQueries,
		LastBootstrap:       st.LastBootstrap,
		LastBootstrapSource: st.LastBootstrapSource,
		TableSavedAt:        st.TableSavedAt,
		LookupsInFlight:     st.LookupsInFlight,
		IPv4:                familyStatus(st.IPv4),
		IPv6:                familyStatus(st.IPv6),
	}
}

// familyStatus describes one family's routing table for a snapshot.
func familyStatus(t dht.TableStats) DHTFamilyStatus {
	return DHTFamilyStatus{Served: t.Served, Good: t.Good, Questionable: t.Questionable, Buckets: t.Buckets}
}

// natSnapshot describes the port mapping for a snapshot.
func (n *network) natSnapshot() NATStatus {
	n.mu.Lock()
	st := n.natStatus
	n.mu.Unlock()
	out := NATStatus{
		State:   natState(st.State),
		Gateway: st.Gateway,
		TCP:     PortMapping{ExternalPort: st.TCP.ExternalPort, Lease: st.TCP.Lease, Err: st.TCP.Err},
		UDP:     PortMapping{ExternalPort: st.UDP.ExternalPort, Lease: st.UDP.Lease, Err: st.UDP.Err},
	}
	out.Enabled = out.State != NATOff
	if st.ExternalIP.IsValid() {
		out.ExternalIP = st.ExternalIP.String()
	}
	return out
}

// natState turns the nat package's state into ours.
func natState(s string) NATState {
	switch s {
	case nat.StateDiscovering:
		return NATDiscovering
	case nat.StateNoGateway:
		return NATNoGateway
	case nat.StateMapped:
		return NATMapped
	case nat.StatePartlyMapped:
		return NATPartlyMapped
	case nat.StateError:
		return NATError
	}
	return NATOff
}

func joinHostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
