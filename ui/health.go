package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
)

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// healthPanel shows how the DHT and the port mapping are doing.
type healthPanel struct {
	dht, reach, boot, lookups *widget.Label
	tcp, udp, router          *widget.Label
	contact                   *widget.Label
	copyContact               *keyButton
	copied                    *widget.Label
	dlg                       *keyDialog
	my                        string
}

func newHealthPanel(host *dialogHost, onClose func()) *healthPanel {
	k := &dialogKeys{}
	h := &healthPanel{copied: widget.NewLabel("")}
	h.copied.Importance = widget.SuccessImportance
	for _, l := range []**widget.Label{&h.dht, &h.reach, &h.boot, &h.lookups, &h.tcp, &h.udp, &h.router, &h.contact} {
		*l = widget.NewLabel("")
		(*l).Wrapping = fyne.TextWrapWord
	}
	h.copyContact = newKeyButton(k, "Copy", theme.ContentCopyIcon(), func() {
		if h.my != "" {
			fyne.CurrentApp().Clipboard().SetContent(h.my)
			h.copied.SetText("Copied " + h.my)
		}
	})
	form := widget.NewForm(
		widget.NewFormItem("Routing table", h.dht),
		widget.NewFormItem("Reachability", h.reach),
		widget.NewFormItem("Bootstrap", h.boot),
		widget.NewFormItem("Lookups", h.lookups),
	)
	ports := container.NewGridWithColumns(2,
		container.NewVBox(bold("TCP (peers)"), h.tcp), container.NewVBox(bold("UDP (DHT)"), h.udp))
	my := container.NewBorder(nil, nil, bold("My contact"), h.copyContact, h.contact)
	content := container.NewVBox(form, widget.NewSeparator(), bold("Port mapping"), h.router, ports,
		widget.NewSeparator(), my, h.copied)
	closeB := newKeyButton(k, "Close", nil, func() { h.dlg.Hide() })
	h.dlg = host.newDialog("DHT and port health", container.NewVScroll(content), k, closeB)
	k.confirm, h.dlg.first = h.dlg.Hide, closeB
	h.dlg.SetOnClosed(onClose)
	h.dlg.Resize(dialogSize(host.win, 620, 520))
	return h
}

func (h *healthPanel) apply(snap engine.Snapshot) {
	d, now := snap.DHT, snap.Time
	if now.IsZero() {
		now = time.Now()
	}
	if !d.Enabled {
		h.dht.SetText("The DHT is off.")
	} else {
		h.dht.SetText(fmt.Sprintf("%s; table %s", familyTables(d), savedAge(now, d.TableSavedAt)))
	}
	if d.IncomingQueries > 0 {
		h.reach.SetText(fmt.Sprintf("Others reach us: %s (our UDP port %d is reachable)", plural(int(d.IncomingQueries), "incoming query"), snap.ListenPort))
	} else {
		h.reach.SetText("No incoming queries yet: others may not reach our UDP port")
	}
	src := d.LastBootstrapSource
	if src == "" {
		src = "no source yet"
	}
	h.boot.SetText(fmt.Sprintf("Last bootstrap %s from %s", formatAge(now, d.LastBootstrap), src))
	h.lookups.SetText(fmt.Sprintf("%d in flight", d.LookupsInFlight))
	n := snap.NAT
	router := "UPnP " + string(n.State)
	if n.State == "" {
		router = "UPnP " + string(engine.NATOff)
	}
	if n.Gateway != "" {
		router += ", router " + n.Gateway
	}
	if n.ExternalIP != "" {
		router += ", external address " + n.ExternalIP
	}
	h.router.SetText(router)
	h.tcp.SetText(mappingDetail(n.TCP, snap.ListenPort))
	h.udp.SetText(mappingDetail(n.UDP, snap.ListenPort))
	h.my = d.MyContact
	switch {
	case h.my == "":
		h.contact.SetText("unknown (neither UPnP, the DHT nor peers told our address yet)")
		h.copyContact.Disable()
	case d.MyContactSource != "":
		h.contact.SetText(h.my + " (from " + d.MyContactSource + ")")
		h.copyContact.Enable()
	default:
		h.contact.SetText(h.my)
		h.copyContact.Enable()
	}
}

func savedAge(now, t time.Time) string {
	if t.IsZero() {
		return "not saved yet"
	}
	return "saved " + formatAge(now, t)
}

func mappingDetail(m engine.PortMapping, local int) string {
	s := fmt.Sprintf("local port %d: %s", local, mappingText(m))
	if m.Lease > 0 {
		s += fmt.Sprintf(", lease %s", m.Lease.Round(time.Second))
	}
	return s
}

// familyTables describes the routing tables: one per address family
// (BEP 32) when the node serves IPv6 too, else the IPv4 table alone.
func familyTables(d engine.DHTStatus) string {
	if !d.IPv6.Served {
		return fmt.Sprintf("%d good and %d questionable nodes in %s", d.Good, d.Questionable, plural(d.Buckets, "bucket"))
	}
	one := func(name string, f engine.DHTFamilyStatus) string {
		if !f.Served {
			return name + ": no socket"
		}
		return fmt.Sprintf("%s: %d good and %d questionable nodes in %s", name, f.Good, f.Questionable, plural(f.Buckets, "bucket"))
	}
	return one("IPv4", d.IPv4) + "; " + one("IPv6", d.IPv6)
}
