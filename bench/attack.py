"""The reliability attack on loopback, rerun: the real app (sketch synthesiser), attacked through its API.

    python bench/attack.py [--conversations 24]

Prints one table row per attack: 24 concurrent 3-turn conversations (errors, p50/p95 latency, server
RSS and disk before and after against the configured limits), the most generations seen running at
once (from the app's log), a cancelled turn followed by a new one (no write after the cancel, no
cross-round files), a 20 MB message (response size), and hostile inputs (each answered, the
conversation intact).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradio_client import Client  # noqa: E402

from assistant import limits  # noqa: E402
from tests.webapp import running_app  # noqa: E402

GENRES = ["house", "techno", "trap", "jazz", "reggae", "funk", "disco", "ambient", "synthwave", "dubstep",
          "bossa nova", "metal", "punk", "soul", "trance", "k-pop", "drum and bass", "lofi hip hop",
          "cumbia", "salsa", "folk", "country", "blues", "gospel"]


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6 if folder.exists() else 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def log_text(outputs: Path) -> str:
    return (outputs / "app.log").read_text()


def raw_call(url: str, data: str) -> str:
    """The chat endpoint called with hand-written JSON (gradio_client can't send NaN): the event's text."""
    import json
    import urllib.request

    request = urllib.request.Request(f"{url}gradio_api/call/chat", data=f'{{"data": {data}}}'.encode(),
                                     headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(request, timeout=30).read())["event_id"]
    return urllib.request.urlopen(f"{url}gradio_api/call/chat/{event}", timeout=120).read().decode()


def converse(url: str, index: int) -> tuple[list[float], int]:
    client = Client(url, verbose=False)
    genre = GENRES[index % len(GENRES)]
    latencies, errors = [], 0
    for message in (f"{genre} at {90 + index} bpm with piano", "a bit faster", "make it darker"):
        start = time.perf_counter()
        try:
            out = client.predict(message, "off", "sketch", 2, 3, api_name="/chat")
            errors += not out[3]  # every turn generates: an empty prompt is an error
        except Exception:
            errors += 1
        latencies.append(time.perf_counter() - start)
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=24)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    outputs, cache = scratch / "outputs", scratch / "gradio-cache"
    outputs.mkdir()
    rows = []
    with running_app(outputs, GRADIO_TEMP_DIR=str(cache), MUSICBRIEF_LOG="INFO") as url:
        import subprocess
        pid = int(subprocess.run(["pgrep", "-n", "-f", "app.py"], capture_output=True, text=True).stdout.split()[0])
        rss0, disk0 = rss_mb(pid), folder_mb(outputs) + folder_mb(cache)
        start = time.perf_counter()
        with ThreadPoolExecutor(args.conversations) as pool:
            results = list(pool.map(lambda i: converse(url, i), range(args.conversations)))
        wall = time.perf_counter() - start
        latencies = sorted(l for lat, _ in results for l in lat)
        errors = sum(e for _, e in results)
        rss1, disk1 = rss_mb(pid), folder_mb(outputs) + folder_mb(cache)
        p95 = latencies[int(round(0.95 * (len(latencies) - 1)))]
        rows.append((f"{args.conversations} concurrent 3-turn conversations",
                     f"{len(latencies)} turns, {errors} errors, p50 {statistics.median(latencies):.1f} s, p95 {p95:.1f} s, "
                     f"wall {wall:.0f} s; RSS {rss0:.0f} -> {rss1:.0f} MB; outputs+cache {disk0:.1f} -> {disk1:.1f} MB "
                     f"(limit {limits.MAX_TOTAL_MB} MB; cache {folder_mb(cache):.2f} MB)",
                     errors == 0 and disk1 <= limits.MAX_TOTAL_MB))

        log = log_text(outputs)
        peak = max([int(n) for n in re.findall(r"generation started \((\d+) running\)", log)] or [0])
        rows.append(("most generations running at once", f"{peak} (limit {limits.MAX_CONCURRENT_GENERATIONS})",
                     peak == limits.MAX_CONCURRENT_GENERATIONS))

        client = Client(url, verbose=False)
        client.predict("house at 124 bpm", "off", "sketch", 2, 3, api_name="/chat")
        before = {p.name for p in outputs.rglob("*.wav")}
        started = log_text(outputs).count("generation started")
        job = client.submit("make it 170 seconds long", "off", "sketch", 2, 3, api_name="/chat")
        deadline = time.time() + 60
        while log_text(outputs).count("generation started") == started and time.time() < deadline:
            time.sleep(0.1)  # cancel only once the long round is really generating
        time.sleep(1.0)
        job.cancel()
        cancelled_at = time.time()
        out = client.predict("make it 3 seconds long and brighter", "off", "sketch", 2, 3, api_name="/chat")
        time.sleep(3)
        late = [p for p in outputs.rglob("*.wav") if p.name not in before and p.name.startswith("round02")]
        new = sorted(p.name for p in outputs.rglob("*.wav") if p.name not in before)
        rows.append(("cancel, then a new turn", f"files written after the cancel for the cancelled round: {len(late)}; "
                     f"new files: {new}", not late and len(new) == 2 and all(n.startswith("round03") for n in new)))

        response = client.predict("techno " * 3_000_000, "off", "sketch", 2, 3, api_name="/chat")
        size = len(repr(response).encode())
        rows.append(("20 MB message", f"response {size / 1e3:.1f} KB", size < 100_000))

        hostile = [("1e309 bpm", "isn't one"), ("house, 1e9 seconds", "isn't one"), ("tech\u200dno at 128 bpm", "techno"),
                   ("[click](javascript:alert(1)) ![x](http://evil/x.png)", "")]
        answered = []
        for message, expect in hostile:
            chat = Client(url, verbose=False).predict(message, "off", "sketch", 2, 3, api_name="/chat")[1]
            text = " ".join(str(m.get("content", "")) for m in chat if isinstance(m, dict))
            answered.append(expect.lower() in text.lower() and "](javascript:" not in text and "![" not in text
                            and "mood noted: evil" not in text.lower())
        answered.append("generate" in raw_call(url, '["house at 124 bpm, surprise me", "off", "sketch", NaN, NaN]')
                        or "Generating" in raw_call(url, '["house at 124 bpm, surprise me", "off", "sketch", NaN, NaN]'))
        rows.append(("hostile inputs (1e309, 1e9 s, zero-width joiner, javascript: link, NaN settings)",
                     f"{sum(answered)} of {len(answered)} answered clearly", all(answered)))
    print(f"{'attack':<52} {'held':<5} measured")
    for name, measured, held in rows:
        print(f"{name:<52} {'yes' if held else 'NO':<5} {measured}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
