package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	swapp "github.com/swarmdrop/swarmdrop/app"
)

// TestSettingsDamagedDialog: a settings file whose upnp field is null
// opens a dialog saying what was kept and what was reset, and its "Turn
// UPnP back on" button saves UPnP on, keeping the user's contacts.
func TestSettingsDamagedDialog(t *testing.T) {
	d := t.TempDir()
	p := swapp.Paths{SettingsFile: filepath.Join(d, "settings.json"), Downloads: filepath.Join(d, "Downloads")}
	os.WriteFile(p.SettingsFile, []byte(`{"bootstrap": "10.1.2.3:6881", "download_dir": "/d", "upnp": null}`), 0o600)
	s, err := swapp.LoadSettings(p)
	var broken *swapp.BrokenSettings
	if !errors.As(err, &broken) || s.UPnP {
		t.Fatalf("loading: %+v, %v", s, err)
	}
	be := newFakeBackend()
	be.settings = s
	m := newTestWindow(t, be)
	m.showSettingsProblem(err)
	top := m.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	text := strings.Join(labelTexts(top), "\n")
	for _, want := range []string{"Kept from the file: bootstrap contacts, download folder", "UPnP (null): now off until you turn it back on", broken.Aside} {
		if !strings.Contains(text, want) {
			t.Errorf("dialog text lacks %q:\n%s", want, text)
		}
	}
	findButton(t, top, "Turn UPnP back on").OnTapped()
	if got := be.Settings(); !got.UPnP || got.Bootstrap != "10.1.2.3:6881" {
		t.Fatalf("after the button: %+v", got)
	}
	if m.win.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open")
	}
}

// labelTexts collects the texts of the labels in o's tree.
func labelTexts(o fyne.CanvasObject) []string {
	var out []string
	switch x := o.(type) {
	case *widget.Label:
		return []string{x.Text}
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, labelTexts(c)...)
		}
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(w).Objects() {
			out = append(out, labelTexts(c)...)
		}
	}
	return out
}
