"""``python -m tests.decisions [pytest args]``: run the clinical decision tests (one line per case).

Same as ``pytest tests/test_dmn_tables.py -v``; extra arguments go to pytest, e.g.
``python -m tests.decisions -k "DT7"`` runs only the three-month reassessment cases.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    args = sys.argv[1:]
    raise SystemExit(pytest.main([str(ROOT / "tests" / "test_dmn_tables.py"), "-v", "-p", "no:cacheprovider", *args]))
