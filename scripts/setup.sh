#!/usr/bin/env bash
# Installs everything Tessera needs on a Debian machine, skipping what is already there.
# Idempotent: a second run installs nothing. Fails with a clear message where it cannot install.
set -euo pipefail

# Build: cgo + Gio's X11/Wayland/EGL/Vulkan headers, GTK3 for native dialogs, OpenBLAS for matrix products,
# oneDNN for the critic's convolutions.
# Run: Mesa (software OpenGL/Vulkan). Tests and screenshots: Xvfb, xauth, ImageMagick, xdotool.
packages=(
  gcc pkg-config
  libx11-dev libx11-xcb-dev libxkbcommon-dev libxkbcommon-x11-dev libxcursor-dev libxfixes-dev
  libegl-dev libwayland-dev libvulkan-dev libgtk-3-dev
  libgl1-mesa-dri libegl-mesa0 libgles2 libvulkan1 mesa-vulkan-drivers
  libopenblas-dev libdnnl-dev
  xvfb xauth imagemagick xdotool
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: error: apt-get not found; install these packages by hand: ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get update -qq; then
    echo "setup: error: apt-get update failed (is the Debian mirror reachable?)" >&2; exit 1
  fi
  if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "setup: error: apt-get install failed for: ${missing[*]}" >&2; exit 1
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; else
    echo "setup: error: Go 1.26 or newer is required (https://go.dev/dl/); 'go' is not on PATH" >&2; exit 1
  fi
fi

cd "$(dirname "$0")/.."
if ! go mod download; then
  echo "setup: error: 'go mod download' failed (is the Go module proxy reachable?)" >&2; exit 1
fi
echo "setup: ok"
