//go:build !unix

package udpmux

import "net/netip"

// readBatch reads one packet and dispatches it. Without a way to know
// whether more are waiting, the uTP handler is told the socket is drained
// after each packet (acknowledgements are not batched).
func (m *Mux) readBatch(buf []byte) error {
	n, from, err := m.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return err
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	m.dispatch(buf[:n], from)
	m.drained()
	return nil
}
