#!/usr/bin/env sh
# EnvGrid developer entry point: installs into ./.venv, then runs the app or the tests.
#   ./dev.sh app [ARGS…]   install and open the app (default: the built-in demo workspace)
#   ./dev.sh test [ARGS…]  install with test extras and run the test suite headless
set -eu
cd "$(dirname "$0")"

find_python() {
    for candidate in "${ENVGRID_PYTHON:-}" python3.12 python3.13 "$HOME/.pyenv/versions/3.12.1/bin/python" python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "EnvGrid needs CPython 3.12 or newer (set ENVGRID_PYTHON=/path/to/python3.12)" >&2
    return 1
}

install() {
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python)
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$1"
}

# Qt's X11 plugin needs a few xcb libraries that a minimal Debian/Ubuntu desktop may lack.
ensure_qt_x11_libs() {
    [ "$(uname -s)" = Linux ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || return 0
    plugin=$(ls .venv/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so 2>/dev/null | head -n 1)
    [ -n "$plugin" ] && ldd "$plugin" | grep -q "not found" || return 0
    packages="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 fonts-noto-cjk"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    else
        echo "Qt needs system libraries: sudo apt-get install $packages" >&2
    fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    app)
        install ""
        ensure_qt_x11_libs
        exec .venv/bin/python main.py "$@" ;;
    test)
        install "[test]"
        export QT_QPA_PLATFORM=offscreen
        exec .venv/bin/python -m pytest "$@" ;;
    *)
        echo "usage: ./dev.sh app|test [ARGS…]" >&2
        exit 2 ;;
esac
