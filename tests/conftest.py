import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os
import tempfile

# Generated WAVs from tests go to a temporary folder, never into the working tree.
os.environ.setdefault("MUSICBRIEF_OUTPUT_DIR", tempfile.mkdtemp(prefix="musicbrief-test-"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts the app, a browser, a model or a subprocess "
                                       "(the quick loop is `pytest -m 'not slow'`)")
