package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// pieceChoices are the piece lengths offered besides the automatic one.
var pieceChoices = []int64{16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10,
	1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20}

// createDialog publishes files as a torrent: the choices, then a progress
// bar while hashing, then the magnet link and the .torrent to save.
type createDialog struct {
	be    Backend
	host  *dialogHost
	paths []string
	plan  engine.CreatePlan

	name      *keyEntry
	info      *widget.Label
	piece     *keySelect
	nodes     *keyEntry
	nodesNote *widget.Label
	trackers  *keyEntry
	private   *keyCheck
	// updatable publishes it as an updatable publication (BEP 46):
	// Publish instead of Create, and the urn:btpk link to share.
	updatable *keyCheck
	comment   *keyEntry
	problem   *widget.Label

	progress  *widget.ProgressBar
	speed     *widget.Label
	magnet    *keyEntry
	linkLabel *widget.Label
	result    *fyne.Container
	form      *widget.Form // hidden once the torrent is made
	done      *widget.Label
	note      *widget.Label // says what Copy and Save did

	create, cancel, copyMagnet, saveTorrent *keyButton
	dlg                                     *keyDialog

	id      int // request id while hashing, 0 otherwise
	started time.Time
	created engine.Created // once done
	// published is the Publish result, once done (updatable).
	published engine.Published

	onStart func(c *createDialog, id int)
}

// newCreateDialog plans a torrent of paths and builds the dialog; onStart
// is told the request id of each creation started.
func newCreateDialog(h *dialogHost, be Backend, paths []string, nodes []metainfo.Node, onStart func(*createDialog, int)) (*createDialog, error) {
	plan, err := engine.PlanCreate(paths, "")
	if err != nil {
		return nil, fmt.Errorf("creating a torrent: %w", err)
	}
	k := &dialogKeys{}
	c := &createDialog{be: be, host: h, paths: paths, plan: plan, onStart: onStart,
		name: newKeyEntry(k), info: widget.NewLabel(""), nodes: newKeyEntry(k),
		nodesNote: widget.NewLabel(""), trackers: newKeyEntry(k), comment: newKeyEntry(k),
		problem: widget.NewLabel(""), progress: widget.NewProgressBar(), speed: widget.NewLabel(""),
		magnet: newKeyEntry(k), note: widget.NewLabel("")}
	c.nodes.MultiLine, c.trackers.MultiLine = true, true
	c.note.Importance = widget.SuccessImportance
	c.name.SetText(plan.Name)
	c.info.SetText(fmt.Sprintf("%s in %s", formatSize(plan.Total), plural(plan.Files, "file")))
	opts := []string{autoPiece(plan.PieceLength)}
	for _, p := range pieceChoices {
		opts = append(opts, formatSize(p))
	}
	c.piece = newKeySelect(k, opts, nil)
	c.piece.SetSelectedIndex(0)
	c.nodes.Wrapping = fyne.TextWrapWord
	c.nodes.SetMinRowsVisible(2)
	c.nodes.OnChanged = func(string) { c.checkNodes() }
	c.nodes.SetText(metainfo.FormatNodes(nodes))
	c.nodesNote.Wrapping = fyne.TextWrapWord
	c.trackers.SetPlaceHolder("none: trackerless (one announce URL per line)")
	c.trackers.SetMinRowsVisible(2)
	c.private = newKeyCheck(k, "Private (no DHT, no PEX: only for trackers)", nil)
	c.updatable = newKeyCheck(k, "Updatable (can publish new versions)", func(bool) { c.showKind() })
	c.comment.SetPlaceHolder("optional")
	c.problem.Importance = widget.DangerImportance
	c.problem.Wrapping = fyne.TextWrapWord
	c.magnet.Disable()
	c.magnet.Wrapping = fyne.TextWrapBreak
	c.magnet.MultiLine = true
	c.magnet.SetMinRowsVisible(2)

	c.create = newKeyButton(k, "Create and seed", theme.ConfirmIcon(), c.onCreate)
	c.create.Importance = widget.HighImportance
	c.cancel = newKeyButton(k, "Cancel", nil, c.onCancel)
	c.copyMagnet = newKeyButton(k, "Copy magnet link", theme.ContentCopyIcon(), func() {
		if c.published.Link != "" {
			fyne.CurrentApp().Clipboard().SetContent(c.published.Link)
			c.note.SetText("Updatable link copied.")
			return
		}
		fyne.CurrentApp().Clipboard().SetContent(c.created.Magnet)
		c.note.SetText("Magnet link copied.")
	})
	c.saveTorrent = newKeyButton(k, "Save .torrent…", theme.DocumentSaveIcon(), c.onSave)
	c.done = widget.NewLabel("")
	c.done.Wrapping = fyne.TextWrapWord
	c.note.Wrapping = fyne.TextWrapWord
	c.linkLabel = widget.NewLabel("Magnet link:")
	c.result = container.NewVBox(c.done, c.linkLabel,
		c.magnet, container.NewHBox(c.copyMagnet, c.saveTorrent), c.note)
	c.result.Hide()
	c.progress.Hide()

	c.form = widget.NewForm(
		widget.NewFormItem("Name", c.name),
		widget.NewFormItem("Content", c.info),
		widget.NewFormItem("Piece length", c.piece),
		widget.NewFormItem("DHT nodes", c.nodes),
		widget.NewFormItem("", c.nodesNote),
		widget.NewFormItem("Trackers", c.trackers),
		widget.NewFormItem("", c.private),
		widget.NewFormItem("", c.updatable),
		widget.NewFormItem("Comment", c.comment),
	)
	content := container.NewVBox(c.form, c.problem, c.progress, c.speed, c.result)
	c.dlg = h.newDialog("Create torrent", content, k, c.cancel, c.create)
	c.dlg.first = c.name
	k.confirm = func() {
		switch {
		case c.created.InfoHash != "":
			c.dlg.Hide()
		case !c.create.Disabled():
			c.onCreate()
		}
	}
	k.cancel = c.onCancel
	c.dlg.Resize(fyne.NewSize(min(640, h.win.Canvas().Size().Width-24), 0))
	c.checkNodes()
	return c, nil
}

// showKind enables the fields that apply to the kind of torrent chosen:
// an updatable publication is trackerless and public, with the piece
// length and name the engine gives it (kept from version to version).
func (c *createDialog) showKind() {
	for _, w := range []fyne.Disableable{c.name, c.piece, c.trackers, c.private, c.comment} {
		if c.updatable.Checked || c.id != 0 {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if c.updatable.Checked {
		c.create.SetText("Publish and seed")
		if c.private.Checked {
			c.private.SetChecked(false)
		}
	} else {
		c.create.SetText("Create and seed")
	}
}

func autoPiece(n int64) string { return "Auto (" + formatSize(n) + ")" }

// pieceLength is the chosen piece length, 0 for automatic.
func (c *createDialog) pieceLength() int64 {
	i := c.piece.SelectedIndex()
	if i <= 0 {
		return 0
	}
	return pieceChoices[i-1]
}

// checkNodes validates the nodes field and warns about contacts that
// only work nearby.
func (c *createDialog) checkNodes() bool {
	nodes, err := metainfo.ParseNodes(c.nodes.Text)
	c.nodesNote.Importance = widget.WarningImportance
	switch {
	case err != nil:
		c.nodesNote.Importance = widget.DangerImportance
		c.nodesNote.SetText(err.Error())
		return false
	case len(nodes) == 0:
		c.nodesNote.SetText("No contacts: downloaders need their own way into the DHT.")
		return true
	}
	var warn []string
	for _, n := range nodes {
		if n.Local() {
			warn = append(warn, n.String())
		}
	}
	if len(warn) > 0 {
		c.nodesNote.SetText("⚠ " + strings.Join(warn, ", ") + ": loopback or private address, only reachable on this machine or network.")
	} else {
		c.nodesNote.Importance = widget.MediumImportance
		c.nodesNote.SetText(plural(len(nodes), "contact") + " for downloaders to enter the DHT.")
	}
	return true
}

// request builds the creation request from the fields.
func (c *createDialog) request() (engine.CreateRequest, error) {
	if !c.checkNodes() {
		return engine.CreateRequest{}, errors.New("fix the DHT nodes first")
	}
	req := engine.CreateRequest{Paths: c.paths, Name: strings.TrimSpace(c.name.Text), PieceLength: c.pieceLength(),
		Nodes: c.nodes.Text, Private: c.private.Checked, Comment: strings.TrimSpace(c.comment.Text)}
	if req.Name == "" {
		return req, errors.New("the name is empty")
	}
	if c.updatable.Checked && len(c.paths) != 1 {
		return req, errors.New("an updatable publication is one file or folder: drop them one at a time")
	}
	for _, line := range strings.Split(c.trackers.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "udp") || u.Host == "" {
			return req, fmt.Errorf("tracker %q: want an http, https or udp URL", line)
		}
		req.Trackers = append(req.Trackers, line)
	}
	return req, nil
}

// publishRequest is the request of an updatable publication: the
// dropped item (one: a publication is one file or folder) and the nodes.
func (c *createDialog) publishRequest() engine.PublishRequest {
	return engine.PublishRequest{Path: c.paths[0], Nodes: c.nodes.Text}
}

func (c *createDialog) onCreate() {
	req, err := c.request()
	if err != nil {
		c.problem.SetText(err.Error())
		return
	}
	c.problem.SetText("")
	c.setEditable(false)
	c.progress.SetValue(0)
	c.progress.Show()
	c.speed.SetText("Hashing…")
	c.started = time.Now()
	if c.updatable.Checked {
		c.id = c.be.Publish(c.publishRequest())
		c.onStart(c, c.id)
		return
	}
	c.id = c.be.Create(req)
	c.onStart(c, c.id)
}

func (c *createDialog) setEditable(on bool) {
	for _, w := range []fyne.Disableable{c.name, c.piece, c.nodes, c.trackers, c.private, c.comment, c.create, c.updatable} {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	if on {
		c.showKind()
	}
}

func (c *createDialog) onCancel() {
	if c.id != 0 { // a creation or a publication: the engine stops either

		c.be.CancelCreate(c.id)
		c.speed.SetText("Cancelling…")
		return
	}
	c.dlg.Hide()
}

// handleEvent shows the progress or the result of the creation.
func (c *createDialog) handleEvent(ev engine.Event) {
	switch ev := ev.(type) {
	case engine.CreateProgress:
		if ev.Total > 0 {
			c.progress.SetValue(float64(ev.Hashed) / float64(ev.Total))
		}
		if el := time.Since(c.started).Seconds(); el > 0 {
			c.speed.SetText(fmt.Sprintf("Hashing: %s of %s at %s", formatSize(ev.Hashed), formatSize(ev.Total), formatRate(float64(ev.Hashed)/el)))
		}
	case engine.Created:
		c.id = 0
		c.created = ev
		c.progress.SetValue(1)
		// The form has done its job: show the result alone, compact.
		c.form.Hide()
		c.problem.Hide()
		c.progress.Hide()
		c.speed.SetText(fmt.Sprintf("Info hash %s", ev.InfoHash))
		c.done.SetText(fmt.Sprintf("“%s” (%s in %s) is seeding from where the files are.",
			ev.Name, formatSize(c.plan.Total), plural(c.plan.Files, "file")))
		c.magnet.SetText(ev.Magnet)
		c.result.Show()
		c.cancel.SetText("Close")
		c.create.Hide()
		c.dlg.Resize(fyne.NewSize(min(640, c.host.win.Canvas().Size().Width-24), 0))
		c.host.win.Canvas().Focus(c.copyMagnet)
	case engine.Published:
		c.id = 0
		c.published = ev
		c.created = engine.Created{Request: ev.Request, InfoHash: ev.InfoHash, Name: ev.Name, Torrent: ev.Torrent}
		c.form.Hide()
		c.problem.Hide()
		c.progress.Hide()
		c.speed.SetText(fmt.Sprintf("Version %d, info hash %s", ev.Version, ev.InfoHash))
		c.done.SetText(fmt.Sprintf("“%s” (%s in %s) is published as updatable and seeding from where the files are. "+
			"Whoever adds the link gets each new version you publish (row menu: Publish new version).",
			ev.Name, formatSize(c.plan.Total), plural(c.plan.Files, "file")))
		c.linkLabel.SetText("Updatable link (share this one):")
		c.copyMagnet.SetText("Copy link")
		c.magnet.SetText(ev.Link)
		c.result.Show()
		c.cancel.SetText("Close")
		c.create.Hide()
		c.dlg.Resize(fyne.NewSize(min(640, c.host.win.Canvas().Size().Width-24), 0))
		c.host.win.Canvas().Focus(c.copyMagnet)
	case engine.CreateFailed:
		c.id = 0
		c.cancel.SetText("Cancel")
		c.progress.Hide()
		c.speed.SetText("")
		c.problem.SetText(ev.Err.Error())
		c.setEditable(true)
	}
	c.dlg.Refresh()
}

func (c *createDialog) onSave() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		_, werr := w.Write(c.created.Torrent)
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			c.host.showError(fmt.Errorf("saving the torrent: %w", werr))
			return
		}
		c.note.SetText("Saved as " + w.URI().Path() + ".")
	}, c.host.win)
	d.SetFileName(c.created.Name + ".torrent")
	d.Resize(fileDialogSize(c.host.win))
	d.Show()
}
