# Build dist\EnvGrid\ on Windows (Python 3.12 x64 on PATH as `py -3.12`).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
py -3.12 -m venv .venv
.venv\Scripts\python -m pip install -e ".[test]" "pyinstaller==6.*"
.venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build installer\envgrid.spec
Compress-Archive -Force -Path dist\EnvGrid -DestinationPath dist\EnvGrid-windows-x64.zip
