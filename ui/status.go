package ui

import (
	"fmt"
	"strings"

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
// total rates.
type statusBar struct {
	dht   *widget.Button
	port  *widget.Label
	nat   *widget.Label
	rates *widget.Label
}

func newStatusBar(onDHT func()) *statusBar {
	s := &statusBar{dht: widget.NewButton("DHT: starting", onDHT), port: widget.NewLabel(""),
		nat: widget.NewLabel(""), rates: widget.NewLabel("")}
	s.dht.Importance = widget.LowImportance
	return s
}

func (s *statusBar) content() fyne.CanvasObject {
	return container.NewHBox(s.dht, widget.NewSeparator(), s.port, widget.NewSeparator(), s.nat,
		layoutSpacer(), s.rates)
}

// haveContacts tells whether the settings hold bootstrap contacts.
func (s *statusBar) apply(snap engine.Snapshot, haveContacts bool) {
	s.dht.SetText(dhtSummary(snap.DHT, haveContacts))
	if snap.DHT.Enabled && snap.DHT.Good+snap.DHT.Questionable == 0 {
		s.dht.Importance = widget.WarningImportance
	} else {
		s.dht.Importance = widget.LowImportance
	}
	s.dht.Refresh()
	switch {
	case snap.ListenErr != nil:
		s.port.SetText("Not listening: " + snap.ListenErr.Error())
		s.port.Importance = widget.DangerImportance
	case snap.ListenPort == 0:
		s.port.SetText("Port: starting")
	default:
		s.port.SetText(fmt.Sprintf("Port %d", snap.ListenPort))
		s.port.Importance = widget.MediumImportance
	}
	s.port.Refresh()
	s.nat.SetText(natSummary(snap.NAT))
	s.rates.SetText(fmt.Sprintf("↓ %s   ↑ %s   %s", formatRate(snap.RateDown), formatRate(snap.RateUp), plural(snap.Peers, "peer")))
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
	return fmt.Sprintf("DHT: %s (%d good)", plural(d.Good+d.Questionable, "node"), d.Good)
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

// plural writes a count with its noun: "1 peer", "2 peers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
