package swarm

import (
	"bytes"
	"testing"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/peerwire"
)

// TestPipeSkipCancels: a file skipped while its pieces are being
// downloaded stops at once: every outstanding request for a piece of it
// only is cancelled, none is sent after the cancels, and the other file
// still completes byte for byte.
func TestPipeSkipCancels(t *testing.T) {
	const pl = 2 * BlockSize
	// a: pieces 0-3, b: pieces 4-7, each file on piece boundaries.
	content, mi := multiTorrent(t, pl, 4*pl, 4*pl)
	s, st := pipeSwarm(t, mi, content, false)
	st.mu.Lock()
	st.files = mi.Info.Files
	st.mu.Unlock()
	r := dialPipe(t, s, "10.1.0.2:6881", plain, mi.Info.NumPieces()).follow()
	r.send(peerwire.Message{ID: peerwire.Bitfield, Bitfield: []byte{0xff}}, peerwire.Message{ID: peerwire.Unchoke})
	inB := func(m peerwire.Message) bool { return m.Index >= 4 }
	serve := func(m peerwire.Message) {
		r.send(peerwire.Message{ID: peerwire.Piece, Index: m.Index, Begin: m.Begin,
			Block: content[int(m.Index)*pl+int(m.Begin):][:m.Length]})
	}
	// Serve a's blocks, hold b's until at least one is outstanding.
	held := map[[2]uint32]bool{}
	for len(held) == 0 {
		m := r.expect("a request", is(peerwire.Request), nil)
		if inB(m) {
			held[[2]uint32{m.Index, m.Begin}] = true
		} else {
			serve(m)
		}
	}
	s.SetFilePriorities([]Priority{Normal, Skip})
	// Until a's pieces are all in: b's held requests must all be
	// cancelled, and no request for b may follow the first cancel.
	cancelled := false
	deadline := time.Now().Add(10 * time.Second)
	for !aDone(st, content, 4*pl) {
		if time.Now().After(deadline) {
			t.Fatalf("file a not complete within 10 s; b's requests still held: %d", len(held))
		}
		var m peerwire.Message
		select {
		case m = <-r.msgs:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		switch {
		case m.Keepalive:
		case m.ID == peerwire.Cancel:
			cancelled = true
			delete(held, [2]uint32{m.Index, m.Begin})
		case m.ID == peerwire.Request && inB(m) && cancelled:
			t.Fatalf("request for piece %d of the skipped file after the cancels", m.Index)
		case m.ID == peerwire.Request && inB(m):
			held[[2]uint32{m.Index, m.Begin}] = true
		case m.ID == peerwire.Request:
			serve(m)
		}
	}
	// Cancels are queued before anything the swarm sends after
	// SetFilePriorities; drain what is already here.
	for len(held) > 0 {
		m := r.expect("a cancel of the skipped file's requests", is(peerwire.Cancel), nil)
		delete(held, [2]uint32{m.Index, m.Begin})
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if bytes.Count(st.data[4*pl:], []byte{0}) != 4*pl {
		t.Fatal("bytes of the skipped file were written")
	}
}

// aDone reports whether the first n bytes of st are content's.
func aDone(st *memStorage, content []byte, n int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return bytes.Equal(st.data[:n], content[:n])
}
