"""The engine imports no heavy or IO library (STYLE.md, layering)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "pm4py",
    "pandas",
    "click",
    "pyspark",
    "sqlite3",
    "psycopg",
    "numpy",
    "lxml",
)


def test_importing_engine_pulls_in_no_heavy_dependency():
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import engine, engine.memory_store, engine.recording",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in out.stderr.splitlines()
        if "|" in line
    }
    assert not imported & set(FORBIDDEN), imported & set(FORBIDDEN)
