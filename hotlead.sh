#!/usr/bin/env bash
# The two commands of the README:
#   ./hotlead.sh run  [serve options]  install what is missing, build (Release), start one node
#   ./hotlead.sh test [ctest options]  install what is missing, build, run every test
# Also: ./hotlead.sh build | deps
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(g++ cmake ninja-build ccache pkg-config python3 python3-websockets
          libcaf-dev libboost-dev libsimdjson-dev libmimalloc-dev librocksdb-dev
          libspdlog-dev doctest-dev libssl-dev libabsl-dev)
BUILD_DIR=${HOTLEAD_BUILD_DIR:-build}
JOBS=${HOTLEAD_JOBS:-2}

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "hotlead: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "hotlead: run as root or install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  ninja -C "$BUILD_DIR" -j"$JOBS" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  deps) deps ;;
  build) deps; build "$@" ;;
  run)
    deps
    build hotlead
    exec "$BUILD_DIR/hotlead" serve "$@"
    ;;
  test)
    deps
    build
    # unit tests (doctest) + end-to-end and crash tests (real binary over loopback)
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" "$@"
    ;;
  *)
    echo "usage: $0 run [serve options] | test [ctest options] | build | deps" >&2
    exit 2
    ;;
esac
