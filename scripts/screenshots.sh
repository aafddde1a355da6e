#!/usr/bin/env bash
# Takes the README's screenshots of the studio under Xvfb, as a user would see it: opens RUNDIR
# (a run made by 'tessera train' or the studio), continues training it for a while, and saves
# one screenshot per pane into OUTDIR, with the frame times of the studio's window while it
# trains (layout + draw milliseconds per frame): their median and 95th
# percentile printed at the end (the frame log itself goes to $FRAME_LOG, default
# /tmp/tessera-frames.txt).
# usage: scripts/screenshots.sh RUNDIR [OUTDIR] [TRAIN_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
run=$(realpath "${1:?usage: scripts/screenshots.sh RUNDIR [OUTDIR] [TRAIN_SECONDS]}")
out=$(realpath -m "${2:-docs/screenshots}")
train_s=${3:-120}
export PATH=/usr/local/go/bin:$PATH
mkdir -p bin "$out"
go build -o bin/tessera-studio ./cmd/tessera-studio

tmp=$(mktemp -d)
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
studio=""
cleanup() {
  [ -n "$studio" ] && kill "$studio" 2>/dev/null && wait "$studio" 2>/dev/null
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export DISPLAY=$display HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config GSETTINGS_BACKEND=memory
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tessera"
# the studio opens at its saved window size: make it the whole screen
echo '{"window_w": 1400, "window_h": 900}' >"$XDG_CONFIG_HOME/tessera/settings.json"
for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done

TESSERA_FRAME_LOG=$tmp/frames.txt bin/tessera-studio --run "$run" >"$tmp/studio.log" 2>&1 &
studio=$!
win=""
for _ in $(seq 100); do
  win=$(xdotool search --name '^Tessera' 2>/dev/null | head -1) && [ -n "$win" ] && break
  sleep 0.2
done
[ -n "$win" ] || { echo "the studio window did not appear"; cat "$tmp/studio.log"; exit 1; }
xdotool windowmove "$win" 0 0
# there is no window manager: keyboard focus follows the pointer, so keep it over the window and
# send real (XTEST) key events, which the studio gets like a user's
xdotool mousemove 700 450
sleep 3

shot() { # pane-number name
  xdotool key "ctrl+$1"
  sleep 2
  import -window root "$out/$2.png" # the window fills the 1400x900 screen
  echo "wrote $out/$2.png"
}

# continue training the run (Ctrl+P: the Train pane's "Continue run"), and look while it trains
xdotool key ctrl+p
sleep "$train_s"
shot 2 train
shot 1 data
# Explore: the first pick becomes anchor A, the fourth anchor B (positions in the 1400x900
# layout: the pick strip at the top of the left panel, the "B" radio below it)
xdotool key ctrl+3
sleep "${PICKS_WAIT:-10}" # the picks are generated once the pane opens
click() { xdotool mousemove "$1" "$2" click 1; sleep 1; }
click 47 125
click 189 239
click 194 125
xdotool mousemove 700 450
sleep "${EXPLORE_WAIT:-10}"
shot 3 explore
xdotool key ctrl+4
sleep 1
xdotool key ctrl+e # export the current texture: the pane shows its tiled preview
sleep "${EXPORT_WAIT:-15}"
shot 4 export
shot 5 about
kill -TERM "$studio"
wait "$studio" || true
studio=""
frames=${FRAME_LOG:-/tmp/tessera-frames.txt}
cp "$tmp/frames.txt" "$frames" 2>/dev/null || true
if [ -s "$frames" ]; then
  echo "frame times (layout, draw in ms) in $frames"
  awk '{print $1 + $2}' "$frames" | sort -n | awk '{a[NR] = $1} END {
    printf "frames: %d, frame time median %.1f ms, 95th percentile %.1f ms\n", NR, a[int((NR + 1) / 2)], a[int(NR * 0.95 + 0.5)] }'
fi
