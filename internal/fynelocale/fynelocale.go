// Package fynelocale keeps Fyne from logging "Fyne error: Error parsing
// user locale C" (three lines on standard error) at start-up, before any
// of Swarmdrop's code runs, when the locale is one its locale reader cannot
// turn into a language tag: C.UTF-8 (the default of Debian's containers
// and minimal installs), or a name with a modifier such as de_DE@euro.
//
// Fyne reads the locale in the init function of its lang package, so only
// an earlier init can help. Go initialises packages in import-path order
// among those whose imports are done; this package imports only syscall,
// which the os package needs too, so it is always initialised before os,
// hence before log, Fyne and Fyne's lang. Its init gives such a locale
// variable the value "C" for the time of the package inits (Fyne then uses
// English, as it would have after its error), and Restore, called first in
// main, puts the user's value back for everything else (child processes,
// the C library).
//
// Import it in the window build's main package only. It does nothing on
// Windows and macOS, where the locale comes from the system, not the
// environment.
package fynelocale

// restore puts back the variable the init changed; nil when it changed
// none.
var restore func()

// Restore undoes what the package's init did to the environment. Call it
// at the start of main, before anything reads the locale or starts a
// process.
func Restore() {
	if restore != nil {
		restore()
		restore = nil
	}
}
