package peerwire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"
)

// maxPEXPeers bounds the peers taken from one PEX message (BEP 11 says
// at most 50 added per message; we accept some slack).
const maxPEXPeers = 200

// PEX is a BEP 11 ut_pex message: peers added and dropped since the last
// message. AddedFlags, when present, holds one flag byte per Added entry.
type PEX struct {
	Added      []netip.AddrPort
	AddedFlags []byte
	Dropped    []netip.AddrPort
}

type pexWire struct {
	Added    string `bencode:"added"`
	AddedF   string `bencode:"added.f"`
	Added6   string `bencode:"added6,omitempty"`
	Added6F  string `bencode:"added6.f,omitempty"`
	Dropped  string `bencode:"dropped"`
	Dropped6 string `bencode:"dropped6,omitempty"`
}

// Encode returns the bencoded message.
func (p PEX) Encode() []byte {
	var w pexWire
	var a4, f4, a6, f6, d4, d6 []byte
	for i, a := range p.Added {
		var f byte
		if i < len(p.AddedFlags) {
			f = p.AddedFlags[i]
		}
		if a.Addr().Unmap().Is4() {
			a4, f4 = appendCompact(a4, a), append(f4, f)
		} else {
			a6, f6 = appendCompact(a6, a), append(f6, f)
		}
	}
	for _, a := range p.Dropped {
		if a.Addr().Unmap().Is4() {
			d4 = appendCompact(d4, a)
		} else {
			d6 = appendCompact(d6, a)
		}
	}
	w.Added, w.AddedF, w.Added6, w.Added6F = string(a4), string(f4), string(a6), string(f6)
	w.Dropped, w.Dropped6 = string(d4), string(d6)
	b, err := bencode.Marshal(w)
	if err != nil {
		panic("peerwire: encoding PEX: " + err.Error())
	}
	return b
}

func appendCompact(dst []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	dst = append(dst, ip.AsSlice()...)
	return binary.BigEndian.AppendUint16(dst, a.Port())
}

// ParsePEX decodes a ut_pex message. Entries with port 0 or an unusable
// address are dropped; a list whose length is not a multiple of the entry
// size is an error.
func ParsePEX(b []byte) (PEX, error) {
	var w struct {
		Added    string `bencode:"added"`
		AddedF   string `bencode:"added.f"`
		Added6   string `bencode:"added6"`
		Added6F  string `bencode:"added6.f"`
		Dropped  string `bencode:"dropped"`
		Dropped6 string `bencode:"dropped6"`
	}
	if err := bencode.Unmarshal(b, &w); err != nil {
		return PEX{}, fmt.Errorf("%w: ut_pex: %v", ErrProtocol, err)
	}
	var p PEX
	var err error
	add := func(list *[]netip.AddrPort, flags *[]byte, s, f string, size int) {
		if err != nil {
			return
		}
		if len(s)%size != 0 {
			err = fmt.Errorf("%w: ut_pex list of %d bytes", ErrProtocol, len(s))
			return
		}
		for i := 0; i+size <= len(s) && len(*list) < maxPEXPeers; i += size {
			ip, _ := netip.AddrFromSlice([]byte(s[i : i+size-2]))
			port := binary.BigEndian.Uint16([]byte(s[i+size-2 : i+size]))
			if port == 0 || !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			*list = append(*list, netip.AddrPortFrom(ip, port))
			if flags != nil {
				var fl byte
				if k := i / size; k < len(f) {
					fl = f[k]
				}
				*flags = append(*flags, fl)
			}
		}
	}
	add(&p.Added, &p.AddedFlags, w.Added, w.AddedF, 6)
	add(&p.Added, &p.AddedFlags, w.Added6, w.Added6F, 18)
	add(&p.Dropped, nil, w.Dropped, "", 6)
	add(&p.Dropped, nil, w.Dropped6, "", 18)
	if err != nil {
		return PEX{}, err
	}
	return p, nil
}
