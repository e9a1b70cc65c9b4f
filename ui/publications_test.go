package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// btpkLink is an updatable link (BEP 46) of a made-up key and salt.
var btpkLink = "magnet:?xs=urn:btpk:" + strings.Repeat("ab", 32) + "&s=6f6e65&dn=alpha"

// lastCall is the fake backend's latest command.
func lastCall(t *testing.T, be *fakeBackend) call {
	t.Helper()
	c := be.Calls()
	if len(c) == 0 {
		t.Fatal("no command reached the backend")
	}
	return c[len(c)-1]
}

// TestCreateUpdatable: with "Updatable" checked, the create dialog
// publishes (Publish with the dropped folder and the nodes, not Create),
// locks the fields the publication decides itself, and shows and copies
// the urn:btpk link instead of a magnet link.
func TestCreateUpdatable(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	dir := filepath.Join(t.TempDir(), "folder")
	testpeers.RandomFile(t, filepath.Join(dir, "a.bin"), 1000, 1)
	c := m.openCreate([]string{dir})
	if c == nil {
		t.Fatal("no create dialog")
	}
	c.updatable.SetChecked(true)
	if !c.name.Disabled() || !c.trackers.Disabled() || c.nodes.Disabled() || c.create.Text != "Publish and seed" {
		t.Fatalf("updatable: name disabled %v, trackers %v, nodes %v, button %q", c.name.Disabled(), c.trackers.Disabled(), c.nodes.Disabled(), c.create.Text)
	}
	c.updatable.SetChecked(false)
	if c.name.Disabled() || c.create.Text != "Create and seed" {
		t.Fatal("unchecking Updatable did not give the normal create back")
	}
	c.updatable.SetChecked(true)
	c.nodes.SetText("127.0.0.1:7000")
	c.onCreate()
	got := lastCall(t, be)
	if got.Name != "Publish" || got.Arg != dir {
		t.Fatalf("create with Updatable called %+v, want Publish of %s", got, dir)
	}
	for _, cl := range be.Calls() {
		if cl.Name == "Create" {
			t.Fatal("Create called for an updatable publication")
		}
	}
	id := c.id
	if m.creates[id] != c {
		t.Fatal("the publish request is not tied to its dialog")
	}
	m.handleEvent(engine.CreateProgress{Request: id, Hashed: 500, Total: 1000})
	if c.progress.Value != 0.5 {
		t.Errorf("progress %v, want 0.5", c.progress.Value)
	}
	m.handleEvent(engine.Published{Request: id, Publication: "k/s", Version: 1, InfoHash: strings.Repeat("c", 40),
		Name: "folder", Link: btpkLink, Torrent: []byte("d4:infod4:name6:folderee")})
	if c.magnet.Text != btpkLink || !c.result.Visible() || c.form.Visible() {
		t.Fatalf("result shows %q (visible %v), want the link", c.magnet.Text, c.result.Visible())
	}
	if !strings.Contains(c.linkLabel.Text, "Updatable link") || !strings.Contains(c.speed.Text, "Version 1") {
		t.Errorf("result labels %q, %q", c.linkLabel.Text, c.speed.Text)
	}
	c.copyMagnet.OnTapped()
	if got := m.app.Clipboard().Content(); got != btpkLink {
		t.Errorf("clipboard %q, want the updatable link", got)
	}
	if _, ok := m.creates[id]; ok {
		t.Error("the finished request is still tracked")
	}
}

// TestCreateUpdatableFails: Cancel while publishing asks the engine to
// stop (CancelCreate, as for a creation); a failed (or cancelled)
// publication shows the engine's error and gives the fields back, with
// Updatable still checked.
func TestCreateUpdatableFails(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	dir := filepath.Join(t.TempDir(), "folder")
	testpeers.RandomFile(t, filepath.Join(dir, "a.bin"), 1000, 1)
	c := m.openCreate([]string{dir})
	c.updatable.SetChecked(true)
	c.onCreate()
	if !c.updatable.Disabled() || !c.nodes.Disabled() {
		t.Fatal("fields editable while publishing")
	}
	if c.cancel.Text != "Cancel" {
		t.Errorf("button %q while publishing, want Cancel", c.cancel.Text)
	}
	c.onCancel() // a publication is cancelled as a creation is
	if got := lastCall(t, be); got.Name != "CancelCreate" || m.host.top() != c.dlg {
		t.Fatalf("Cancel while publishing called %+v (dialog on top: %v), want CancelCreate", got, m.host.top() == c.dlg)
	}
	m.handleEvent(engine.CreateFailed{Request: c.id, Err: errors.New("publishing folder: no state folder")})
	if c.cancel.Text != "Cancel" {
		t.Errorf("button %q after the failure", c.cancel.Text)
	}
	if !strings.Contains(c.problem.Text, "no state folder") || c.updatable.Disabled() || !c.updatable.Checked ||
		c.nodes.Disabled() || !c.name.Disabled() {
		t.Fatalf("after failure: problem %q, updatable disabled %v checked %v, nodes disabled %v, name disabled %v",
			c.problem.Text, c.updatable.Disabled(), c.updatable.Checked, c.nodes.Disabled(), c.name.Disabled())
	}
}

// pubSnap is a snapshot with torrents a (a publication p) and b (none).
func pubSnap(p engine.PublicationStatus) (engine.Snapshot, engine.TorrentStatus, engine.TorrentStatus) {
	a := engine.TorrentStatus{InfoHash: strings.Repeat("a", 40), Name: "alpha", State: engine.StateSeeding, Size: 10}
	b := engine.TorrentStatus{InfoHash: strings.Repeat("b", 40), Name: "beta", State: engine.StateSeeding, Size: 10}
	p.InfoHash = a.InfoHash
	s := snapOf(a, b)
	s.Publications = []engine.PublicationStatus{p}
	return s, a, b
}

func hasItem(menu *fyne.Menu, label string) bool {
	for _, it := range menu.Items {
		if it.Label == label {
			return true
		}
	}
	return false
}

// TestPublisherActions: a publication we publish offers "Publish new
// version" (Publish again with its path; the outcome shows in the status
// bar, a failure in a dialog) and "Export key…" (a copy of the key file,
// readable by its owner only); a plain torrent offers neither.
func TestPublisherActions(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	keyFile := filepath.Join(t.TempDir(), "pub.key")
	if err := os.WriteFile(keyFile, []byte("secret key bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, _ := pubSnap(engine.PublicationStatus{ID: "k/s", Name: "alpha", Publisher: true, Path: "/data/alpha",
		KeyFile: keyFile, Version: 2, Link: btpkLink})
	m.applySnapshot(s)

	m.list.selectIndex(1)
	if menu := m.rowMenu(); hasItem(menu, "Publish new version") || hasItem(menu, "Export key…") {
		t.Fatal("publication actions offered for a plain torrent")
	}
	if m.details.pubRow.Visible() {
		t.Error("publication row shown for a plain torrent")
	}

	m.list.selectIndex(0)
	if !m.details.pubRow.Visible() || !strings.Contains(m.details.pubNote.Text, "Updatable, version 2") ||
		m.details.updateNow.Visible() || m.details.autoCheck.Visible() {
		t.Fatalf("publisher details: row %v %q, update button %v, auto %v", m.details.pubRow.Visible(),
			m.details.pubNote.Text, m.details.updateNow.Visible(), m.details.autoCheck.Visible())
	}
	menu := m.rowMenu()
	if it := menuItem(t, menu, "Export key…"); it.Disabled {
		t.Error("Export key disabled")
	}
	menuItem(t, menu, "Publish new version").Action()
	got := lastCall(t, be)
	if got.Name != "Publish" || got.Arg != "/data/alpha" {
		t.Fatalf("Publish new version called %+v", got)
	}
	id := len(be.Calls()) // the fake's request ids count its calls
	m.handleEvent(engine.CreateProgress{Request: id, Hashed: 1, Total: 2})
	m.handleEvent(engine.Published{Request: id, Publication: "k/s", Version: 3, Name: "alpha", Link: btpkLink})
	if m.status.note.Text != "alpha published as version 3" || !m.status.note.Visible() {
		t.Errorf("status note %q after the new version", m.status.note.Text)
	}
	if m.host.top() != nil {
		t.Fatal("a dialog opened after a successful publication")
	}

	menuItem(t, m.rowMenu(), "Publish new version").Action()
	id = len(be.Calls())
	m.handleEvent(engine.CreateFailed{Request: id, Err: errors.New("folder gone")})
	if m.host.top() == nil {
		t.Fatal("a failed new version showed no error")
	}

	s.Publications[0].KeyFile = ""
	m.applySnapshot(s)
	if !menuItem(t, m.rowMenu(), "Export key…").Disabled {
		t.Error("Export key offered without a key file")
	}

	out := filepath.Join(t.TempDir(), "exported.key")
	w, err := storage.Writer(storage.NewFileURI(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := copyKey(keyFile, w); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil || string(data) != "secret key bytes" {
		t.Fatalf("exported key %q (%v)", data, err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("exported key mode %v, want 0600", st.Mode().Perm())
	}
	w, err = storage.Writer(storage.NewFileURI(filepath.Join(t.TempDir(), "x.key")))
	if err != nil {
		t.Fatal(err)
	}
	if err := copyKey(filepath.Join(t.TempDir(), "missing.key"), w); err == nil {
		t.Error("exporting a missing key file succeeded")
	}
}

// TestFollowedPublication: a followed publication shows its version and a
// newer one available; Update now and the auto-update switch reach the
// engine (and showing a snapshot does not flip the switch); the Updated
// event says "<name> updated to version N" in the status bar.
func TestFollowedPublication(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	s, _, _ := pubSnap(engine.PublicationStatus{ID: "k/s", Name: "alpha", Version: 1, Available: 2, AutoUpdate: false, Link: btpkLink})
	m.applySnapshot(s)
	m.list.selectIndex(0)
	m.applySnapshot(s)
	for _, c := range be.Calls() {
		if c.Name == "SetAutoUpdate" {
			t.Fatalf("showing the publication sent %+v", c)
		}
	}
	d := m.details
	if !d.pubRow.Visible() || d.pubNote.Text != "Updatable, version 1 — version 2 available" {
		t.Fatalf("details row %v %q", d.pubRow.Visible(), d.pubNote.Text)
	}
	if d.updateNow.Disabled() || !d.updateNow.Visible() || d.autoCheck.Checked {
		t.Fatalf("update button disabled %v, auto-update checked %v", d.updateNow.Disabled(), d.autoCheck.Checked)
	}
	test.Tap(d.updateNow)
	if got := lastCall(t, be); got != (call{"UpdateNow", "k/s", false}) {
		t.Fatalf("Update now called %+v", got)
	}
	test.Tap(d.autoCheck)
	if got := lastCall(t, be); got != (call{"SetAutoUpdate", "k/s", true}) {
		t.Fatalf("auto-update switch called %+v", got)
	}

	menu := m.rowMenu()
	if it := menuItem(t, menu, "Update now (to version 2)"); it.Disabled {
		t.Error("Update now disabled in the menu with a version available")
	}
	auto := menuItem(t, menu, "Update automatically")
	if auto.Checked {
		t.Error("the menu says auto-update is on")
	}
	auto.Action()
	if got := lastCall(t, be); got != (call{"SetAutoUpdate", "k/s", true}) {
		t.Fatalf("menu auto-update called %+v", got)
	}

	// Updated: the engine moved to version 2 and auto-update is on.
	m.handleEvent(engine.Updated{Publication: "k/s", Version: 2, InfoHash: strings.Repeat("a", 40), Name: "alpha"})
	if m.status.note.Text != "alpha updated to version 2" || !m.status.note.Visible() {
		t.Fatalf("status note %q after Updated", m.status.note.Text)
	}
	m.handleEvent(engine.Updated{Publication: "k/s", Version: 3, Name: ""})
	if m.status.note.Text != "The publication updated to version 3" {
		t.Errorf("status note %q for a publication without a name", m.status.note.Text)
	}
	s.Publications[0].Version, s.Publications[0].Available, s.Publications[0].AutoUpdate = 2, 0, true
	m.applySnapshot(s)
	if d.pubNote.Text != "Updatable, version 2" || !d.updateNow.Disabled() || !d.autoCheck.Checked {
		t.Fatalf("after the update: %q, update disabled %v, auto %v", d.pubNote.Text, d.updateNow.Disabled(), d.autoCheck.Checked)
	}
	if !menuItem(t, m.rowMenu(), "Update now").Disabled {
		t.Error("Update now offered with no newer version")
	}
	test.Tap(d.autoCheck)
	if got := lastCall(t, be); got != (call{"SetAutoUpdate", "k/s", false}) {
		t.Fatalf("turning auto-update off called %+v", got)
	}
}

// TestAddUpdatableLink: an updatable link pasted in the magnet dialog is
// accepted and followed (AddMagnet, no file choice: its torrent is not
// known yet), with a word in the status bar.
func TestAddUpdatableLink(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	md := newMagnetDialog(m.host, func(uri string) { m.addMagnet(uri) })
	md.entry.SetText(btpkLink)
	if md.add.Disabled() {
		t.Fatalf("updatable link refused: %q", md.problem.Text)
	}
	md.onAddTapped()
	if got := lastCall(t, be); got != (call{"AddMagnet", btpkLink, false}) {
		t.Fatalf("following called %+v", got)
	}
	if len(m.adds) != 0 {
		t.Error("an add dialog opened for an updatable link")
	}
	if !strings.Contains(m.status.note.Text, "Following “alpha”") {
		t.Errorf("status note %q", m.status.note.Text)
	}
}

// TestCreateUpdatableRealEngine: with a real engine (DHT off: Publish
// works without it, the put waits), the create dialog with Updatable
// checked produces a urn:btpk link, the publication appears in the
// snapshot with the row's "Publish new version", and that action after a
// change makes version 2 under the same link.
func TestCreateUpdatableRealEngine(t *testing.T) {
	be := startEngine(t)
	m := newTestWindow(t, be)
	dir := filepath.Join(t.TempDir(), "Shared")
	testpeers.RandomFile(t, filepath.Join(dir, "one.bin"), 100_000, 1)
	testpeers.RandomFile(t, filepath.Join(dir, "two.bin"), 50_000, 2)
	c := m.openCreate([]string{dir})
	c.updatable.SetChecked(true)
	c.nodes.SetText("127.0.0.1:7000")
	c.onCreate()
	pump(t, m, be, 30*time.Second, func() bool { return c.published.Link != "" || c.problem.Text != "" })
	if c.problem.Text != "" {
		t.Fatalf("publishing failed: %s", c.problem.Text)
	}
	link := c.magnet.Text
	if !strings.HasPrefix(link, "magnet:?xs=urn:btpk:") {
		t.Fatalf("link shown %q", link)
	}
	mm, err := metainfo.ParseMutableMagnet(link)
	if err != nil || mm.Name != "Shared" {
		t.Fatalf("link %q: %v (name %q)", link, err, mm.Name)
	}
	if _, err := metainfo.Parse(c.created.Torrent); err != nil {
		t.Fatalf("the .torrent to save: %v", err)
	}
	c.dlg.Hide()
	pump(t, m, be, 30*time.Second, func() bool {
		p, ok := m.publicationOf(c.published.InfoHash)
		return ok && p.Publisher && len(m.list.rows) == 1
	})
	m.list.selectIndex(0)
	if !strings.Contains(m.details.pubNote.Text, "Updatable, version 1") {
		t.Fatalf("details say %q", m.details.pubNote.Text)
	}
	testpeers.RandomFile(t, filepath.Join(dir, "two.bin"), 50_000, 3)
	menuItem(t, m.rowMenu(), "Publish new version").Action()
	pump(t, m, be, 30*time.Second, func() bool {
		return m.status.note.Text == "Shared published as version 2" || m.host.top() != nil
	})
	if m.host.top() != nil {
		t.Fatal("publishing version 2 failed")
	}
	pump(t, m, be, 30*time.Second, func() bool {
		for _, p := range m.snap.Publications {
			if p.Publisher && p.Version == 2 && p.Link == link && p.InfoHash != c.published.InfoHash {
				return true
			}
		}
		return false
	})
}

// TestFollowInWindow: a link added in the window of a second engine
// (empty state, only a libtorrent DHT node as contact) is followed: the
// status bar says version 1 was found, the torrent downloads, and when
// the publisher publishes version 2 the window says "<name> updated to
// version 2" and the details show it.
func TestFollowInWindow(t *testing.T) {
	p := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "127.0.0.37", "--seconds", "150")
	router := fmt.Sprintf("127.0.0.37:%d", p.Port(t))
	root := filepath.Join(t.TempDir(), "Album")
	testpeers.RandomFile(t, filepath.Join(root, "a.bin"), 200_000, 1)
	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 100_000, 2)
	pub := runEngine(t, engine.Config{DownloadDir: t.TempDir(), Bootstrap: []string{router}})
	published := make(chan engine.Published, 4)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the publisher's events: its results, and a failure ends the test
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case ev := <-pub.Events():
				switch ev := ev.(type) {
				case engine.Published:
					published <- ev
				case engine.CreateFailed:
					t.Errorf("publishing failed: %v", ev.Err)
				}
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	waitPublished := func() engine.Published {
		t.Helper()
		select {
		case ev := <-published:
			return ev
		case <-time.After(60 * time.Second):
			t.Fatal("no Published within 60 s")
		}
		return engine.Published{}
	}

	pub.Publish(engine.PublishRequest{Path: root, Nodes: router})
	p1 := waitPublished()
	dl := t.TempDir()
	fol := runEngine(t, engine.Config{DownloadDir: dl, Bootstrap: []string{router}, Timing: engine.Timing{FollowCheck: time.Second}})
	be := &engineBackend{Engine: fol, settings: swapp.Settings{Bootstrap: router, DownloadDir: dl, MaxConnections: 50}}
	m := newTestWindow(t, be)
	if err := m.addMagnet(p1.Link); err != nil {
		t.Fatal(err)
	}
	pump(t, m, be, 60*time.Second, func() bool { return m.status.note.Text == "Album: version 1 found, downloading" })
	pump(t, m, be, 120*time.Second, func() bool {
		return len(m.list.rows) == 1 && m.list.rows[0].view.State == string(engine.StateSeeding)
	})

	testpeers.RandomFile(t, filepath.Join(root, "b.bin"), 120_000, 3)
	pub.Publish(engine.PublishRequest{Path: root, Nodes: router})
	p2 := waitPublished()
	if p2.Version != 2 || p2.Link != p1.Link {
		t.Fatalf("second version %+v after %+v", p2, p1)
	}
	pump(t, m, be, 60*time.Second, func() bool { return m.status.note.Text == "Album updated to version 2" })
	pump(t, m, be, 120*time.Second, func() bool {
		if len(m.list.rows) != 1 || m.list.rows[0].view.State != string(engine.StateSeeding) {
			return false
		}
		m.list.selectIndex(0)
		return m.details.pubNote.Text == "Updatable, version 2"
	})
	if ts, ok := m.selectedTorrent(); ok {
		t.Logf("version 2 fetched %d bytes; the changed file is 120000 bytes (pieces of %d)", ts.Downloaded, ts.PieceLength)
	}
	b, err := os.ReadFile(filepath.Join(dl, "Album", "b.bin"))
	want, _ := os.ReadFile(filepath.Join(root, "b.bin"))
	if err != nil || string(b) != string(want) {
		t.Fatalf("b.bin after the update differs (%v)", err)
	}
}
