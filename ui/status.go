package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

// What the status bar says when the DHT knows no node: with no contact
// configured, and with contacts that have not answered (yet).
const (
	noContacts  = "no DHT contacts — add one in Settings"
	noAnswerYet = "no node yet — your contacts have not answered"
)

// statusBar shows the DHT, the listening port, the port mapping and the
// total rates, and for a few seconds what the user's last action did
// ("Magnet link copied"). Its texts truncate in a narrow window.
type statusBar struct {
	dht       *widget.Hyperlink
	port      *cellLabel
	nat       *cellLabel
	note      *cellLabel
	rates     *cellLabel
	row       *fyne.Container
	noteUntil time.Time // when the note from say may go
}

func newStatusBar(onDHT func()) *statusBar {
	s := &statusBar{dht: widget.NewHyperlink("DHT: starting", nil), port: newCellLabel(fyne.TextTruncateEllipsis),
		nat: newCellLabel(fyne.TextTruncateEllipsis), note: newCellLabel(fyne.TextTruncateEllipsis),
		rates: newCellLabel(fyne.TextTruncateEllipsis)}
	s.dht.OnTapped = onDHT
	s.dht.Truncation = fyne.TextTruncateEllipsis
	s.note.Importance = widget.SuccessImportance
	s.note.Hide()
	return s
}

func (s *statusBar) content() fyne.CanvasObject {
	s.row = container.New(fitRow{spacer: 5}, s.dht, widget.NewSeparator(), s.port, widget.NewSeparator(), s.nat,
		s.note, s.rates)
	return s.row
}

// texts are the bar's texts, to tell when the row must be laid out again.
func (s *statusBar) texts() [5]string {
	return [5]string{s.dht.Text, s.port.Text, s.nat.Text, s.note.Text, s.rates.Text}
}

func (s *statusBar) relayout(before [5]string) {
	if s.row != nil && s.texts() != before {
		s.row.Refresh()
	}
}

// say shows what an action did for a few seconds (until the first
// snapshot after noteFor: no timer, so nothing reaches the Fyne thread
// from another goroutine, even after quit).
func (s *statusBar) say(text string) {
	s.noteUntil = time.Now().Add(noteFor)
	s.note.SetText(text)
	s.note.Show()
	if s.row != nil {
		s.row.Refresh()
	}
}

// noteFor is how long a note from say stays at least.
const noteFor = 6 * time.Second

// expireNote hides the note from say once its time is up.
func (s *statusBar) expireNote(now time.Time) {
	if s.note.Visible() && now.After(s.noteUntil) {
		s.note.Hide()
		if s.row != nil {
			s.row.Refresh()
		}
	}
}

// apply shows a snapshot; haveContacts tells whether the settings hold
// bootstrap contacts.
func (s *statusBar) apply(snap engine.Snapshot, haveContacts bool) {
	defer s.relayout(s.texts())
	s.expireNote(time.Now())
	text := dhtSummary(snap.DHT, haveContacts)
	if snap.DHT.Enabled && snap.DHT.Good+snap.DHT.Questionable == 0 {
		text = "⚠ " + text
	}
	if s.dht.Text != text {
		s.dht.SetText(text)
	}
	switch {
	case snap.ListenErr != nil:
		s.port.show("Not listening: "+snap.ListenErr.Error(), widget.DangerImportance)
	case snap.ListenPort == 0:
		s.port.show("Port: starting", s.port.Importance)
	default:
		s.port.show(fmt.Sprintf("Port %d", snap.ListenPort), widget.MediumImportance)
	}
	s.nat.show(natSummary(snap.NAT), s.nat.Importance)
	s.rates.show(fmt.Sprintf("↓ %s   ↑ %s   %s", formatRate(snap.RateDown), formatRate(snap.RateUp), plural(snap.Peers, "peer")), s.rates.Importance)
}

// showLabel gives label l text and importance imp, redrawing it only when
// either changed: a label that may truncate lays its text out anew at
// each refresh, and the status bar follows every snapshot.
func showLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text != text || l.Importance != imp {
		l.Text, l.Importance = text, imp
		l.Refresh()
	}
}

// dhtSummary is the status bar's word on the DHT.
func dhtSummary(d engine.DHTStatus, haveContacts bool) string {
	switch {
	case !d.Enabled:
		return "DHT: off"
	case d.Good+d.Questionable == 0 && haveContacts:
		return "DHT: " + noAnswerYet
	case d.Good+d.Questionable == 0:
		return "DHT: " + noContacts
	}
	text := fmt.Sprintf("DHT: %s (%d good)", plural(d.Good+d.Questionable, "node"), d.Good)
	if v6 := d.IPv6.Good + d.IPv6.Questionable; d.IPv6.Served && v6 > 0 {
		text += fmt.Sprintf(", %d over IPv6", v6)
	}
	return text
}

// natSummary shows the TCP and UDP mappings side by side.
func natSummary(n engine.NATStatus) string {
	if !n.Enabled || n.State == "" || n.State == engine.NATOff {
		return "UPnP: off"
	}
	return fmt.Sprintf("UPnP %s — TCP: %s · UDP: %s", n.State, mappingText(n.TCP), mappingText(n.UDP))
}

func mappingText(m engine.PortMapping) string {
	switch {
	case m.Err != "":
		return "failed (" + m.Err + ")"
	case m.ExternalPort > 0:
		return fmt.Sprintf("mapped to %d", m.ExternalPort)
	}
	return "not mapped"
}
