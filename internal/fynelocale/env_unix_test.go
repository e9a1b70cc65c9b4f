//go:build !windows && !darwin && !ios && !js && !android

package fynelocale

import "testing"

func TestUnreadableLocale(t *testing.T) {
	cases := []struct {
		env      map[string]string
		key, val string
		bad      bool
	}{
		{map[string]string{}, "LANG", "", false},
		{map[string]string{"LANG": "C"}, "LANG", "C", false},
		{map[string]string{"LANG": "POSIX", "LANGUAGE": "C.UTF-8"}, "LANG", "POSIX", false},
		{map[string]string{"LANG": "C.UTF-8"}, "LANG", "C.UTF-8", true},
		{map[string]string{"LANG": "C.utf8"}, "LANG", "C.utf8", true},
		{map[string]string{"LANG": "en_US.UTF-8"}, "LANG", "en_US.UTF-8", false},
		{map[string]string{"LANG": "de_DE@euro"}, "LANG", "de_DE@euro", true},
		{map[string]string{"LANG": "es_419.UTF-8"}, "LANG", "es_419.UTF-8", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "C.UTF-8"}, "LC_ALL", "C.UTF-8", true},
		{map[string]string{"LANG": "C.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "LC_MESSAGES", "fr_FR.UTF-8", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "en_GB:en"}, "LANG", "en_US.UTF-8", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "en_GB::en"}, "LANG", "en_US.UTF-8", true},
		{map[string]string{"LANGUAGE": "C.UTF-8"}, "LANG", "", true},
	}
	for _, c := range cases {
		get := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		key, val, bad := unreadableLocale(get)
		if key != c.key || val != c.val || bad != c.bad {
			t.Errorf("%v: got %s=%q bad=%v, want %s=%q bad=%v", c.env, key, val, bad, c.key, c.val, c.bad)
		}
	}
}
