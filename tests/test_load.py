"""16 simultaneous conversations on loopback: each gets its own answers and takes, none cross."""
import hashlib
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gradio_client import Client

from support.webapp import running_app
import pytest

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app

GENRES = ["house", "techno", "trap", "jazz", "reggae", "funk", "disco", "ambient",
          "synthwave", "dubstep", "bossa nova", "metal", "punk", "soul", "trance", "k-pop"]
CONVERSATIONS = len(GENRES)
TIME_LIMIT_S = 240


def converse(url: str, index: int) -> dict:
    genre, bpm = GENRES[index], 90 + 5 * index
    client = Client(url, verbose=False)
    latencies, errors = [], 0
    results = []
    for message in (f"{genre} at {bpm} bpm with piano", "a bit faster"):
        start = time.perf_counter()
        try:
            out = client.predict(message, "off", "sketch", 1, 2, api_name="/chat")
            results.append(out)
        except Exception:
            errors += 1
        latencies.append(time.perf_counter() - start)
    return {"genre": genre, "bpm": bpm, "results": results, "latencies": latencies, "errors": errors}


def test_sixteen_simultaneous_conversations(tmp_path: Path) -> None:
    with running_app(tmp_path) as url:
        start = time.perf_counter()
        with ThreadPoolExecutor(CONVERSATIONS) as pool:
            outcomes = list(pool.map(lambda i: converse(url, i), range(CONVERSATIONS)))
        wall = time.perf_counter() - start
        assert urllib.request.urlopen(url, timeout=5).status == 200  # the server stayed up

    latencies = sorted(l for o in outcomes for l in o["latencies"])
    errors = sum(o["errors"] for o in outcomes)
    served = sum(len(o["results"]) for o in outcomes)
    p95 = latencies[int(round(0.95 * (len(latencies) - 1)))]
    print(f"\nload: {CONVERSATIONS} conversations, {served} requests served, {errors} errors, "
          f"p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, wall {wall:.1f} s")
    assert errors == 0 and served == 2 * CONVERSATIONS and wall < TIME_LIMIT_S
    all_paths = []
    for o in outcomes:
        for out in o["results"]:
            prompt, files = out[3], out[4]
            assert f"genre: {o['genre']}" in prompt  # its own brief, not another conversation's
            assert len(files) == 1
            all_paths.append(hashlib.sha256(Path(files[0]).read_bytes()).hexdigest())
        first, second = (out[3] for out in o["results"])
        assert f"bpm: {o['bpm']}." in first and f"bpm: {round(o['bpm'] * 1.05)}." in second
    assert len(set(all_paths)) == len(all_paths)  # every take is its own audio: none was handed to two conversations
