package ui

import (
	"path"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fileEntry is one file of a torrent as the file trees show it.
type fileEntry struct {
	Index    int    // the file's place in the torrent's file list
	Path     string // slash-separated, the torrent's folder first
	Size     int64
	Progress float64
	Priority filePriority
}

// fileTree shows a torrent's files as folders and files sorted by name,
// folders first, each named once. In choose mode (the add dialog) every
// file has a check box (unchecked: skipped) and a priority; in status
// mode (the details) every file and folder shows its size, progress and
// priority, a right click offers to open it or change its priority, and
// a double click opens it. Used on the Fyne thread only.
type fileTree struct {
	choose bool
	keys   *dialogKeys // choose mode: the dialog's Return and Escape
	tree   *fileTreeWidget
	cols   *columnSet
	root   fyne.CanvasObject

	files      []fileEntry
	byPath     map[string]int      // a file's node id → its place in files
	children   map[string][]string // a folder's node id ("" for the top) → its children, sorted
	folderSize map[string]int64
	sig        string             // the paths shown, to rebuild only when they change
	nodes      map[*fileNode]bool // the node objects made, to find one by id
	selected   string             // the node selected in status mode

	// onChange is told that a check box or a priority changed (choose).
	onChange func()
	// onPriority sets the priority of the files at these indexes (status).
	onPriority func(indexes []int, p filePriority)
	// onOpen opens a file or folder by its path (status).
	onOpen func(path string)
}

var (
	chooseColumns = []listColumn{{"name", "Name", 0, 0, 0}, {"size", "Size", 90, 60, 0}, {"priority", "Priority", 120, 100, 0}}
	statusColumns = []listColumn{{"name", "File", 0, 0, 0}, {"size", "Size", 90, 60, 0},
		{"done", "Done", 60, 50, 0}, {"priority", "Priority", 70, 60, 0}}
)

func newFileTree(choose bool, keys *dialogKeys) *fileTree {
	ft := &fileTree{choose: choose, keys: keys, byPath: map[string]int{}, children: map[string][]string{},
		folderSize: map[string]int64{}, nodes: map[*fileNode]bool{}, onChange: func() {}, onPriority: func([]int, filePriority) {}, onOpen: func(string) {}}
	cols := statusColumns
	if choose {
		cols = chooseColumns
	}
	ft.cols = newColumnSet(cols, nil, -1)
	ft.tree = newFileTreeWidget(ft)
	var heads []fyne.CanvasObject
	for _, c := range cols {
		heads = append(heads, bold(c.title))
	}
	header := container.New(columnsLayout{ft.cols}, heads...)
	ft.root = container.NewBorder(container.NewPadded(header), nil, nil, nil, ft.tree)
	return ft
}

// set shows files: the tree is rebuilt when the paths change, else only
// its figures are updated.
func (ft *fileTree) set(files []fileEntry) {
	var sig strings.Builder
	for _, f := range files {
		sig.WriteString(f.Path)
		sig.WriteByte(0)
	}
	if sig.String() == ft.sig {
		for i, f := range files {
			if ft.choose {
				f.Priority = ft.files[i].Priority // the user's choice
			}
			ft.files[i] = f
		}
		ft.tree.Refresh()
		return
	}
	ft.sig = sig.String()
	ft.files = slices.Clone(files)
	clear(ft.byPath)
	clear(ft.children)
	clear(ft.folderSize)
	for i, f := range ft.files {
		ft.byPath[f.Path] = i
		p := f.Path
		for p != "" {
			dir := path.Dir(p)
			if dir == "." {
				dir = ""
			}
			if !slices.Contains(ft.children[dir], p) {
				ft.children[dir] = append(ft.children[dir], p)
			}
			if dir != "" {
				ft.folderSize[dir] += f.Size
			}
			p = dir
		}
	}
	for dir, c := range ft.children {
		slices.SortFunc(c, func(a, b string) int {
			if fa, fb := ft.isFolder(a), ft.isFolder(b); fa != fb {
				if fa {
					return -1
				}
				return 1
			}
			return strings.Compare(strings.ToLower(path.Base(a)), strings.ToLower(path.Base(b)))
		})
		ft.children[dir] = c
	}
	ft.selected = ""
	ft.tree.UnselectAll()
	// A single top folder (the torrent's) opens at once.
	if top := ft.children[""]; len(top) == 1 && ft.isFolder(top[0]) {
		ft.tree.OpenBranch(top[0])
	}
	ft.tree.Refresh()
}

func (ft *fileTree) isFolder(uid string) bool { _, ok := ft.children[uid]; return ok }

// under returns the places in files of the files at or under node uid.
func (ft *fileTree) under(uid string) []int {
	if i, ok := ft.byPath[uid]; ok {
		return []int{i}
	}
	var out []int
	for _, c := range ft.children[uid] {
		out = append(out, ft.under(c)...)
	}
	return out
}

// indexesUnder returns the torrent's file indexes of the files at or
// under node uid.
func (ft *fileTree) indexesUnder(uid string) []int {
	idx := ft.under(uid)
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = ft.files[j].Index
	}
	return out
}

// progress is a node's share done, weighed by size.
func (ft *fileTree) progress(uid string) float64 {
	var done, size float64
	for _, i := range ft.under(uid) {
		f := ft.files[i]
		done += f.Progress * float64(f.Size)
		size += float64(f.Size)
	}
	if size == 0 {
		return 1
	}
	return done / size
}

// priority is a node's priority, or "mixed" for a folder whose files
// differ.
func (ft *fileTree) priorityText(uid string) string {
	idx := ft.under(uid)
	if len(idx) == 0 {
		return ""
	}
	p := ft.files[idx[0]].Priority
	for _, i := range idx[1:] {
		if ft.files[i].Priority != p {
			return "Mixed"
		}
	}
	return priorityNames[p]
}

// wanted tells whether every (all) or some (any) file under uid is not
// skipped.
func (ft *fileTree) wanted(uid string) (all, any bool) {
	all = true
	for _, i := range ft.under(uid) {
		if ft.files[i].Priority == prioritySkip {
			all = false
		} else {
			any = true
		}
	}
	return all, any
}

// setPriority gives the files under uid priority p (choose mode: a check
// box or a priority choice changed).
func (ft *fileTree) setPriority(uid string, p filePriority) {
	for _, i := range ft.under(uid) {
		ft.files[i].Priority = p
	}
	ft.tree.Refresh()
	ft.onChange()
}

// priorities returns the chosen priority of every file by its index in
// the torrent (indexes no file shown has, such as pad files, are normal).
func (ft *fileTree) priorities() []filePriority {
	n := 0
	for _, f := range ft.files {
		n = max(n, f.Index+1)
	}
	out := make([]filePriority, n)
	for _, f := range ft.files {
		out[f.Index] = f.Priority
	}
	return out
}

// chosen returns how many files are wanted and their size.
func (ft *fileTree) chosen() (n int, size int64) {
	for _, f := range ft.files {
		if f.Priority != prioritySkip {
			n++
			size += f.Size
		}
	}
	return n, size
}

// menu shows, at pos, what can be done with node uid (status mode).
func (ft *fileTree) menu(uid string, pos fyne.Position) {
	c := fyne.CurrentApp().Driver().CanvasForObject(ft.tree)
	if c == nil || uid == "" {
		return
	}
	indexes := ft.indexesUnder(uid)
	item := func(p filePriority) *fyne.MenuItem {
		it := fyne.NewMenuItem(priorityNames[p], func() { ft.onPriority(indexes, p) })
		it.Checked = ft.priorityText(uid) == priorityNames[p]
		return it
	}
	open := "Open file"
	if ft.isFolder(uid) {
		open = "Open folder"
	}
	m := fyne.NewMenu("", fyne.NewMenuItem(open, func() { ft.onOpen(uid) }), fyne.NewMenuItemSeparator(),
		item(priorityHigh), item(priorityNormal), item(prioritySkip))
	widget.ShowPopUpMenuAtPosition(m, c, pos)
}

// fileTreeWidget is the tree itself: in choose mode, Space toggles the
// focused file and Return and Escape go to the dialog; in status mode,
// Return opens the selected node and the Menu key shows its menu.
type fileTreeWidget struct {
	widget.Tree
	ft *fileTree
}

func newFileTreeWidget(ft *fileTree) *fileTreeWidget {
	t := &fileTreeWidget{ft: ft}
	t.ChildUIDs = func(uid string) []string { return ft.children[uid] }
	t.IsBranch = func(uid string) bool { return uid == "" || ft.isFolder(uid) }
	t.CreateNode = func(bool) fyne.CanvasObject {
		n := newFileNode(ft)
		ft.nodes[n] = true
		return n
	}
	t.UpdateNode = func(uid string, _ bool, o fyne.CanvasObject) { o.(*fileNode).show(uid) }
	t.OnSelected = func(uid string) {
		if ft.choose {
			// Choosing: a click or Space on a file flips its check box,
			// on a folder opens or closes it.
			t.Unselect(uid)
			if ft.isFolder(uid) {
				t.ToggleBranch(uid)
				return
			}
			all, _ := ft.wanted(uid)
			p := prioritySkip
			if !all {
				p = priorityNormal
			}
			ft.setPriority(uid, p)
			return
		}
		ft.selected = uid
	}
	t.OnUnselected = func(uid string) {
		if ft.selected == uid {
			ft.selected = ""
		}
	}
	t.ExtendBaseWidget(t)
	return t
}

// TypedKey adds the dialog's and the menu's keys to the tree's own.
func (t *fileTreeWidget) TypedKey(ev *fyne.KeyEvent) {
	switch {
	case t.ft.choose && t.ft.keys.handle(ev):
		return
	case !t.ft.choose && (ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter) && t.ft.selected != "":
		t.ft.onOpen(t.ft.selected)
		return
	case !t.ft.choose && (ev.Name == desktop.KeyMenu || ev.Name == fyne.KeyF10 && modifiers()&fyne.KeyModifierShift != 0):
		if n := t.nodeOf(t.ft.selected); n != nil {
			t.ft.menu(t.ft.selected, fyne.CurrentApp().Driver().AbsolutePositionForObject(n).Add(fyne.NewPos(40, n.Size().Height)))
		}
		return
	}
	t.Tree.TypedKey(ev)
}

// nodeOf finds the object showing node uid, if it is on screen.
func (t *fileTreeWidget) nodeOf(uid string) *fileNode {
	for n := range t.ft.nodes {
		if n.uid == uid && n.Visible() {
			return n
		}
	}
	return nil
}

// fileNode is one row of a file tree.
type fileNode struct {
	widget.BaseWidget
	ft    *fileTree
	uid   string
	check *keyCheck  // choose mode
	prio  *keySelect // choose mode
	icon  *widget.Icon
	name  *widget.Label
	size  *widget.Label
	done  *widget.Label // status mode
	state *widget.Label // status mode: the priority
	cells *fyne.Container

	lastDown time.Time
}

func newFileNode(ft *fileTree) *fileNode {
	n := &fileNode{ft: ft, icon: widget.NewIcon(theme.FileIcon()), name: widget.NewLabel(""), size: widget.NewLabel("")}
	n.name.Truncation = fyne.TextTruncateEllipsis
	n.size.Truncation = fyne.TextTruncateClip
	nameCell := container.NewBorder(nil, nil, n.icon, nil, n.name)
	if ft.choose {
		n.check = newKeyCheck(ft.keys, "", func(on bool) {
			p := prioritySkip
			if on {
				p = priorityNormal
			}
			ft.setPriority(n.uid, p)
		})
		n.prio = newKeySelect(ft.keys, []string{priorityNames[priorityNormal], priorityNames[priorityHigh]}, func(s string) {
			ft.setPriority(n.uid, priorityOf(s))
		})
		nameCell = container.NewBorder(nil, nil, container.NewHBox(n.check, n.icon), nil, n.name)
		n.cells = container.New(columnsLayout{ft.cols}, nameCell, n.size, n.prio)
	} else {
		n.done, n.state = widget.NewLabel(""), widget.NewLabel("")
		n.done.Truncation, n.state.Truncation = fyne.TextTruncateClip, fyne.TextTruncateClip
		n.cells = container.New(columnsLayout{ft.cols}, nameCell, n.size, n.done, n.state)
	}
	n.ExtendBaseWidget(n)
	return n
}

// show fills the node for uid.
func (n *fileNode) show(uid string) {
	ft := n.ft
	n.uid = uid
	folder := ft.isFolder(uid)
	size := ft.folderSize[uid]
	if i, ok := ft.byPath[uid]; ok {
		size = ft.files[i].Size
	}
	n.name.SetText(path.Base(uid))
	if folder {
		n.icon.SetResource(theme.FolderIcon())
	} else {
		n.icon.SetResource(theme.FileIcon())
	}
	n.size.SetText(formatSize(size))
	if ft.choose {
		all, any := ft.wanted(uid)
		n.check.Checked, n.check.Partial = all, any && !all
		n.check.Refresh()
		text := ft.priorityText(uid)
		if text == priorityNames[prioritySkip] {
			n.prio.Selected = ""
			n.prio.PlaceHolder = "Skipped"
			n.prio.Disable()
		} else {
			n.prio.Enable()
			n.prio.PlaceHolder = text
			n.prio.Selected = text
			if text == "Mixed" {
				n.prio.Selected = ""
			}
		}
		n.prio.Refresh()
		return
	}
	n.done.SetText(formatPercent(ft.progress(uid)))
	n.state.SetText(ft.priorityText(uid))
}

// Tapped selects the node in the tree (status mode) or flips its check
// box (choose mode).
func (n *fileNode) Tapped(*fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(n.ft.tree); c != nil {
		c.Focus(n.ft.tree)
	}
	n.ft.tree.Select(n.uid)
}

// TappedSecondary shows the node's menu (status mode).
func (n *fileNode) TappedSecondary(ev *fyne.PointEvent) {
	if n.ft.choose {
		return
	}
	n.ft.tree.Select(n.uid)
	n.ft.menu(n.uid, ev.AbsolutePosition)
}

// MouseDown opens the node on a double click (status mode).
func (n *fileNode) MouseDown(ev *desktop.MouseEvent) {
	if n.ft.choose || ev.Button != desktop.MouseButtonPrimary {
		return
	}
	if time.Since(n.lastDown) < 500*time.Millisecond {
		n.lastDown = time.Time{}
		n.ft.onOpen(n.uid)
		return
	}
	n.lastDown = time.Now()
}

// MouseUp does nothing; MouseDown needs it.
func (n *fileNode) MouseUp(*desktop.MouseEvent) {}

func (n *fileNode) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(n.cells) }
