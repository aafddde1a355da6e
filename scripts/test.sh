#!/usr/bin/env bash
# Sets up a fresh Debian machine (see setup.sh) and runs every check: formatting, go vet, the
# unit tests (with the race detector on the concurrent packages), and short fuzzing runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH=/usr/local/go/bin:$PATH
export GSETTINGS_BACKEND=memory   # GTK (native dialogs) would otherwise look for dconf
export EGL_PLATFORM=surfaceless   # headless rendering tests need no X server

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt'ed:"; echo "$unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 ./...
echo "== go test -race"
go test -count=1 -race ./...
echo "== fuzzing (short)"
# Budgets are execution counts (about 10 s each here), not durations: with a duration, Go 1.26's
# fuzz coordinator can report a spurious "context deadline exceeded" failure at the deadline
# (golang/go#75804, fixed in Go 1.27). FUZZTIME overrides all three (e.g. FUZZTIME=60s).
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime "${FUZZTIME:-300000x}" -fuzzminimizetime 0 ./gan/data/
go test -run '^$' -fuzz '^FuzzDecodeCheckpoint$' -fuzztime "${FUZZTIME:-50000x}" -fuzzminimizetime 0 ./gan/train/
go test -run '^$' -fuzz '^FuzzReadPNGMeta$' -fuzztime "${FUZZTIME:-350000x}" -fuzzminimizetime 0 ./gan/texture/
echo "== all checks passed"
