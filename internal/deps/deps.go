// Package deps pins the chosen dependencies in go.mod while the packages
// that use them are being written. It is removed once each is imported.
package deps

import (
	_ "github.com/anacrolix/torrent/bencode"
	_ "github.com/huin/goupnp"
)
