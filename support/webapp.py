"""Start the real app (python app.py) on a free localhost port for API, browser and load tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(output_dir: Path, **env: str) -> Iterator[str]:
    port = free_port()
    environment = {**os.environ, "GRADIO_SERVER_PORT": str(port), "MUSICBRIEF_OUTPUT_DIR": str(output_dir),
                   "MUSICBRIEF_MUSIC": "sketch", "MUSICBRIEF_LLM": "off", "MUSICBRIEF_DURATION_S": "3",
                   "GRADIO_ANALYTICS_ENABLED": "False", **env}
    log = open(output_dir / "app.log", "w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the app did not start: {(output_dir / 'app.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
