import os
import tempfile

# Generated WAVs from tests go to a temporary folder, never into the working tree.
os.environ.setdefault("MUSICBRIEF_OUTPUT_DIR", tempfile.mkdtemp(prefix="musicbrief-test-"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts the app, a browser, a model or a subprocess "
                                       "(the quick loop is `pytest -m 'not slow'`)")


SLOW_MODULE = "pytestmark = pytest.mark.slow"


def pytest_ignore_collect(collection_path, config):
    """In the quick loop (-m "not slow"), a module marked slow as a whole is not even imported:
    importing torch, transformers and Gradio alone would take longer than the loop's 10 s."""
    if config.getoption("markexpr", "") != "not slow" or collection_path.suffix != ".py":
        return None
    try:
        return SLOW_MODULE in collection_path.read_text(encoding="utf-8") or None
    except OSError:
        return None
