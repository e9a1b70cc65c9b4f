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
	win   fyne.Window
	paths []string
	plan  engine.CreatePlan

	name      *widget.Entry
	info      *widget.Label
	piece     *widget.Select
	nodes     *widget.Entry
	nodesNote *widget.Label
	trackers  *widget.Entry
	private   *widget.Check
	comment   *widget.Entry
	problem   *widget.Label

	progress *widget.ProgressBar
	speed    *widget.Label
	magnet   *widget.Entry
	result   *fyne.Container
	form     *widget.Form // hidden once the torrent is made
	done     *widget.Label

	create, cancel, copyMagnet, saveTorrent *widget.Button
	dlg                                     *dialog.CustomDialog

	id      int // request id while hashing, 0 otherwise
	started time.Time
	created engine.Created // once done

	onStart func(c *createDialog, id int)
}

// newCreateDialog plans a torrent of paths and builds the dialog; onStart
// is told the request id of each creation started.
func newCreateDialog(w fyne.Window, be Backend, paths []string, nodes []metainfo.Node, onStart func(*createDialog, int)) (*createDialog, error) {
	plan, err := engine.PlanCreate(paths, "")
	if err != nil {
		return nil, fmt.Errorf("creating a torrent: %w", err)
	}
	c := &createDialog{be: be, win: w, paths: paths, plan: plan, onStart: onStart,
		name: widget.NewEntry(), info: widget.NewLabel(""), nodes: widget.NewMultiLineEntry(),
		nodesNote: widget.NewLabel(""), trackers: widget.NewMultiLineEntry(), comment: widget.NewEntry(),
		problem: widget.NewLabel(""), progress: widget.NewProgressBar(), speed: widget.NewLabel(""),
		magnet: widget.NewEntry()}
	c.name.SetText(plan.Name)
	c.info.SetText(fmt.Sprintf("%s in %d file(s)", formatSize(plan.Total), plan.Files))
	opts := []string{autoPiece(plan.PieceLength)}
	for _, p := range pieceChoices {
		opts = append(opts, formatSize(p))
	}
	c.piece = widget.NewSelect(opts, nil)
	c.piece.SetSelectedIndex(0)
	c.nodes.Wrapping = fyne.TextWrapWord
	c.nodes.SetMinRowsVisible(2)
	c.nodes.OnChanged = func(string) { c.checkNodes() }
	c.nodes.SetText(metainfo.FormatNodes(nodes))
	c.nodesNote.Wrapping = fyne.TextWrapWord
	c.trackers.SetPlaceHolder("none: trackerless (one announce URL per line)")
	c.trackers.SetMinRowsVisible(2)
	c.private = widget.NewCheck("Private (no DHT, no PEX: only for trackers)", nil)
	c.comment.SetPlaceHolder("optional")
	c.problem.Importance = widget.DangerImportance
	c.problem.Wrapping = fyne.TextWrapWord
	c.magnet.Disable()
	c.magnet.Wrapping = fyne.TextWrapBreak
	c.magnet.MultiLine = true
	c.magnet.SetMinRowsVisible(2)

	c.create = widget.NewButtonWithIcon("Create and seed", theme.ConfirmIcon(), c.onCreate)
	c.create.Importance = widget.HighImportance
	c.cancel = widget.NewButton("Cancel", c.onCancel)
	c.copyMagnet = widget.NewButtonWithIcon("Copy magnet link", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(c.created.Magnet)
	})
	c.saveTorrent = widget.NewButtonWithIcon("Save .torrent…", theme.DocumentSaveIcon(), c.onSave)
	c.done = widget.NewLabel("")
	c.done.Wrapping = fyne.TextWrapWord
	c.result = container.NewVBox(c.done, widget.NewLabel("Magnet link:"),
		c.magnet, container.NewHBox(c.copyMagnet, c.saveTorrent))
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
		widget.NewFormItem("Comment", c.comment),
	)
	content := container.NewVBox(c.form, c.problem, c.progress, c.speed, c.result)
	c.dlg = dialog.NewCustomWithoutButtons("Create torrent", content, w)
	c.dlg.SetButtons([]fyne.CanvasObject{c.cancel, c.create})
	c.dlg.Resize(fyne.NewSize(640, 0))
	c.checkNodes()
	return c, nil
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
		c.nodesNote.SetText(fmt.Sprintf("%d contact(s) for downloaders to enter the DHT.", len(nodes)))
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
	c.id = c.be.Create(req)
	c.onStart(c, c.id)
}

func (c *createDialog) setEditable(on bool) {
	for _, w := range []fyne.Disableable{c.name, c.piece, c.nodes, c.trackers, c.private, c.comment, c.create} {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
}

func (c *createDialog) onCancel() {
	if c.id != 0 {
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
		c.done.SetText(fmt.Sprintf("“%s” (%s in %d file(s)) is seeding from where the files are.",
			ev.Name, formatSize(c.plan.Total), c.plan.Files))
		c.magnet.SetText(ev.Magnet)
		c.result.Show()
		c.cancel.SetText("Close")
		c.create.Hide()
		c.dlg.Resize(fyne.NewSize(640, 0))
	case engine.CreateFailed:
		c.id = 0
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
			dialog.ShowError(fmt.Errorf("saving the torrent: %w", werr), c.win)
		}
	}, c.win)
	d.SetFileName(c.created.Name + ".torrent")
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}
