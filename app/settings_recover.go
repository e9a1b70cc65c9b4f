package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/swarmdrop/swarmdrop/engine/metainfo"
)

// BrokenSettings is the error LoadSettings returns for a damaged settings
// file: what could not be read, what is used instead, and where the
// damaged file went. The settings returned with it are usable.
type BrokenSettings struct {
	// File is the settings file; Aside where the damaged copy was moved
	// ("" when KeepErr says why it could not be).
	File, Aside string
	// Syntax is why reading the file stopped early (truncated JSON, not
	// an object, empty), or nil when every field could be looked at.
	Syntax error
	// Problems are the fields that could not be read, in file order then
	// the ones the damage hid.
	Problems []FieldProblem
	// Kept are the labels of the fields read from the file.
	Kept []string
	// UPnPReset is set when UPnP is off only because its field could not
	// be read: the window offers to turn it back on.
	UPnPReset bool
	// KeepErr reports a failure to move the damaged file aside or to save
	// the recovered settings.
	KeepErr error
}

// FieldProblem is one settings field that could not be read.
type FieldProblem struct {
	Field   string // the field's JSON name, "upnp"
	Label   string // its name for people, "download folder"
	Problem string // "null", "a string, not true or false", or lostProblem
	Now     string // what is used instead, "off until you turn it back on"
}

func (b *BrokenSettings) Error() string {
	var s strings.Builder
	s.WriteString("the settings file was damaged")
	if b.Syntax != nil {
		fmt.Fprintf(&s, " (%v)", b.Syntax)
	}
	if len(b.Kept) > 0 {
		fmt.Fprintf(&s, "; kept: %s", strings.Join(b.Kept, ", "))
	}
	var lost []string
	for _, p := range b.Problems {
		if p.Problem == lostProblem {
			lost = append(lost, fmt.Sprintf("%s (now %s)", p.Label, p.Now))
		} else {
			fmt.Fprintf(&s, "; %s: %s, now %s", p.Label, p.Problem, p.Now)
		}
	}
	if len(lost) > 0 {
		fmt.Fprintf(&s, "; %s: %s", lostProblem, strings.Join(lost, ", "))
	}
	switch {
	case b.KeepErr != nil:
		fmt.Fprintf(&s, "; %v", b.KeepErr)
	case b.Aside != "":
		fmt.Fprintf(&s, "; damaged file kept as %s", b.Aside)
	}
	return s.String()
}

// lostProblem is the Problem of a field the damage hid.
const lostProblem = "lost in the damage"

// settingsField reads one field of the settings file strictly: null, a
// wrong type or an invalid value is an error, never a silent default.
type settingsField struct {
	name, label string
	// read decodes raw into s, or says what is wrong with it.
	read func(raw json.RawMessage, s *Settings) error
	// reset puts the safe value in s (from the defaults def) when the
	// field cannot be read, and says what it is now.
	reset func(s *Settings, def Settings) string
}

// settingsFields are the fields of Settings, in file order. Their resets
// are the safe side for network exposure: UPnP and local peer discovery
// off until the user turns them back on, and no bootstrap contacts (never the public routers in place
// of the user's own) unless some of the file's contacts parse.
var settingsFields = []settingsField{
	{"bootstrap", "bootstrap contacts", readBootstrap, func(s *Settings, _ Settings) string {
		s.Bootstrap = ""
		return "none: the public routers stay unused until you choose them in Settings"
	}},
	{"download_dir", "download folder", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.DownloadDir, "a folder name", func() error {
			if s.DownloadDir == "" {
				return errors.New("empty")
			}
			return nil
		})
	}, func(s *Settings, def Settings) string {
		s.DownloadDir = def.DownloadDir
		return "the default, " + def.DownloadDir
	}},
	{"port", "port", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.Port, "a port number", func() error {
			if s.Port < 0 || s.Port > 65535 {
				return fmt.Errorf("%d, outside 0-65535", s.Port)
			}
			return nil
		})
	}, func(s *Settings, def Settings) string {
		s.Port = def.Port
		return "a new random port, " + strconv.Itoa(def.Port)
	}},
	{"upnp", "UPnP", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.UPnP, "true or false", nil)
	}, func(s *Settings, _ Settings) string {
		s.UPnP = false
		return "off until you turn it back on"
	}},
	{"utp", "uTP", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.UTP, "true or false", nil)
	}, func(s *Settings, _ Settings) string { s.UTP = true; return "on" }},
	{"lsd", "local peer discovery", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.LSD, "true or false", nil)
	}, func(s *Settings, _ Settings) string {
		s.LSD = false
		return "off until you turn it back on"
	}},
	{"max_download_rate", "download limit", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.MaxDownloadRate, "a rate in bytes per second", nonNegative(&s.MaxDownloadRate))
	}, func(s *Settings, _ Settings) string { s.MaxDownloadRate = 0; return "no limit" }},
	{"max_upload_rate", "upload limit", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.MaxUploadRate, "a rate in bytes per second", nonNegative(&s.MaxUploadRate))
	}, func(s *Settings, _ Settings) string { s.MaxUploadRate = 0; return "no limit" }},
	{"max_connections", "maximum connections", func(raw json.RawMessage, s *Settings) error {
		n := int64(0)
		err := readValue(raw, &n, "a number", nonNegative(&n))
		s.MaxConnections = int(n)
		if err == nil && int64(s.MaxConnections) != n {
			err = errors.New("too large")
		}
		return err
	}, func(s *Settings, def Settings) string {
		s.MaxConnections = def.MaxConnections
		return strconv.Itoa(def.MaxConnections)
	}},
	{"keep_in_tray", "keep running in the tray", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.KeepInTray, "true or false", nil)
	}, func(s *Settings, _ Settings) string { s.KeepInTray = false; return "off" }},
	{"window_width", "window width", func(raw json.RawMessage, s *Settings) error {
		return readSize(raw, &s.WindowWidth)
	}, func(s *Settings, _ Settings) string { s.WindowWidth = 0; return "the default size" }},
	{"window_height", "window height", func(raw json.RawMessage, s *Settings) error {
		return readSize(raw, &s.WindowHeight)
	}, func(s *Settings, _ Settings) string { s.WindowHeight = 0; return "the default size" }},
	{"layout", "window layout", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.Layout, "a layout", func() error {
			if len(s.Layout.Columns) == 0 {
				s.Layout.Columns = nil
			}
			return nil
		})
	}, func(s *Settings, _ Settings) string { s.Layout = WindowLayout{}; return "the default layout" }},
	{"skip_add_dialog", "skipping the add dialog", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.SkipAddDialog, "true or false", nil)
	}, func(s *Settings, _ Settings) string { s.SkipAddDialog = false; return "the add dialog is shown" }},
	{"quit_without_asking", "quitting without asking", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.QuitWithoutAsking, "true or false", nil)
	}, func(s *Settings, _ Settings) string {
		s.QuitWithoutAsking = false
		return "closing asks while transfers run"
	}},
	{"recent_dirs", "recent download folders", func(raw json.RawMessage, s *Settings) error {
		return readValue(raw, &s.RecentDirs, "a list of folders", func() error {
			if len(s.RecentDirs) > maxRecentDirs {
				s.RecentDirs = s.RecentDirs[:maxRecentDirs]
			}
			if len(s.RecentDirs) == 0 {
				s.RecentDirs = nil
			}
			return nil
		})
	}, func(s *Settings, _ Settings) string { s.RecentDirs = nil; return "none" }},
}

// optionalField reports fields whose loss is not worth telling the user.
func optionalField(name string) bool {
	switch name {
	case "window_width", "window_height", "layout", "recent_dirs":
		return true
	}
	return false
}

// parseSettings reads a settings file over the defaults def. A field the
// file does not have keeps its default (older files lack newer fields).
// When the file is damaged, it returns the settings it could recover and
// a *BrokenSettings (without File and Aside, which LoadSettings fills):
// every field that is null, of the wrong type or invalid is reset to its
// safe value, and so is every field the damage hid (after a truncation,
// or all of them for an empty file or one that is not a JSON object).
// Field names match without regard to case, the last of duplicates wins,
// and unknown fields are ignored (a newer version may have written them).
// The returned settings are always valid.
func parseSettings(data []byte, def Settings) (Settings, *BrokenSettings) {
	raws, syntax := settingsObject(data)
	s := def
	b := &BrokenSettings{Syntax: syntax}
	for _, f := range settingsFields {
		raw, ok := raws[f.name]
		if !ok {
			if syntax == nil {
				continue // absent from a whole file: the default
			}
			now := f.reset(&s, def)
			if !optionalField(f.name) {
				b.Problems = append(b.Problems, FieldProblem{f.name, f.label, lostProblem, now})
				b.UPnPReset = b.UPnPReset || f.name == "upnp"
			}
			continue
		}
		if err := f.read(raw, &s); err != nil {
			var part *partlyRead
			now := ""
			if errors.As(err, &part) {
				now = part.now
			} else {
				now = f.reset(&s, def)
			}
			b.Problems = append(b.Problems, FieldProblem{f.name, f.label, err.Error(), now})
			b.UPnPReset = b.UPnPReset || f.name == "upnp"
			continue
		}
		b.Kept = append(b.Kept, f.label)
	}
	if syntax == nil && len(b.Problems) == 0 {
		return s, nil
	}
	return s, b
}

// settingsObject reads the top-level JSON object of data into raw values
// by lower-cased field name, as far as it can: on a syntax error
// (truncation included) it returns the fields read before it, and the
// error. An empty file or a value that is not an object reads no field.
func settingsObject(data []byte) (map[string]json.RawMessage, error) {
	raws := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return raws, errors.New("the file is empty")
	case err != nil:
		return raws, fmt.Errorf("not JSON: %v", err)
	case tok != json.Delim('{'):
		return raws, fmt.Errorf("holds %s, not a settings object", jsonKind(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return raws, truncated(err)
		}
		key, _ := tok.(string) // the decoder allows only strings here
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return raws, truncated(err)
		}
		raws[strings.ToLower(key)] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return raws, truncated(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return raws, errors.New("text after the settings object")
	}
	return raws, nil
}

// truncated names an end of input as such.
func truncated(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the file is cut short")
	}
	return fmt.Errorf("not JSON: %v", err)
}

// readValue decodes raw into v strictly: null and a value of another type
// are errors naming what was expected (want); check, when set, validates
// the decoded value.
func readValue(raw json.RawMessage, v any, want string, check func() error) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errors.New("null")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s, not %s", article(te.Value), want)
		}
		return fmt.Errorf("not %s", want)
	}
	if check != nil {
		return check()
	}
	return nil
}

func nonNegative(n *int64) func() error {
	return func() error {
		if *n < 0 {
			return fmt.Errorf("%d, below 0", *n)
		}
		return nil
	}
}

// readSize reads a window dimension, a number from 0 to 100,000.
func readSize(raw json.RawMessage, v *float32) error {
	return readValue(raw, v, "a size", func() error {
		if *v < 0 || *v > 100_000 {
			return fmt.Errorf("%g, outside 0-100000", *v)
		}
		return nil
	})
}

// partlyRead is a field's read error when part of its value was kept:
// the field holds that part, which now describes.
type partlyRead struct{ problem, now string }

func (p *partlyRead) Error() string { return p.problem }

// readBootstrap reads the contacts field. When some contacts do not
// parse, those that do are kept (a *partlyRead names the others), so that
// a damaged entry never sends the user back to the public routers.
func readBootstrap(raw json.RawMessage, s *Settings) error {
	var text string
	if err := readValue(raw, &text, "a list of contacts", nil); err != nil {
		return err
	}
	if _, err := metainfo.ParseNodes(text); err == nil {
		s.Bootstrap = text
		return nil
	}
	var good []metainfo.Node
	var bad []string
	for _, item := range strings.Split(text, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		if n, err := metainfo.ParseNode(item); err == nil {
			good = metainfo.AppendNodes(good, n)
		} else {
			bad = append(bad, strconv.Quote(strings.TrimSpace(item)))
		}
	}
	s.Bootstrap = metainfo.FormatNodes(good)
	now := "the contacts that parse: " + s.Bootstrap
	if len(good) == 0 {
		now = "none: the public routers stay unused until you choose them in Settings"
	}
	return &partlyRead{fmt.Sprintf("entries that do not parse (%s)", strings.Join(bad, ", ")), now}
}

// jsonKind names the kind of a JSON token for messages.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "true or false"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		return "an array"
	}
	return "something else"
}

// article puts "a" or "an" before a JSON type name ("string", "number
// 6881.5", "array").
func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// safeDefaults is def on the safe side, for when nothing of the user's
// settings can be read: UPnP and local peer discovery off, and no
// bootstrap contacts.
func safeDefaults(def Settings) Settings {
	def.UPnP, def.LSD = false, false
	def.Bootstrap = ""
	return def
}
