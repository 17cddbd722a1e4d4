"""awslang is pure Python: every module in it imports without Django.

The imports run in a fresh interpreter with no DJANGO_SETTINGS_MODULE, because the test process
itself has Django loaded already. Modules are found by walking the package, so a new module is
checked without being listed here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import awslang
names = ["awslang"] + [info.name for info in pkgutil.walk_packages(awslang.__path__, "awslang.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "django": sorted(m for m in sys.modules if m.split(".")[0] == "django")}))
"""


def test_every_awslang_module_imports_without_django() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"awslang.patterns", "awslang.patterns.index", "awslang.transform", "awslang.expressions"} <= set(
        result["modules"])
    assert result["django"] == []
