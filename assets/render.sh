#!/bin/sh
# Renders assets/icon.svg into the PNGs the repository keeps (so neither
# building nor `make install` needs an SVG renderer): assets/icon.png
# (512x512, the window and FyneApp.toml icon) and the hicolor theme sizes
# under packaging/icons. Needs rsvg-convert (Debian package librsvg2-bin).
# Run from anywhere: sh assets/render.sh
set -eu
cd "$(dirname "$0")/.."
command -v rsvg-convert >/dev/null || { echo "rsvg-convert not found: install the Debian package librsvg2-bin" >&2; exit 1; }
id=org.swarmdrop.Swarmdrop
rsvg-convert -w 512 -h 512 assets/icon.svg -o assets/icon.png
for n in 16 32 48 64 128 256 512; do
	dir=packaging/icons/hicolor/${n}x${n}/apps
	mkdir -p "$dir"
	rsvg-convert -w "$n" -h "$n" assets/icon.svg -o "$dir/$id.png"
done
mkdir -p packaging/icons/hicolor/scalable/apps
cp assets/icon.svg packaging/icons/hicolor/scalable/apps/$id.svg
