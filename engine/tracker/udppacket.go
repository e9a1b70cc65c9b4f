package tracker

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// The BEP 15 constants.
const (
	udpProtocolID     = 0x41727101980
	udpActionConnect  = 0
	udpActionAnnounce = 1
	udpActionError    = 3
)

// errIgnored marks a UDP packet that is not the answer awaited (too short,
// another transaction); the wait for the answer goes on.
var errIgnored = errors.New("packet ignored")

// udpConnectPacket builds a connect request.
func udpConnectPacket(tid uint32) []byte {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint64(b, udpProtocolID)
	b = binary.BigEndian.AppendUint32(b, udpActionConnect)
	return binary.BigEndian.AppendUint32(b, tid)
}

// udpAnnouncePacket builds an announce request.
func udpAnnouncePacket(connID uint64, tid uint32, req Request) []byte {
	b := make([]byte, 0, 98)
	b = binary.BigEndian.AppendUint64(b, connID)
	b = binary.BigEndian.AppendUint32(b, udpActionAnnounce)
	b = binary.BigEndian.AppendUint32(b, tid)
	b = append(b, req.InfoHash[:]...)
	b = append(b, req.PeerID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(max(req.Downloaded, 0)))
	b = binary.BigEndian.AppendUint64(b, uint64(max(req.Left, 0)))
	b = binary.BigEndian.AppendUint64(b, uint64(max(req.Uploaded, 0)))
	b = binary.BigEndian.AppendUint32(b, req.Event.udpCode())
	b = binary.BigEndian.AppendUint32(b, 0) // IP: the sender's
	b = binary.BigEndian.AppendUint32(b, req.Key)
	numWant := int32(-1)
	if req.NumWant > 0 {
		numWant = int32(min(req.NumWant, 1<<31-1))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(numWant))
	return binary.BigEndian.AppendUint16(b, uint16(req.Port))
}

// checkUDPHeader checks that b answers transaction tid with action want.
// An error action is returned as a *FailureError; anything else that is
// not the awaited answer as errIgnored.
func checkUDPHeader(b []byte, tid, want uint32) error {
	if len(b) < 8 || binary.BigEndian.Uint32(b[4:]) != tid {
		return errIgnored
	}
	switch binary.BigEndian.Uint32(b) {
	case want:
		return nil
	case udpActionError:
		msg := strings.TrimRight(string(b[8:]), "\x00")
		if msg == "" {
			msg = "tracker error without a message"
		}
		return &FailureError{Reason: msg}
	}
	return errIgnored
}

// parseUDPConnect decodes the answer to connect request tid.
func parseUDPConnect(b []byte, tid uint32) (uint64, error) {
	if err := checkUDPHeader(b, tid, udpActionConnect); err != nil {
		return 0, err
	}
	if len(b) < 16 {
		return 0, errIgnored
	}
	return binary.BigEndian.Uint64(b[8:]), nil
}

// parseUDPAnnounce decodes the answer to announce request tid; peers take
// peerSize bytes each (6 over IPv4, 18 over IPv6).
func parseUDPAnnounce(b []byte, tid uint32, peerSize int) (*Response, error) {
	if err := checkUDPHeader(b, tid, udpActionAnnounce); err != nil {
		return nil, err
	}
	if len(b) < 20 {
		return nil, errIgnored
	}
	r := &Response{
		Interval: time.Duration(min(binary.BigEndian.Uint32(b[8:]), maxSeconds)) * time.Second,
		Leechers: int(min(binary.BigEndian.Uint32(b[12:]), maxSeconds)),
		Seeders:  int(min(binary.BigEndian.Uint32(b[16:]), maxSeconds)),
	}
	var peers peerList
	if note := peers.addCompact(b[20:], peerSize, "peers"); note != "" {
		r.dropped = append(r.dropped, note)
	}
	r.Peers = peers.peers
	return r, nil
}
