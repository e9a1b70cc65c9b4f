package nat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/dcps/internetgateway1"
	"github.com/huin/goupnp/dcps/internetgateway2"
	"github.com/huin/goupnp/soap"
)

// SSDP search targets of the two IGD versions.
const (
	urnIGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
	urnIGD2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
)

// upnpDiscoverTimeout bounds one UPnP discovery: the SSDP search itself
// takes 2 s, the device descriptions are fetched after it.
const upnpDiscoverTimeout = 3 * time.Second

// wanConnection is what the goupnp clients of WANIPConnection:1,
// WANIPConnection:2 and WANPPPConnection:1 have in common.
type wanConnection interface {
	AddPortMappingCtx(ctx context.Context, remoteHost string, externalPort uint16, protocol string,
		internalPort uint16, internalClient string, enabled bool, description string, leaseSeconds uint32) error
	DeletePortMappingCtx(ctx context.Context, remoteHost string, externalPort uint16, protocol string) error
	GetExternalIPAddressCtx(ctx context.Context) (string, error)
	GetServiceClient() *goupnp.ServiceClient
}

// upnpGateway is a Gateway on one UPnP WAN connection service.
type upnpGateway struct {
	conn    wanConnection
	id      string
	localIP netip.Addr
}

// DiscoverUPnP searches the LAN for UPnP Internet Gateway Devices (version
// 2 and 1 at once, within about 3 seconds) and returns a Gateway for each
// WAN connection service found: WANIPConnection:2 first, then
// WANIPConnection:1, then WANPPPConnection:1. It is the default
// Config.Discover.
func DiscoverUPnP(ctx context.Context) ([]Gateway, error) {
	ctx, cancel := context.WithTimeout(ctx, upnpDiscoverTimeout)
	defer cancel()
	targets := []string{urnIGD2, urnIGD1}
	found := make([][]goupnp.MaybeRootDevice, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, target := range targets {
		wg.Go(func() {
			found[i], errs[i] = goupnp.DiscoverDevicesCtx(ctx, target)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("searching for %s: %w", target, errs[i])
			}
		})
	}
	wg.Wait()

	var conns []wanConnection
	seenRoot := map[string]bool{}
	for _, devices := range found {
		for _, d := range devices {
			if d.Root == nil || d.Location == nil || seenRoot[d.Location.String()] {
				continue
			}
			seenRoot[d.Location.String()] = true
			conns = append(conns, wanConnections(d.Root, d.Location)...)
		}
	}
	var gateways []Gateway
	seenControl := map[string]bool{}
	for _, c := range conns {
		sc := c.GetServiceClient()
		control := sc.SOAPClient.EndpointURL.String()
		if seenControl[control] {
			continue
		}
		seenControl[control] = true
		gw, err := newUPnPGateway(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		gateways = append(gateways, gw)
	}
	if len(gateways) > 0 {
		return gateways, nil
	}
	return nil, errors.Join(errs...)
}

// wanConnections lists the port-mapping services of one root device, the
// better ones first.
func wanConnections(root *goupnp.RootDevice, loc *url.URL) []wanConnection {
	var conns []wanConnection
	if cs, err := internetgateway2.NewWANIPConnection2ClientsFromRootDevice(root, loc); err == nil {
		for _, c := range cs {
			conns = append(conns, c)
		}
	}
	if cs, err := internetgateway1.NewWANIPConnection1ClientsFromRootDevice(root, loc); err == nil {
		for _, c := range cs {
			conns = append(conns, c)
		}
	}
	if cs, err := internetgateway1.NewWANPPPConnection1ClientsFromRootDevice(root, loc); err == nil {
		for _, c := range cs {
			conns = append(conns, c)
		}
	}
	return conns
}

// newUPnPGateway wraps c, finding our local address toward its host.
func newUPnPGateway(c wanConnection) (*upnpGateway, error) {
	sc := c.GetServiceClient()
	loc := sc.Location
	if loc == nil {
		return nil, errors.New("UPnP service without location")
	}
	id := loc.String() + " " + strings.TrimPrefix(sc.Service.ServiceType, "urn:schemas-upnp-org:service:")
	local, err := localAddrToward(loc)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", id, err)
	}
	return &upnpGateway{conn: c, id: id, localIP: local}, nil
}

// localAddrToward returns the local address the system would use to reach
// the host of loc. It "connects" a UDP socket: no packet is sent.
func localAddrToward(loc *url.URL) (netip.Addr, error) {
	port := loc.Port()
	if port == "" {
		port = "80"
	}
	conn, err := net.Dial("udp", net.JoinHostPort(loc.Hostname(), port))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("finding local address toward %s: %w", loc.Host, err)
	}
	defer conn.Close()
	ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("finding local address toward %s: %w", loc.Host, err)
	}
	return ap.Addr().Unmap(), nil
}

func (g *upnpGateway) ID() string          { return g.id }
func (g *upnpGateway) LocalIP() netip.Addr { return g.localIP }

func (g *upnpGateway) ExternalIP(ctx context.Context) (netip.Addr, error) {
	s, err := g.conn.GetExternalIPAddressCtx(ctx)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("GetExternalIPAddress: %w", err)
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("GetExternalIPAddress: %w", err)
	}
	return ip.Unmap(), nil
}

func (g *upnpGateway) AddPortMapping(ctx context.Context, protocol string, externalPort, internalPort int, description string, lease time.Duration) error {
	if err := checkPort(externalPort); err != nil {
		return err
	}
	if err := checkPort(internalPort); err != nil {
		return err
	}
	secs := uint32((lease + time.Second - 1) / time.Second)
	if lease > 0 && lease/time.Second > 1<<31 {
		secs = 1 << 31
	}
	err := g.conn.AddPortMappingCtx(ctx, "", uint16(externalPort), protocol, uint16(internalPort),
		g.localIP.String(), true, description, secs)
	if err != nil {
		return fmt.Errorf("AddPortMapping: %w", err)
	}
	return nil
}

func (g *upnpGateway) DeletePortMapping(ctx context.Context, protocol string, externalPort int) error {
	if err := checkPort(externalPort); err != nil {
		return err
	}
	if err := g.conn.DeletePortMappingCtx(ctx, "", uint16(externalPort), protocol); err != nil {
		return fmt.Errorf("DeletePortMapping: %w", err)
	}
	return nil
}

func checkPort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %d out of range", p)
	}
	return nil
}

// upnpErrorCode returns the UPnP error code carried by a SOAP fault in
// err's chain (such as 718 ConflictInMappingEntry), or 0 if there is none.
func upnpErrorCode(err error) int {
	var fault *soap.SOAPFaultError
	if errors.As(err, &fault) {
		return fault.Detail.UPnPError.Errorcode
	}
	return 0
}
