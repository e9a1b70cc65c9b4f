// Package assets holds the files Swarmdrop embeds in its binary: the
// application icon (assets/icon.png, rendered from icon.svg by render.sh).
package assets

import _ "embed"

// Icon is the application icon, a 512x512 PNG.
//
//go:embed icon.png
var Icon []byte
