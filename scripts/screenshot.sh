#!/usr/bin/env bash
# Screenshots the HTML report of the bundled all-vmware capture with headless Chromium, for the
# README: `scripts/screenshot.sh [OUT.png]` (default docs/all-vmware.png).
#
# Uses $VMKFLOW, else the release binary under $CARGO_TARGET_DIR (or target/), building it when
# missing. Chromium runs with a proxy that is not there, so the picture shows only what the page
# holds; as root it needs --no-sandbox. When pngquant is installed the PNG is reduced to a
# 64-colour palette (a third of the size).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=${1:-docs/all-vmware.png}
bin=${VMKFLOW:-${CARGO_TARGET_DIR:-target}/release/vmkflow}
if [[ ! -x $bin ]]; then
    cargo build --release
fi
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome) || {
    echo "chromium is not installed (apt-get install chromium)" >&2
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" analyze captures/all-vmware.pcapng --quiet --html "$tmp/all-vmware.html"
sandbox=()
if [[ $(id -u) -eq 0 ]]; then
    sandbox=(--no-sandbox)
fi
"$browser" --headless --disable-gpu "${sandbox[@]}" --hide-scrollbars \
    --proxy-server=127.0.0.1:9 --user-data-dir="$tmp/profile" --virtual-time-budget=2000 \
    --window-size=1400,2400 --screenshot="$out" "file://$tmp/all-vmware.html" 2>/dev/null
if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --strip 64 --output "$out" -- "$out" || true
fi
echo "wrote $out ($(stat -c %s "$out") bytes)"
