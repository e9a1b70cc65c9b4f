//go:build !windows && !darwin && !ios && !js && !android

package fynelocale

import "syscall"

func init() {
	key, value, bad := unreadableLocale(syscall.Getenv)
	if !bad {
		return
	}
	syscall.Setenv(key, "C")
	restore = func() {
		if value == "" {
			syscall.Unsetenv(key)
		} else {
			syscall.Setenv(key, value)
		}
	}
}

// unreadableLocale reads the environment as Fyne's locale reader does (the
// first set of LC_ALL, LC_MESSAGES and LANG; unless that is C or POSIX,
// the list in LANGUAGE when set) and reports whether one of the locales
// it would find cannot be parsed as a language tag. key is the variable
// to set to "C" to turn the reader's result into "no locale", and value
// its current value ("" for unset).
func unreadableLocale(getenv func(string) (string, bool)) (key, value string, bad bool) {
	key = "LANG"
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, _ := getenv(k); v != "" {
			key, value = k, v
			break
		}
	}
	if value == "C" || value == "POSIX" {
		return key, value, false
	}
	list := value
	if l, _ := getenv("LANGUAGE"); l != "" {
		list = l
	}
	if list == "" {
		return key, value, false
	}
	for _, loc := range split(list, ':') {
		if !parsable(loc) {
			return key, value, true
		}
	}
	return key, value, false
}

// parsable reports whether the locale name loc ("en_US.UTF-8") becomes a
// well-formed language tag the way Fyne's reader converts it: the part
// before any "." split at the first "_" or "-" into a language of 2 to 8
// letters and an optional region of 2 letters or 3 digits (or a script of
// 4 letters).
func parsable(loc string) bool {
	for i := 0; i < len(loc); i++ {
		if loc[i] == '.' {
			loc = loc[:i]
			break
		}
	}
	lang, region := loc, ""
	for i := 0; i < len(loc); i++ {
		if loc[i] == '_' || loc[i] == '-' {
			lang, region = loc[:i], loc[i+1:]
			break
		}
	}
	if len(lang) < 2 || len(lang) > 8 || !all(lang, isLetter) {
		return false
	}
	switch {
	case region == "":
		return true
	case len(region) == 2, len(region) == 4:
		return all(region, isLetter)
	case len(region) == 3:
		return all(region, isDigit)
	}
	return false
}

func split(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func all(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
