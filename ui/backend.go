package ui

import (
	"context"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"

	swapp "github.com/swarmdrop/swarmdrop/app"
)

// Backend is what the window needs from the engine and the session. The
// real one is sessionBackend; tests use a real engine with settings kept
// in memory, or a recording fake. Implementations must be safe for
// concurrent use; the command methods must not block.
type Backend interface {
	AddTorrentFile(path string, opt engine.AddOptions) (string, error)
	AddMagnet(uri string, opt engine.AddOptions) (string, error)
	Remove(infoHash string, withData bool)
	Pause(infoHash string)
	Resume(infoHash string)
	ResumeIgnoringSpace(infoHash string)
	StartChosen(infoHash, dir string, files []engine.FilePriority, paused bool)
	SetFilePriorities(infoHash string, files []engine.FilePriority)
	Move(infoHash, newDir string)
	Recheck(infoHash string)
	AddPeer(infoHash, addr string) error
	SetTorrentLimits(infoHash string, down, up int64)
	AddTrackers(infoHash string, tiers [][]string)
	// TorrentFile returns a torrent's .torrent (see
	// engine.Engine.TorrentFile); it waits for the engine, so the window
	// calls it off the Fyne thread.
	TorrentFile(ctx context.Context, infoHash string) ([]byte, error)
	PauseAll()
	ResumeAll()
	Create(req engine.CreateRequest) int
	CancelCreate(id int)
	// Publish, SetAutoUpdate, UpdateNow, Unfollow and ImportKey are the
	// updatable publications' commands (BEP 46; see engine.Engine.Publish).
	Publish(req engine.PublishRequest) int
	SetAutoUpdate(id string, on bool)
	UpdateNow(id string)
	Unfollow(id string)
	ImportKey(data []byte) (string, error)
	Ping(contact string) int
	Snapshots() <-chan engine.Snapshot
	Events() <-chan engine.Event
	Settings() swapp.Settings
	SetSettings(s swapp.Settings) error
	DefaultNodes(snap engine.Snapshot) []metainfo.Node
}

// sessionBackend is the Backend of the real program: the session's engine
// for commands and the session for settings.
type sessionBackend struct {
	*engine.Engine
	s *swapp.Session
}

func (b sessionBackend) Settings() swapp.Settings { return b.s.Settings() }

func (b sessionBackend) SetSettings(n swapp.Settings) error { return b.s.SetSettings(n) }

func (b sessionBackend) DefaultNodes(snap engine.Snapshot) []metainfo.Node {
	return b.s.DefaultNodes(snap)
}
