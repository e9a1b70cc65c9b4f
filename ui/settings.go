package ui

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"

	swapp "github.com/swarmdrop/swarmdrop/app"
)

func defaultBootstrap() string { return swapp.DefaultBootstrap }

// settingsDialog edits the user's settings and applies them on Save.
type settingsDialog struct {
	be           Backend
	host         *dialogHost
	base         swapp.Settings // the settings when opened (keeps fields not shown)
	listen       int            // the port the engine listens on now
	notListening bool           // the engine could not listen: a new port is tried at once
	contacts     *contactEditor
	tabs         *tabStrip // buttons, so that Tab reaches them

	dir                *keyEntry
	port               *keyEntry
	portNote           *widget.Label
	upnp, lsd, tray    *widget.Check
	ask                *widget.Check
	down, up, maxConns *keyEntry
	problem            *widget.Label
	save               *keyButton
	dlg                *keyDialog
}

// newSettingsDialog builds the dialog; trayHost tells whether a panel
// shows tray icons (only then is "keep running in the tray" offered).
func newSettingsDialog(h *dialogHost, be Backend, listen int, notListening, trayHost bool, onClosed func()) *settingsDialog {
	s := be.Settings()
	k := &dialogKeys{}
	d := &settingsDialog{be: be, host: h, base: s, listen: listen, notListening: notListening, contacts: newContactEditor(be, k, s.Bootstrap),
		dir: newKeyEntry(k), port: newKeyEntry(k), portNote: widget.NewLabel(""),
		upnp: widget.NewCheck("Forward the port on the router (UPnP, TCP and UDP)", nil),
		lsd:  widget.NewCheck("Local peer discovery (find peers on this network)", nil),
		tray: widget.NewCheck("Keep running in the tray when the window closes", nil),
		ask:  widget.NewCheck("Ask which files and folder when adding a torrent", nil),
		down: newKeyEntry(k), up: newKeyEntry(k), maxConns: newKeyEntry(k), problem: widget.NewLabel("")}
	d.contacts.host = h
	d.dir.SetText(s.DownloadDir)
	d.port.SetText(strconv.Itoa(s.Port))
	d.port.OnChanged = func(string) { d.checkPort() }
	d.upnp.SetChecked(s.UPnP)
	d.lsd.SetChecked(s.LSD)
	d.tray.SetChecked(s.KeepInTray)
	if !trayHost {
		d.tray.Hide()
	}
	d.ask.SetChecked(!s.SkipAddDialog)
	d.down.SetText(strconv.FormatInt(s.MaxDownloadRate/1024, 10))
	d.up.SetText(strconv.FormatInt(s.MaxUploadRate/1024, 10))
	d.maxConns.SetText(strconv.Itoa(s.MaxConnections))
	d.problem.Importance = widget.DangerImportance
	d.problem.Wrapping = fyne.TextWrapWord
	d.portNote.Wrapping = fyne.TextWrapWord
	d.checkPort()

	browse := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), d.onBrowse)
	random := widget.NewButton("Random", func() { d.port.SetText(strconv.Itoa(49152 + rand.IntN(65536-49152))) })
	network := widget.NewForm(
		widget.NewFormItem("Download folder", container.NewBorder(nil, nil, nil, browse, d.dir)),
		widget.NewFormItem("Listening port", container.NewBorder(nil, nil, nil, random, d.port)),
		widget.NewFormItem("", d.portNote),
		widget.NewFormItem("", d.upnp),
		widget.NewFormItem("", d.lsd),
		widget.NewFormItem("Download limit", container.NewBorder(nil, nil, nil, widget.NewLabel("KiB/s (0: none)"), d.down)),
		widget.NewFormItem("Upload limit", container.NewBorder(nil, nil, nil, widget.NewLabel("KiB/s (0: none)"), d.up)),
		widget.NewFormItem("Max connections", d.maxConns),
		widget.NewFormItem("", d.ask),
		widget.NewFormItem("", d.tray),
	)
	d.tabs = newTabStrip([]string{"DHT contacts", "Network and folders"},
		[]fyne.CanvasObject{d.contacts.content(), network})
	d.save = newKeyButton(k, "Save", theme.DocumentSaveIcon(), d.onSave)
	d.save.Importance = widget.HighImportance
	d.dlg = h.newDialog("Settings", container.NewBorder(nil, d.problem, nil, nil, d.tabs.root), k,
		newKeyButton(k, "Cancel", nil, func() { d.dlg.Hide() }), d.save)
	k.confirm = d.onSave
	d.dlg.SetOnClosed(onClosed)
	d.dlg.Resize(dialogSize(h.win, 760, 560))
	return d
}

func (d *settingsDialog) handlePing(ev engine.PingResult) { d.contacts.handlePing(ev) }

// showNetwork brings the port and folders tab to the front.
func (d *settingsDialog) showNetwork() { d.tabs.selectIndex(1) }

func (d *settingsDialog) onBrowse() {
	fd := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			d.dir.SetText(u.Path())
		}
	}, d.host.win)
	fd.Resize(fileDialogSize(d.host.win))
	fd.Show()
}

// checkPort says whether the port typed is free for TCP and UDP.
func (d *settingsDialog) checkPort() {
	d.portNote.Importance = widget.MediumImportance
	p, err := strconv.Atoi(strings.TrimSpace(d.port.Text))
	switch {
	case err != nil || p < 0 || p > 65535:
		d.portNote.Importance = widget.DangerImportance
		d.portNote.SetText("a port is a number from 1 to 65535 (0: any free port)")
	case p == 0:
		d.portNote.SetText("any free port, chosen at each start")
	case p == d.listen && !d.notListening:
		d.portNote.SetText(fmt.Sprintf("port %d: Swarmdrop is listening on it now", p))
	default:
		if perr := portFree(p); perr != nil {
			d.portNote.Importance = widget.WarningImportance
			d.portNote.SetText(fmt.Sprintf("port %d is in use: %v", p, perr))
		} else if d.notListening {
			d.portNote.SetText(fmt.Sprintf("port %d is free for TCP and UDP; Swarmdrop tries it as soon as you save", p))
		} else {
			d.portNote.SetText(fmt.Sprintf("port %d is free for TCP and UDP; it is used from the next start", p))
		}
	}
}

// portFree tries to listen on port for TCP and UDP.
func portFree(port int) error {
	addr := ":" + strconv.Itoa(port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("TCP: %w", err)
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("UDP: %w", err)
	}
	u.Close()
	return nil
}

// collect reads the form into settings, naming the first problem.
func (d *settingsDialog) collect() (swapp.Settings, error) {
	s := d.base
	if p := d.contacts.problem(); p != "" {
		return s, fmt.Errorf("bootstrap contacts: %s", p)
	}
	s.Bootstrap = joinContacts(splitContacts(d.contacts.text.Text))
	s.DownloadDir = strings.TrimSpace(d.dir.Text)
	var err error
	if s.Port, err = atoiField("listening port", d.port.Text); err != nil {
		return s, err
	}
	down, err := atoiField("download limit", d.down.Text)
	if err != nil {
		return s, err
	}
	up, err := atoiField("upload limit", d.up.Text)
	if err != nil {
		return s, err
	}
	s.MaxDownloadRate, s.MaxUploadRate = int64(down)*1024, int64(up)*1024
	if s.MaxConnections, err = atoiField("max connections", d.maxConns.Text); err != nil {
		return s, err
	}
	s.UPnP, s.LSD, s.SkipAddDialog = d.upnp.Checked, d.lsd.Checked, !d.ask.Checked
	if !d.tray.Hidden {
		s.KeepInTray = d.tray.Checked
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	if s.DownloadDir != d.base.DownloadDir {
		if err := writableDir(s.DownloadDir); err != nil {
			return s, fmt.Errorf("download folder: %w", err)
		}
	}
	return s, nil
}

func atoiField(name, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, s)
	}
	return n, nil
}

func (d *settingsDialog) onSave() {
	s, err := d.collect()
	if err == nil {
		err = d.be.SetSettings(s)
	}
	if err != nil {
		d.problem.SetText(err.Error())
		return
	}
	d.problem.SetText("")
	d.dlg.Hide()
}

// writableDir tells whether files can be made in dir, or, when it does
// not exist yet, in the nearest folder above it that does (Swarmdrop makes
// the rest).
func writableDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%s is not a full path", dir)
	}
	at := dir
	for {
		fi, err := os.Stat(at)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is a file, not a folder", at)
			}
			break
		}
		up := filepath.Dir(at)
		if up == at {
			return fmt.Errorf("%s: %w", dir, err)
		}
		at = up
	}
	f, err := os.CreateTemp(at, ".swarmdrop-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s", at)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}
