// Package nat keeps Swarmdrop's listening port reachable from the Internet by
// asking the local router (a UPnP Internet Gateway Device, version 1 or 2) to
// forward it: one TCP and one UDP port mapping, leased and renewed at half
// the lease, deleted again when switched off or shut down.
//
// The protocol-neutral part is Service and its renewal loop; the router is
// seen through the small Gateway interface, implemented here for the UPnP
// WANIPConnection:1, WANIPConnection:2 and WANPPPConnection:1 services.
package nat

import (
	"context"
	"net/netip"
	"time"
)

// States of a Service, as found in Status.State.
const (
	StateOff          = "off"              // switched off: no mapping is held
	StateDiscovering  = "discovering"      // looking for a gateway
	StateNoGateway    = "no gateway found" // normal on many networks; retried now and then
	StateMapped       = "mapped"           // TCP and UDP both forwarded
	StatePartlyMapped = "partly mapped"    // only one of TCP and UDP forwarded
	StateError        = "error"            // a gateway was found but refused both mappings
)

// DefaultLease is the lease asked for when Config.Lease is zero.
const DefaultLease = time.Hour

// Config says what a Service maps and whom it tells.
type Config struct {
	// Port is our listening port, for TCP and UDP alike.
	Port int
	// Description is shown in the router's list of mappings.
	Description string
	// Lease is the lease asked for each mapping; zero means DefaultLease.
	// Mappings are renewed when half of it has passed.
	Lease time.Duration
	// Discover finds the gateways to try, best first. Nil means UPnP
	// discovery by SSDP on every multicast-capable interface, limited to
	// about 3 seconds.
	Discover func(ctx context.Context) ([]Gateway, error)
	// OnChange, if not nil, is called from the Serve goroutine with the new
	// status each time it changes. It must not block for long.
	OnChange func(Status)
	// Logf, if not nil, receives progress and error messages.
	Logf func(format string, args ...any)
}

// Gateway is one port-mapping service of a router. Implementations must be
// safe for use by one goroutine at a time.
type Gateway interface {
	// ID names the gateway, for Status and logs.
	ID() string
	// LocalIP is our LAN address as the gateway sees it: the internal
	// client of our mappings.
	LocalIP() netip.Addr
	// ExternalIP asks the gateway for its address on the Internet side.
	ExternalIP(ctx context.Context) (netip.Addr, error)
	// AddPortMapping forwards externalPort of protocol ("TCP" or "UDP") to
	// internalPort on LocalIP for lease (0: permanent). Adding a mapping
	// that exists for us again renews it.
	AddPortMapping(ctx context.Context, protocol string, externalPort, internalPort int, description string, lease time.Duration) error
	// DeletePortMapping removes the mapping of externalPort.
	DeletePortMapping(ctx context.Context, protocol string, externalPort int) error
}

// Mapping describes one port mapping held (or tried) on a gateway.
type Mapping struct {
	Protocol     string        // "TCP" or "UDP"
	InternalPort int           // our listening port
	ExternalPort int           // the router's port, which peers should use
	Lease        time.Duration // granted lease; 0 means permanent
	Expires      time.Time     // end of the lease; zero when permanent or not mapped
	Err          string        // why the mapping failed; empty when it is held
}

// Mapped reports whether the mapping is held.
func (m Mapping) Mapped() bool { return m.ExternalPort != 0 && m.Err == "" }

// Status is a snapshot of a Service. Values are comparable with ==.
type Status struct {
	State      string     // one of the State constants
	Gateway    string     // Gateway.ID of the gateway in use, if any
	LocalIP    netip.Addr // our LAN address toward the gateway
	ExternalIP netip.Addr // the router's Internet address, when it told us
	TCP, UDP   Mapping
}
