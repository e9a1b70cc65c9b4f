package app

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseSettings: no settings file makes parsing panic; whatever it
// returns is valid and survives a save and a reload unchanged; a damaged
// file never turns UPnP or local peer discovery on when its field was not
// read, and never puts the public routers in place of contacts it could
// not read.
func FuzzParseSettings(f *testing.F) {
	def := DefaultSettings(Paths{Downloads: "/home/u/Downloads"})
	good, _ := json.Marshal(def)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"bootstrap": "a:1, b", "port": 70000}`))
	f.Add([]byte(`{"bootstrap": 5}`))
	f.Add([]byte(`{"upnp": null, "UPNP": "yes", "port": 6881.5}`))
	f.Add([]byte(`{"lsd": "on", "LSD": null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, broken := parseSettings(data, def)
		if err := s.Validate(); err != nil {
			t.Fatalf("returned invalid settings: %v", err)
		}
		if broken != nil {
			if broken.UPnPReset && s.UPnP {
				t.Fatal("UPnP on though its field could not be read")
			}
			for _, p := range broken.Problems {
				if p.Field == "lsd" && s.LSD {
					t.Fatalf("lsd %s but local peer discovery is on", p.Problem)
				}
				if p.Field == "upnp" && (s.UPnP || !broken.UPnPReset) {
					t.Fatalf("upnp %s but UPnP is %v (reset %v)", p.Problem, s.UPnP, broken.UPnPReset)
				}
				if p.Field == "bootstrap" && s.Bootstrap == DefaultBootstrap && !strings.Contains(string(data), "dht.libtorrent.org") {
					t.Fatal("unreadable contacts replaced by the public routers")
				}
			}
			if len(broken.Error()) == 0 || strings.ContainsAny(broken.Error(), "\n\r") {
				t.Fatalf("message %q is not one line", broken.Error())
			}
		}
		again, _ := json.Marshal(s)
		s2, b2 := parseSettings(again, def)
		if b2 != nil || !reflect.DeepEqual(s2, s) {
			t.Fatalf("saved settings do not reload: %v %+v", b2, s2)
		}
	})
}
