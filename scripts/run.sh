#!/usr/bin/env bash
# Sets up a fresh Debian machine (see setup.sh), builds Tessera, and runs the studio on the
# built-in texture set. Where there is no display it says so and runs the headless trainer on the
# same set instead (resuming runs/default if it exists). Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH=/usr/local/go/bin:$PATH
mkdir -p bin
go build -o bin/tessera ./cmd/tessera
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  go build -o bin/tessera-studio ./cmd/tessera-studio
  export GSETTINGS_BACKEND=${GSETTINGS_BACKEND:-memory}
  exec bin/tessera-studio "$@"
fi
run=${TESSERA_RUN:-runs/default}
echo "No display (DISPLAY and WAYLAND_DISPLAY are unset): running the headless trainer instead, into $run." >&2
if [ -f "$run/checkpoint.tsr" ]; then
  exec bin/tessera resume "$run" "$@"
fi
exec bin/tessera train --out "$run" "$@"
