package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/engine/publish"

	swapp "github.com/swarmdrop/swarmdrop/app"

	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// call is one command a fakeBackend received.
type call struct {
	Name, Arg string
	Flag      bool
}

// fakeBackend records commands; it stands in for the engine in tests of
// the window's own logic. Its channels are fed by the test.
type fakeBackend struct {
	mu       sync.Mutex
	calls    []call
	settings swapp.Settings
	nextID   int
	addErr   error
	addIH    string                // the info hash adds return
	chosen   []engine.FilePriority // the last StartChosen's or SetFilePriorities' files
	snaps    chan engine.Snapshot
	events   chan engine.Event
	stateDir string // where ImportKey saves keys ("": the working folder; tests set it)
	// published is the last Publish's request.
	published engine.PublishRequest
}

func newFakeBackend() *fakeBackend {
	s := swapp.Settings{Bootstrap: "127.0.0.1:6881", DownloadDir: "/tmp/dl", Port: 0, MaxConnections: 200}
	return &fakeBackend{settings: s, snaps: make(chan engine.Snapshot, 1), events: make(chan engine.Event, 16)}
}

func (f *fakeBackend) record(name, arg string, flag bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{name, arg, flag})
	f.nextID++
	return f.nextID
}

func (f *fakeBackend) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeBackend) AddTorrentFile(p string, _ engine.AddOptions) (string, error) {
	f.record("AddTorrentFile", p, false)
	return f.addIH, f.addErr
}
func (f *fakeBackend) AddMagnet(u string, _ engine.AddOptions) (string, error) {
	f.record("AddMagnet", u, false)
	return f.addIH, f.addErr
}
func (f *fakeBackend) Remove(ih string, data bool) { f.record("Remove", ih, data) }
func (f *fakeBackend) Pause(ih string)             { f.record("Pause", ih, false) }
func (f *fakeBackend) Resume(ih string)            { f.record("Resume", ih, false) }
func (f *fakeBackend) ResumeIgnoringSpace(ih string) {
	f.record("ResumeIgnoringSpace", ih, false)
}
func (f *fakeBackend) StartChosen(ih, dir string, files []engine.FilePriority, paused bool) {
	f.mu.Lock()
	f.chosen = files
	f.mu.Unlock()
	f.record("StartChosen", ih+" "+dir, paused)
}
func (f *fakeBackend) SetFilePriorities(ih string, files []engine.FilePriority) {
	f.mu.Lock()
	f.chosen = files
	f.mu.Unlock()
	f.record("SetFilePriorities", ih, false)
}
func (f *fakeBackend) Move(ih, dir string) { f.record("Move", ih+" "+dir, false) }
func (f *fakeBackend) Recheck(ih string)   { f.record("Recheck", ih, false) }
func (f *fakeBackend) AddPeer(ih, addr string) error {
	f.record("AddPeer", ih+" "+addr, false)
	if _, err := netip.ParseAddrPort(addr); err != nil {
		return err
	}
	return nil
}
func (f *fakeBackend) SetTorrentLimits(ih string, down, up int64) {
	f.record("SetTorrentLimits", fmt.Sprintf("%s %d %d", ih, down, up), false)
}
func (f *fakeBackend) AddTrackers(ih string, tiers [][]string) {
	f.record("AddTrackers", fmt.Sprintf("%s %v", ih, tiers), false)
}
func (f *fakeBackend) TorrentFile(_ context.Context, ih string) ([]byte, error) {
	f.record("TorrentFile", ih, false)
	return nil, errors.New("the fake backend has no .torrent")
}
func (f *fakeBackend) PauseAll()  { f.record("PauseAll", "", false) }
func (f *fakeBackend) ResumeAll() { f.record("ResumeAll", "", false) }
func (f *fakeBackend) Create(r engine.CreateRequest) int {
	return f.record("Create", r.Name, false)
}
func (f *fakeBackend) CancelCreate(id int) { f.record("CancelCreate", "", false) }
func (f *fakeBackend) Publish(r engine.PublishRequest) int {
	f.mu.Lock()
	f.published = r
	f.mu.Unlock()
	return f.record("Publish", r.Path, false)
}
func (f *fakeBackend) SetAutoUpdate(id string, on bool) { f.record("SetAutoUpdate", id, on) }
func (f *fakeBackend) UpdateNow(id string)              { f.record("UpdateNow", id, false) }
func (f *fakeBackend) Unfollow(id string)               { f.record("Unfollow", id, false) }
func (f *fakeBackend) ImportKey(data []byte) (string, error) {
	f.record("ImportKey", string(data), false)
	return publish.ImportKey(f.stateDir, data)
}
func (f *fakeBackend) Ping(c string) int                 { return f.record("Ping", c, false) }
func (f *fakeBackend) Snapshots() <-chan engine.Snapshot { return f.snaps }
func (f *fakeBackend) Events() <-chan engine.Event       { return f.events }
func (f *fakeBackend) Settings() swapp.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings
}
func (f *fakeBackend) SetSettings(s swapp.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	f.settings = s
	f.mu.Unlock()
	f.record("SetSettings", s.Bootstrap, false)
	return nil
}
func (f *fakeBackend) DefaultNodes(engine.Snapshot) []metainfo.Node {
	return f.Settings().Contacts()
}

// engineBackend is a real engine with settings kept in memory.
type engineBackend struct {
	*engine.Engine
	mu       sync.Mutex
	settings swapp.Settings
}

func (b *engineBackend) Settings() swapp.Settings {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.settings
}

func (b *engineBackend) SetSettings(s swapp.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	b.settings = s
	b.mu.Unlock()
	return nil
}

func (b *engineBackend) DefaultNodes(snap engine.Snapshot) []metainfo.Node {
	return b.Engine.DefaultNodes(b.Settings().Contacts(), snap)
}

// startEngine runs a hermetic engine (loopback, port 0, no DHT, no UPnP,
// temporary folders) until the test ends.
func startEngine(t *testing.T) *engineBackend {
	t.Helper()
	dl := t.TempDir()
	e := runEngine(t, engine.Config{DownloadDir: dl, NoDHT: true})
	return &engineBackend{Engine: e, settings: swapp.Settings{Bootstrap: "127.0.0.1:6881", DownloadDir: dl, MaxConnections: 50}}
}

// runEngine runs an engine on 127.0.0.1 with UPnP and local peer
// discovery off and a temporary state folder, as cfg says otherwise, until
// the test ends.
func runEngine(t *testing.T, cfg engine.Config) *engine.Engine {
	t.Helper()
	cfg.StateDir, cfg.Bind, cfg.NoUPnP, cfg.NoLSD, cfg.SnapshotEvery = t.TempDir(), "127.0.0.1", true, true, 50*time.Millisecond
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	return e
}

// newTestWindow builds the main window in a test app.
func newTestWindow(t *testing.T, be Backend) *mainWindow {
	t.Helper()
	a := test.NewTempApp(t)
	m := newMainWindow(a, be)
	t.Cleanup(m.win.Close)
	return m
}

// pump applies snapshots and events from be to m, on the test goroutine,
// until done returns true; it fails t after timeout.
func pump(t *testing.T, m *mainWindow, be Backend, timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for !done() {
		select {
		case s := <-be.Snapshots():
			m.applySnapshot(s)
		case ev := <-be.Events():
			m.handleEvent(ev)
		case <-deadline:
			t.Fatalf("condition not met within %v", timeout)
		}
	}
}

// mktorrent makes a torrent of path with the given log2 piece length.
func mktorrent(t *testing.T, path string, log2 int) *metainfo.MetaInfo {
	t.Helper()
	out, _ := testpeers.Mktorrent(t, path, log2)
	return parseTorrentFile(t, out)
}

func listenTCP() (net.Listener, error) { return net.Listen("tcp", ":0") }

func portOf(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }
