package engine

import (
	"errors"
	"time"

	"github.com/swarmdrop/swarmdrop/engine/storage"
)

// Event is a one-off notice from the engine, on Events(): one of
// TorrentAdded, TorrentDuplicate, TorrentFinished, TorrentFailed,
// MoveFinished, MoveFailed, Problem, CreateProgress, Created,
// CreateFailed and PingResult. Events are plain values, safe to
// keep and read from any goroutine.
type Event interface{ isEvent() }

// TorrentAdded: a torrent joined the list.
type TorrentAdded struct{ InfoHash, Name string }

// TorrentDuplicate: a torrent already in the list was added again
// (nothing else happened; peers given with it are used). NewTrackers
// holds the trackers, by tier, that the new copy has and the torrent
// lacks (nil: none): the user may add them with AddTrackers.
type TorrentDuplicate struct {
	InfoHash, Name string
	NewTrackers    [][]string
}

// MoveFinished: a torrent's data was moved (Move) into Dir, and the
// torrent goes on from there.
type MoveFinished struct{ InfoHash, Name, Dir string }

// MoveFailed: moving a torrent's data failed or was cancelled; its data
// stays in the old folder, whole, and the torrent goes on from there.
type MoveFailed struct {
	InfoHash, Name string
	Err            error
}

// TorrentFinished: a torrent completed its download (not sent for one
// that was complete when it started).
type TorrentFinished struct{ InfoHash, Name string }

// TorrentFailed: a torrent stopped on an error; its status shows the
// same error until it is resumed.
type TorrentFailed struct {
	InfoHash, Name string
	Err            error
}

// Problem is a failure no torrent's status shows: saving the torrent list
// or a torrent's metadata, restoring the list, removing data, the DHT
// stopping. InfoHash and Name are set when it concerns one torrent.
type Problem struct {
	InfoHash, Name string
	Err            error
}

// CreateProgress: Hashed bytes of Total hashed so far by the Create
// request Request.
type CreateProgress struct {
	Request       int
	Hashed, Total int64
}

// Created: the Create request Request made a torrent (which seeds unless
// NoSeed): its .torrent bytes and magnet link.
type Created struct {
	Request        int
	InfoHash, Name string
	Torrent        []byte
	Magnet         string
}

// CreateFailed: the Create request Request failed, or was cancelled
// (errors.Is(Err, ErrCancelled)).
type CreateFailed struct {
	Request int
	Err     error
}

// PingResult: the answer to the Ping request Request. Err is nil when
// Contact answered, after RTT; else it wraps ErrNoReply or ErrDHTOff.
type PingResult struct {
	Request int
	Contact string
	RTT     time.Duration
	Err     error
}

func (TorrentAdded) isEvent()     {}
func (TorrentFinished) isEvent()  {}
func (TorrentDuplicate) isEvent() {}
func (MoveFinished) isEvent()     {}
func (MoveFailed) isEvent()       {}
func (TorrentFailed) isEvent()    {}
func (Problem) isEvent()          {}
func (CreateProgress) isEvent()   {}
func (Created) isEvent()          {}
func (CreateFailed) isEvent()     {}
func (PingResult) isEvent()       {}

// Errors the engine's events and statuses wrap, for callers to test with
// errors.Is.
var (
	// ErrNotEnoughSpace: a download was not started because what it
	// still has to write does not fit in its folder's free space.
	// ResumeIgnoringSpace starts it anyway.
	ErrNotEnoughSpace = errors.New("not enough free space")
	// ErrNoSpace: the disk filled up while writing.
	ErrNoSpace = storage.ErrNoSpace
	// ErrRemovingData: deleting a removed torrent's files failed.
	ErrRemovingData = errors.New("removing data")
	// ErrCancelled: a torrent creation, or a move of a torrent's data
	// (MoveFailed), was cancelled.
	ErrCancelled = errors.New("cancelled")
	// ErrMoveTarget: a move (MoveFailed) found a file of the same name
	// in the new folder; nothing is ever overwritten.
	ErrMoveTarget = storage.ErrMoveTarget
	// ErrNoReply: a pinged contact did not answer.
	ErrNoReply = errors.New("no reply")
	// ErrDHTOff: the DHT is off, so nothing can be pinged.
	ErrDHTOff = errors.New("the DHT is off")
	// ErrResumeNotSaved: a torrent's resume data could not be written;
	// it is tried again.
	ErrResumeNotSaved = errors.New("resume data not saved")
)
