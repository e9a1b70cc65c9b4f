//go:build !nogui

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets this test binary, which links the window (Fyne) exactly as
// the real program does, stand in for swarmdrop: with SWARMDROP_TEST_MAIN=1
// it runs main. SWARMDROP_TEST_LOCALE=1 prints the LANG that main's code
// sees after restoreLocale.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("SWARMDROP_TEST_MAIN") == "1":
		main()
	case os.Getenv("SWARMDROP_TEST_LOCALE") == "1":
		restoreLocale()
		v, ok := os.LookupEnv("LANG")
		fmt.Printf("%s %v", v, ok)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// locales are the environments every subcommand must stay quiet under:
// LANG=C, C.UTF-8 (Debian's default in containers), unset, a locale with
// a modifier, and a usual one.
var locales = []string{"C", "C.UTF-8", "", "de_DE@euro", "en_US.UTF-8"}

// swarmdrop runs this binary as swarmdrop with LANG set to lang (unset
// when empty) and the other locale variables unset.
func swarmdrop(t *testing.T, lang string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	home := t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "LANG", k == "LANGUAGE", strings.HasPrefix(k, "LC_"), strings.HasPrefix(k, "XDG_"):
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "SWARMDROP_TEST_MAIN=1",
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_STATE_HOME="+filepath.Join(home, "state"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"))
	if lang != "" {
		cmd.Env = append(cmd.Env, "LANG="+lang)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestSubcommandsQuietUnderEveryLocale: with the window linked in, -h and
// --help of every subcommand print its usage and flags on stdout and exit
// 0, and no subcommand prints anything on standard error (no "Fyne error:
// Error parsing user locale C" lines) under any locale. Fyne logs in its
// package init, before any argument is read, so every subcommand runs
// under C.UTF-8 (the locale that logged) and one in turn under each other.
func TestSubcommandsQuietUnderEveryLocale(t *testing.T) {
	magnet := "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20)
	commands := []string{"create", "info", "download", "seed", "router"}
	for i, lang := range locales {
		t.Run("LANG="+lang, func(t *testing.T) {
			t.Parallel()
			help := []string{"-h", "--help", "-help"}[i%3]
			cmds := []string{commands[i%len(commands)]}
			if lang == "C.UTF-8" {
				cmds = commands
			}
			for _, c := range cmds {
				out, errs, code := swarmdrop(t, lang, c, help)
				if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: swarmdrop "+c+" ") || !strings.Contains(out, "\nflags:\n  -") {
					t.Errorf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", c, help, code, out, errs)
				}
			}
			out, errs, code := swarmdrop(t, lang, "info", "--json", magnet)
			if code != 0 || errs != "" || !strings.Contains(out, `"info_hash":"`+strings.Repeat("ab", 20)) {
				t.Errorf("info --json: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
			}
			_, errs, code = swarmdrop(t, lang, "info", filepath.Join(t.TempDir(), "missing.torrent"))
			if code != 1 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "swarmdrop: ") {
				t.Errorf("info of a missing file: exit %d, stderr %q; want one swarmdrop: line", code, errs)
			}
		})
	}
}

// TestLocaleRestored: the environment the program's own code (and the
// processes it starts) sees is the user's, LANG=C.UTF-8 included.
func TestLocaleRestored(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"C.UTF-8", "de_DE@euro", "en_US.UTF-8"} {
		cmd := exec.Command(exe)
		cmd.Env = []string{"SWARMDROP_TEST_LOCALE=1", "LANG=" + lang}
		out, err := cmd.Output()
		if err != nil || string(out) != lang+" true" {
			t.Errorf("LANG=%s: main sees %q (%v)", lang, out, err)
		}
	}
}
