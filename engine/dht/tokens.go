package dht

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"net/netip"
	"sync"
	"time"
)

// tokenLen is the length of the tokens we hand out.
const tokenLen = 8

// tokenSecrets makes and checks get_peers tokens: a token is a hash of a
// secret and the asker's IP address, so it only works from that address.
// The secret changes every rotate period and the previous one is still
// accepted, so a token lives between one and two periods (BEP 5: rotated
// every 5 minutes, accepted for 10). Safe for concurrent use.
type tokenSecrets struct {
	rotate time.Duration

	// mu guards cur, prev and rotated.
	mu        sync.Mutex
	cur, prev [16]byte
	rotated   time.Time
}

func newTokenSecrets(rotate time.Duration, now time.Time) *tokenSecrets {
	s := &tokenSecrets{rotate: rotate, rotated: now}
	rand.Read(s.cur[:])
	rand.Read(s.prev[:])
	return s
}

func (s *tokenSecrets) rotateLocked(now time.Time) {
	for i := 0; i < 2 && now.Sub(s.rotated) >= s.rotate; i++ {
		s.prev = s.cur
		rand.Read(s.cur[:])
		s.rotated = s.rotated.Add(s.rotate)
	}
	if now.Sub(s.rotated) >= s.rotate { // idle for long: both secrets are new
		s.rotated = now
	}
}

// Token returns the token for ip.
func (s *tokenSecrets) Token(ip netip.Addr, now time.Time) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotateLocked(now)
	return tokenFor(s.cur, ip)
}

// Valid reports whether tok was handed to ip under the current or the
// previous secret.
func (s *tokenSecrets) Valid(tok []byte, ip netip.Addr, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotateLocked(now)
	return hmac.Equal(tok, tokenFor(s.cur, ip)) || hmac.Equal(tok, tokenFor(s.prev, ip))
}

func tokenFor(secret [16]byte, ip netip.Addr) []byte {
	h := hmac.New(sha1.New, secret[:])
	b := ip.Unmap().As16()
	h.Write(b[:])
	return h.Sum(nil)[:tokenLen]
}
