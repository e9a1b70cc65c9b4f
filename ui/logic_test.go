package ui

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

func parseTorrentFile(t *testing.T, path string) *metainfo.MetaInfo {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return mi
}

func TestClassifyDrop(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want dropPlan
	}{
		{"nothing", nil, dropPlan{}},
		{"one torrent", []string{"/a/b.torrent"}, dropPlan{Torrents: []string{"/a/b.torrent"}}},
		{"upper-case extension", []string{"/a/B.TORRENT"}, dropPlan{Torrents: []string{"/a/B.TORRENT"}}},
		{"magnet", []string{"magnet:?xt=urn:btih:x"}, dropPlan{Magnets: []string{"magnet:?xt=urn:btih:x"}}},
		{"MAGNET upper", []string{"MAGNET:?xt=1"}, dropPlan{Magnets: []string{"MAGNET:?xt=1"}}},
		{"one folder", []string{"/photos"}, dropPlan{Create: []string{"/photos"}}},
		{"file named like torrent dir", []string{"/x.torrent.d"}, dropPlan{Create: []string{"/x.torrent.d"}}},
		{"two items ask", []string{"/a", "/b.txt"}, dropPlan{Create: []string{"/a", "/b.txt"}, AskSplit: true}},
		{"mixed", []string{"/t.torrent", "/a", "", "  "}, dropPlan{Torrents: []string{"/t.torrent"}, Create: []string{"/a"}}},
		{"torrents and two items", []string{"/t.torrent", "/a", "/b"},
			dropPlan{Torrents: []string{"/t.torrent"}, Create: []string{"/a", "/b"}, AskSplit: true}},
	} {
		if got := classifyDrop(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: classifyDrop(%q) = %+v, want %+v", c.name, c.in, got, c.want)
		}
	}
}

const goodMagnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=test"

func TestMagnetDialogValidation(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(800, 600))
	for _, in := range []string{
		"", "hello", "http://example.org/", "magnet:", "magnet:?dn=x", "magnet:?xt=urn:btih:123",
		"magnet:?xt=urn:btih:zz23456789abcdef0123456789abcdef01234567", goodMagnet,
		"magnet:?xt=urn:btih:CIRVKZ4JVPG6ZZZZZZZZZZZZZZZZZZZZ",
	} {
		var added string
		m := newMagnetDialog(&dialogHost{win: w}, func(s string) { added = s })
		m.dlg.Show()
		test.Type(m.entry, in)
		_, err := metainfo.ParseMagnet(in)
		switch {
		case in == "":
			if !m.add.Disabled() || m.problem.Text != "" {
				t.Errorf("empty: add enabled %v, problem %q", !m.add.Disabled(), m.problem.Text)
			}
		case err != nil:
			if !m.add.Disabled() || m.problem.Text != err.Error() {
				t.Errorf("%q: add enabled %v, problem %q, want %q", in, !m.add.Disabled(), m.problem.Text, err)
			}
		default:
			if m.add.Disabled() || m.problem.Text != "" {
				t.Errorf("%q: add disabled %v, problem %q", in, m.add.Disabled(), m.problem.Text)
			}
			test.Tap(m.add)
			if added != in {
				t.Errorf("%q: added %q", in, added)
			}
		}
		m.dlg.Hide()
	}
}

func snapOf(ts ...engine.TorrentStatus) engine.Snapshot {
	return engine.Snapshot{Time: time.Now(), Torrents: ts, ListenPort: 51413,
		DHT: engine.DHTStatus{Enabled: true}, NAT: engine.NATStatus{Enabled: true, State: engine.NATMapped,
			TCP: engine.PortMapping{ExternalPort: 51413}, UDP: engine.PortMapping{Err: "conflict"}}}
}

func TestWindowIntakeSnapshotsAndSelection(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	m.intake([]string{"/x/a.torrent", goodMagnet, "/x/no-extension"})
	got := be.Calls()
	if len(got) != 3 || got[0] != (call{"AddMagnet", goodMagnet, false}) ||
		got[1] != (call{"AddTorrentFile", "/x/a.torrent", false}) || got[2] != (call{"AddTorrentFile", "/x/no-extension", false}) {
		t.Fatalf("intake made calls %+v", got)
	}

	a := engine.TorrentStatus{InfoHash: strings.Repeat("a", 40), Name: "zeta", Size: 3 << 20, Progress: 0.25,
		State: engine.StateDownloading, ETA: 90 * time.Second, Peers: 3, Seeds: 1, RateDown: 2048,
		PiecesTotal: 12, PiecesHave: 3, Have: []byte{0xe0, 0}, Files: []engine.FileStatus{{Path: "zeta/one.bin", Size: 3 << 20, Progress: 0.25}},
		PeerList: []engine.PeerStatus{{Addr: "127.0.0.1:6881", Client: "libtorrent", Source: "manual", Flags: "D"}}}
	b := engine.TorrentStatus{InfoHash: strings.Repeat("b", 40), Name: "alpha", State: engine.StateError, Err: errors.New("disk full")}
	m.applySnapshot(snapOf(a, b))
	if len(m.list.rows) != 2 || m.list.rows[0].view.Name != "zeta" || m.list.rows[1].view.State != "error: disk full" || !m.list.rows[1].view.Failed {
		t.Fatalf("rows %+v", m.list.rows)
	}
	if r := m.list.rows[0].view; r.ETA != "1m 30s" || r.Down != "2.0 KiB/s" || r.Peers != "3 (1)" || r.Size != "3.0 MiB" {
		t.Errorf("row 0 %+v", r)
	}
	// With files skipped, the row's size is what it downloads.
	if v := viewOf(engine.TorrentStatus{Size: 3 << 20, Wanted: 1 << 20}); v.Size != "1.0 MiB" {
		t.Errorf("size with skipped files %q", v.Size)
	}
	if got := m.status.dht.Text; got != "⚠ DHT: "+noAnswerYet { // a contact is set, none answered
		t.Errorf("status DHT %q", got)
	}
	if got := m.status.nat.Text; !strings.Contains(got, "TCP: mapped to 51413") || !strings.Contains(got, "UDP: failed (conflict)") {
		t.Errorf("status NAT %q", got)
	}
	if !m.pause.Disabled() || !m.remove.Disabled() {
		t.Error("selection buttons enabled with nothing selected")
	}

	m.list.selectIndex(0)
	if m.list.current != a.InfoHash || !strings.HasPrefix(m.details.summary.Text, "zeta") {
		t.Fatalf("selected %q, summary %q", m.list.current, m.details.summary.Text)
	}
	if m.pause.Disabled() || !m.resume.Disabled() {
		t.Error("pause should be on, resume off for a downloading torrent")
	}
	test.Tap(m.pause)
	if c := be.Calls(); c[len(c)-1] != (call{"Pause", a.InfoHash, false}) {
		t.Errorf("pause sent %+v", c[len(c)-1])
	}
	if got := m.details.files.files[0].Path; got != "zeta/one.bin" {
		t.Errorf("file cell %q", got)
	}
	if got := m.details.peerCell(0, 2); got != "libtorrent" {
		t.Errorf("peer cell %q", got)
	}
	if got := peerVia(engine.PeerStatus{Transport: "uTP", Family: "IPv6"}); got != "uTP v6" {
		t.Errorf("peer via %q", got)
	}

	// Sorted by name, the selection follows its torrent.
	m.list.sortBy("name")
	a.Progress = 0.5
	m.applySnapshot(snapOf(a, b))
	if m.list.rows[0].view.Name != "alpha" || m.list.rows[1].view.Progress != 0.5 || m.list.current != a.InfoHash {
		t.Fatalf("after sort rows %+v selected %q", m.list.rows, m.list.current)
	}
	// The failed torrent: resume is offered and the error shown.
	m.list.selectIndex(0)
	if m.resume.Disabled() || m.details.problem.Text != "Error: disk full" {
		t.Errorf("failed torrent: resume disabled %v, problem %q", m.resume.Disabled(), m.details.problem.Text)
	}
	// Remove asks first.
	m.onRemove()
	if m.win.Canvas().Overlays().Top() == nil {
		t.Fatal("remove did not ask")
	}
	if c := be.Calls(); c[len(c)-1].Name == "Remove" {
		t.Fatal("removed without asking")
	}
	// The torrent disappears: the selection is dropped.
	m.applySnapshot(snapOf(a))
	if m.list.current != "" || !m.remove.Disabled() {
		t.Errorf("selection %q after removal", m.list.current)
	}
}

func TestRemoveDialogChoices(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	for _, withData := range []bool{false, true} {
		got := -1
		d := showRemoveDialog(&dialogHost{win: w}, []engine.TorrentStatus{{Name: "x"}}, func(b bool) {
			got = 0
			if b {
				got = 1
			}
		})
		label := "Remove, keep data"
		if withData {
			label = "Remove and delete data"
		}
		b := findButton(t, w.Canvas().Overlays().Top(), label)
		test.Tap(b)
		if (got == 1) != withData || got < 0 {
			t.Errorf("%s: callback got %d", label, got)
		}
		d.Hide()
	}
}

// findButton finds a button by its label in o's tree.
func findButton(t *testing.T, o fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil || o == nil {
			return
		}
		if b, ok := o.(*widget.Button); ok && b.Text == label {
			found = b
			return
		}
		if b, ok := o.(*keyButton); ok && b.Text == label {
			found = &b.Button
			return
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				walk(x)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, x := range test.WidgetRenderer(w).Objects() {
				walk(x)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no button %q", label)
	}
	return found
}

func TestEventsNotifyAndShowErrors(t *testing.T) {
	be := newFakeBackend()
	m := newTestWindow(t, be)
	m.handleEvent(engine.TorrentFailed{InfoHash: strings.Repeat("a", 40), Err: errors.New("tracker gone")})
	if m.win.Canvas().Overlays().Top() != nil {
		t.Error("a torrent's own failure opened a dialog; it belongs in the row")
	}
	m.handleEvent(engine.Problem{Err: errors.New("saving the torrent list: disk full")})
	if m.win.Canvas().Overlays().Top() == nil {
		t.Error("a command's failure showed no dialog")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{formatSize(0), "0 B"}, {formatSize(1023), "1023 B"}, {formatSize(1536), "1.5 KiB"},
		{formatSize(5 << 30), "5.0 GiB"}, {formatRate(0.5), "–"}, {formatRate(1 << 20), "1.0 MiB/s"},
		{formatETA(-1), "∞"}, {formatETA(59 * time.Second), "59s"}, {formatETA(3*time.Hour + 5*time.Minute), "3h 05m"},
		{formatETA(72 * time.Hour), "3d"}, {plural(1, "peer"), "1 peer"}, {plural(2, "incoming query"), "2 incoming queries"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestEmptyListHint: the drop hint shows only while the list is empty.
func TestEmptyListHint(t *testing.T) {
	l := newTorrentList(nil, sortLayout{})
	l.content()
	if l.empty.Hidden {
		t.Fatal("no hint over an empty list")
	}
	l.apply([]engine.TorrentStatus{{InfoHash: "aa", Name: "x"}})
	if !l.empty.Hidden {
		t.Fatal("hint shown over a torrent")
	}
	l.apply(nil)
	if l.empty.Hidden {
		t.Fatal("no hint after the last torrent went")
	}
}

// TestDHTSummary: the status bar tells "no contacts" from "contacts not
// answering".
func TestDHTSummary(t *testing.T) {
	for _, c := range []struct {
		d        engine.DHTStatus
		contacts bool
		want     string
	}{
		{engine.DHTStatus{}, true, "DHT: off"},
		{engine.DHTStatus{Enabled: true}, false, "DHT: " + noContacts},
		{engine.DHTStatus{Enabled: true}, true, "DHT: " + noAnswerYet},
		{engine.DHTStatus{Enabled: true, Good: 1}, false, "DHT: 1 node (1 good)"},
		{engine.DHTStatus{Enabled: true, Good: 7, Questionable: 2}, true, "DHT: 9 nodes (7 good)"},
		{engine.DHTStatus{Enabled: true, Good: 7, Questionable: 2, IPv6: engine.DHTFamilyStatus{Served: true, Good: 2, Questionable: 1}}, true, "DHT: 9 nodes (7 good), 3 over IPv6"},
		{engine.DHTStatus{Enabled: true, Good: 7, Questionable: 2, IPv6: engine.DHTFamilyStatus{Served: true}}, true, "DHT: 9 nodes (7 good)"},
	} {
		if got := dhtSummary(c.d, c.contacts); got != c.want {
			t.Errorf("dhtSummary(%+v, %v) = %q, want %q", c.d, c.contacts, got, c.want)
		}
	}
}

// TestFamilyTables: the health panel names each family's table once the
// node serves IPv6 (BEP 32), and the IPv4 table alone otherwise.
func TestFamilyTables(t *testing.T) {
	for _, c := range []struct {
		d    engine.DHTStatus
		want string
	}{
		{engine.DHTStatus{Good: 5, Questionable: 1, Buckets: 3}, "5 good and 1 questionable nodes in 3 buckets"},
		{engine.DHTStatus{Good: 7, Questionable: 1, Buckets: 4,
			IPv4: engine.DHTFamilyStatus{Served: true, Good: 5, Questionable: 1, Buckets: 3},
			IPv6: engine.DHTFamilyStatus{Served: true, Good: 2, Buckets: 1}},
			"IPv4: 5 good and 1 questionable nodes in 3 buckets; IPv6: 2 good and 0 questionable nodes in 1 bucket"},
		{engine.DHTStatus{Good: 2, Buckets: 1, IPv6: engine.DHTFamilyStatus{Served: true, Good: 2, Buckets: 1}},
			"IPv4: no socket; IPv6: 2 good and 0 questionable nodes in 1 bucket"},
	} {
		if got := familyTables(c.d); got != c.want {
			t.Errorf("familyTables(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
}
