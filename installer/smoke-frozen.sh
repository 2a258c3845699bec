#!/usr/bin/env sh
# Smoke-test a frozen build: the bundled app (no .venv on the path) builds the demo workspace, opens the
# main window offscreen and saves a screenshot, writes the briefing HTML and the weekly PDF report.
#   installer/smoke-frozen.sh [dist/EnvGrid]
set -eu
app="${1:-dist/EnvGrid}/envgrid"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
env -u PYTHONPATH "$app" demo --db "$work/demo.sqlite"
env -u PYTHONPATH "$app" screenshot "$work/window.png" --db "$work/demo.sqlite"
env -u PYTHONPATH "$app" briefing "$work/briefing.html" --db "$work/demo.sqlite"
env -u PYTHONPATH "$app" report "$work/report.pdf" --db "$work/demo.sqlite" --period week
for f in window.png briefing.html report.pdf; do
    [ -s "$work/$f" ] || { echo "smoke: $f missing or empty" >&2; exit 1; }
done
echo "frozen build OK: demo, window screenshot, briefing HTML, PDF report"
