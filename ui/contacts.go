package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/swarmdrop/swarmdrop/engine"
	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// splitContacts cuts the settings form "host:port, host:port" into its
// items, trimmed, without empty ones. It does not validate them.
func splitContacts(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// joinContacts writes items in the settings form, skipping empty ones.
func joinContacts(items []string) string {
	var keep []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			keep = append(keep, it)
		}
	}
	return strings.Join(keep, ", ")
}

// contactProblem is what is wrong with one contact as typed, "" if nothing.
func contactProblem(s string) string {
	if _, err := metainfo.ParseNode(s); err != nil {
		return err.Error()
	}
	return ""
}

// contactEditor edits the bootstrap contacts twice over: as one text field
// in the settings form and as a list of rows, kept in sync, each contact
// checked as it is typed and pingable.
type contactEditor struct {
	be      Backend
	host    *dialogHost // asks before a reset
	text    *keyEntry
	keys    *dialogKeys // the settings dialog's
	note    *widget.Label
	rows    []*contactRow
	box     *fyne.Container
	syncing bool                // set while one view rewrites the other
	pending map[int]*contactRow // pings in flight by request id
}

// contactRow is one contact of the list view.
type contactRow struct {
	entry  *keyEntry
	status *widget.Label
	ping   *widget.Button
	obj    fyne.CanvasObject
}

func newContactEditor(be Backend, k *dialogKeys, initial string) *contactEditor {
	c := &contactEditor{be: be, keys: k, text: newKeyEntry(k), note: widget.NewLabel(""),
		box: container.NewVBox(), pending: map[int]*contactRow{}}
	c.text.MultiLine = true
	c.text.Wrapping = fyne.TextWrapWord
	c.text.SetMinRowsVisible(2)
	c.text.SetPlaceHolder("router.example.org:6881, 127.0.0.1:8080")
	c.note.Wrapping = fyne.TextWrapWord
	c.text.OnChanged = c.onTextChanged
	c.text.SetText(initial)
	c.onTextChanged(initial)
	return c
}

func (c *contactEditor) content() fyne.CanvasObject {
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("Add contact", theme.ContentAddIcon(), c.onAdd),
		widget.NewButtonWithIcon("Ping all", theme.ViewRefreshIcon(), c.pingAll),
		widget.NewButtonWithIcon("Reset to defaults", theme.HistoryIcon(), c.reset),
	)
	scroll := container.NewVScroll(c.box)
	scroll.SetMinSize(fyne.NewSize(0, 200))
	return container.NewBorder(container.NewVBox(
		widget.NewLabel("Contacts used to enter the DHT and as the nodes of new torrents:"),
		c.text, c.note, widget.NewSeparator()), buttons, nil, nil, scroll)
}

// items returns the contacts of the list view.
func (c *contactEditor) items() []string {
	out := make([]string, len(c.rows))
	for i, r := range c.rows {
		out[i] = r.entry.Text
	}
	return out
}

// problem returns the first invalid contact's problem, or "".
func (c *contactEditor) problem() string {
	if _, err := metainfo.ParseNodes(c.text.Text); err != nil {
		return err.Error()
	}
	return ""
}

func (c *contactEditor) onTextChanged(s string) {
	c.showNote()
	if c.syncing {
		return
	}
	items := splitContacts(s)
	if equalStrings(items, c.items()) {
		return
	}
	c.syncing = true
	defer func() { c.syncing = false }()
	c.rows = nil
	c.box.RemoveAll()
	for _, it := range items {
		c.addRow(it)
	}
}

func (c *contactEditor) showNote() {
	if p := c.problem(); p != "" {
		c.note.Importance = widget.DangerImportance
		c.note.SetText(p)
	} else {
		c.note.Importance = widget.MediumImportance
		c.note.SetText(plural(len(splitContacts(c.text.Text)), "contact"))
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.TrimSpace(a[i]) != b[i] {
			return false
		}
	}
	return true
}

// addRow appends a row for contact s.
func (c *contactEditor) addRow(s string) *contactRow {
	r := &contactRow{entry: newKeyEntry(c.keys), status: widget.NewLabel("")}
	r.entry.SetPlaceHolder("host:port")
	r.entry.SetText(s)
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.entry.OnChanged = func(string) { c.onRowChanged(r) }
	r.ping = widget.NewButton("Ping", func() { c.ping(r) })
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { c.removeRow(r) })
	r.obj = container.NewGridWithColumns(2, r.entry,
		container.NewBorder(nil, nil, nil, container.NewHBox(r.ping, remove), r.status))
	c.rows = append(c.rows, r)
	c.box.Add(r.obj)
	c.checkRow(r)
	return r
}

func (c *contactEditor) removeRow(r *contactRow) {
	for i, x := range c.rows {
		if x == r {
			c.rows = append(c.rows[:i], c.rows[i+1:]...)
			break
		}
	}
	c.box.Remove(r.obj)
	c.writeText()
}

func (c *contactEditor) onRowChanged(r *contactRow) {
	c.checkRow(r)
	if !c.syncing {
		c.writeText()
	}
}

// writeText rewrites the text field from the rows.
func (c *contactEditor) writeText() {
	c.syncing = true
	c.text.SetText(joinContacts(c.items()))
	c.syncing = false
	c.showNote()
}

// checkRow shows what is wrong with a row's contact.
func (c *contactEditor) checkRow(r *contactRow) {
	p := contactProblem(r.entry.Text)
	if strings.TrimSpace(r.entry.Text) == "" {
		p = "type host:port"
	}
	r.status.Importance = widget.DangerImportance
	if p == "" {
		r.status.Importance = widget.MediumImportance
		r.ping.Enable()
	} else {
		r.ping.Disable()
	}
	r.status.SetText(p)
}

func (c *contactEditor) ping(r *contactRow) {
	if contactProblem(r.entry.Text) != "" {
		return
	}
	id := c.be.Ping(strings.TrimSpace(r.entry.Text))
	c.pending[id] = r
	r.status.Importance = widget.MediumImportance
	r.status.SetText("pinging…")
}

func (c *contactEditor) pingAll() {
	for _, r := range c.rows {
		c.ping(r)
	}
}

// handlePing shows a ping's reply time or "no reply" in its row.
func (c *contactEditor) handlePing(ev engine.PingResult) {
	r := c.pending[ev.Request]
	if r == nil {
		return
	}
	delete(c.pending, ev.Request)
	if ev.Err != nil {
		r.status.Importance = widget.WarningImportance
		r.status.SetText("no reply")
		if !errors.Is(ev.Err, engine.ErrNoReply) {
			r.status.SetText("no reply: " + ev.Err.Error())
		}
		return
	}
	r.status.Importance = widget.SuccessImportance
	r.status.SetText(fmt.Sprintf("reply in %.1f ms", float64(ev.RTT)/float64(time.Millisecond)))
}

// reset asks before replacing the contacts with the defaults (when they
// differ).
func (c *contactEditor) reset() {
	if joinContacts(splitContacts(c.text.Text)) == joinContacts(splitContacts(defaultBootstrap())) {
		return
	}
	if c.host == nil {
		c.text.SetText(defaultBootstrap())
		return
	}
	c.host.confirm("Reset the contacts?", "Replace your contacts with Swarmdrop's default ones?\n\n"+
		strings.Join(splitContacts(c.text.Text), ", "), "Reset", func() { c.text.SetText(defaultBootstrap()) })
}

func (c *contactEditor) onAdd() {
	r := c.addRow("")
	if cv := fyne.CurrentApp().Driver().CanvasForObject(c.box); cv != nil {
		cv.Focus(r.entry)
	}
}
