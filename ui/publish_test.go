package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	swapp "github.com/swarmdrop/swarmdrop/app"
	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/internal/testpeers"
)

// TestDropPublishesTrackerless: a folder dropped on the window opens the
// create dialog with the settings' contact prefilled; the torrent it makes
// seeds at once, and a second engine with an empty state and no contacts
// of its own downloads it using only the torrent's nodes.
func TestDropPublishesTrackerless(t *testing.T) {
	p := testpeers.StartLT(t, "dht", "--port", "0", "--ip", "127.0.0.28", "--seconds", "150")
	router := fmt.Sprintf("127.0.0.28:%d", p.Port(t))
	dir := filepath.Join(t.TempDir(), "Dropped folder")
	testpeers.RandomFile(t, filepath.Join(dir, "one.bin"), 300_000, 1)
	testpeers.RandomFile(t, filepath.Join(dir, "two", "three.bin"), 40_000, 2)

	pub := runEngine(t, engine.Config{DownloadDir: t.TempDir(), Bootstrap: []string{router}})
	be := &engineBackend{Engine: pub, settings: swapp.Settings{Bootstrap: router, DownloadDir: t.TempDir(), MaxConnections: 50}}
	m := newTestWindow(t, be)
	m.onDropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(dir)})
	c := m.lastCreate
	if c == nil {
		t.Fatal("dropping a folder opened no create dialog")
	}
	if c.name.Text != "Dropped folder" || !strings.Contains(c.nodes.Text, router) {
		t.Fatalf("dialog name %q nodes %q", c.name.Text, c.nodes.Text)
	}
	c.nodes.SetText(router) // only the contact both sides can reach
	c.onCreate()
	pump(t, m, be, 30*time.Second, func() bool { return c.created.InfoHash != "" || c.problem.Text != "" })
	if c.problem.Text != "" {
		t.Fatalf("creation failed: %s", c.problem.Text)
	}
	pump(t, m, be, 30*time.Second, func() bool {
		return len(m.list.rows) == 1 && m.list.rows[0].view.State == string(engine.StateSeeding)
	})

	dl := t.TempDir()
	fetch := runEngine(t, engine.Config{DownloadDir: dl})
	ih, err := fetch.AddTorrent(c.created.Torrent, engine.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(90 * time.Second)
	for done := false; !done; {
		select {
		case s := <-fetch.Snapshots():
			for _, ts := range s.Torrents {
				if ts.InfoHash == ih && ts.State == engine.StateSeeding {
					done = true
				}
			}
		case <-pub.Snapshots():
		case <-deadline:
			t.Fatal("the second engine did not complete through the torrent's nodes within 90 s")
		}
	}
	for _, rel := range []string{"one.bin", filepath.Join("two", "three.bin")} {
		a, _ := os.ReadFile(filepath.Join(dir, rel))
		b, err := os.ReadFile(filepath.Join(dl, "Dropped folder", rel))
		if err != nil || string(a) != string(b) {
			t.Fatalf("%s differs after the download (%v)", rel, err)
		}
	}
}
