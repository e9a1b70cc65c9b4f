// Package packaging holds what puts Swarmdrop on a Linux desktop: the
// desktop entry, the AppStream metainfo and the icon theme files that
// `make install` copies, and the test that a real install makes
// `xdg-open FILE.torrent` and `xdg-open MAGNET` reach the running window.
package packaging
