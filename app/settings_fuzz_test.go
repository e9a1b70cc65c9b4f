package app

import (
	"encoding/json"
	"testing"
)

// FuzzParseSettings: no settings file makes parsing panic, and whatever it
// accepts is valid and survives a save and a reload unchanged.
func FuzzParseSettings(f *testing.F) {
	def := DefaultSettings(Paths{Downloads: "/home/u/Downloads"})
	good, _ := json.Marshal(def)
	f.Add(good)
	f.Add([]byte(`{"bootstrap": "a:1, b", "port": 70000}`))
	f.Add([]byte(`{"bootstrap": 5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSettings(data, def)
		if err != nil {
			if s != def {
				t.Fatalf("a rejected file changed the defaults: %+v", s)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted invalid settings: %v", err)
		}
		again, _ := json.Marshal(s)
		s2, err := parseSettings(again, def)
		if err != nil || s2 != s {
			t.Fatalf("saved settings do not reload: %v %+v", err, s2)
		}
	})
}
