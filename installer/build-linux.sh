#!/usr/bin/env sh
# Build dist/EnvGrid/ (a self-contained folder) and a tar.gz with a .desktop entry.
set -eu
cd "$(dirname "$0")/.."
./dev.sh test -q
.venv/bin/python -m pip install --quiet "pyinstaller==6.*"
.venv/bin/pyinstaller --noconfirm --distpath dist --workpath build installer/envgrid.spec
cp installer/linux/envgrid.desktop dist/EnvGrid/
installer/smoke-frozen.sh dist/EnvGrid
tar -C dist -czf dist/EnvGrid-linux-x86_64.tar.gz EnvGrid
echo "dist/EnvGrid-linux-x86_64.tar.gz"
