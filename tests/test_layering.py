"""The model package ``gis`` stays free of Qt and of the desktop (STYLE.md, napari's contract)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph", "desktop")

_PROBE = """
import importlib, json, pkgutil, sys
import gis
failed = {}
for module in pkgutil.walk_packages(gis.__path__, "gis."):
    if ".migrations" in module.name or module.name.endswith("__main__"):  # run by alembic / python -m only
        continue
    try:
        importlib.import_module(module.name)
    except Exception as exc:
        failed[module.name] = repr(exc)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in %r)
print(json.dumps({"loaded": loaded, "failed": failed,
                  "imported": sorted(n for n in sys.modules if n.startswith("gis"))}))
""" % (FORBIDDEN,)


def test_importing_all_of_gis_loads_no_qt_and_no_desktop():
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    assert "gis.storage.store" in report["imported"] and "gis.cli" in report["imported"]
    assert report["loaded"] == []


def test_no_gis_module_imports_qt_or_desktop():
    pattern = re.compile(r"^\s*(?:from|import)\s+(%s)\b" % "|".join(map(re.escape, FORBIDDEN)), re.MULTILINE)
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
                 for path in sorted((ROOT / "gis").rglob("*.py"))
                 for match in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []
