"""The reliability attack on loopback, rerun: the real app (sketch synthesiser), attacked through its API.

    python bench/attack.py [--conversations 24]

Prints one table row per attack: 24 concurrent 3-turn conversations (errors, p50/p95 latency, server
RSS and disk before and after against the configured limits), the most generations seen running at
once (from the app's log), a cancelled turn followed by a new one (no write after the cancel, no
cross-round files), hostile inputs (each answered, the conversation intact), and the second pass
(issue 25): 100 pinned re-mixes against the disk limits, another user's latency during 16 POSTs
around the queue, files after a cancel while queued, rounds on a full 3 MB disk, a 1,000-file
upload, 8 x 50 MB bodies (server memory), a YAML bomb (memory), monitoring, and backends an API
client may not switch on.
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

from gradio_client import Client
from markdown_it import MarkdownIt

from assistant import limits
from support.webapp import running_app

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


def wavs(folder: Path) -> list[Path]:
    return list(folder.rglob("*.wav"))


def pinned_remixes(url: str, outputs: Path) -> tuple[str, bool]:
    """One 180 s take, "keep 1", then 100 alternating darker / brighter re-mixes of it."""
    client = Client(url, verbose=False, download_files=False)  # a client that fetches each take once, as a browser does
    before = {p for p in outputs.iterdir() if p.is_dir()}
    client.predict("house at 124 bpm, just go", "off", "sketch", 1, 180, api_name="/chat")
    [folder] = [p for p in outputs.iterdir() if p.is_dir() and p not in before]
    [kept] = wavs(folder)
    client.predict("keep 1", "off", "sketch", 1, 180, api_name="/chat")
    for i in range(100):
        client.predict("make it darker" if i % 2 == 0 else "make it brighter", "off", "sketch", 1, 180, api_name="/chat")
    files, total = len(wavs(folder)), folder_mb(outputs)
    return (f"{files} files in the conversation (limit {limits.MAX_FILES_PER_CONVERSATION}), {total:.0f} MB in all "
            f"(limit {limits.MAX_TOTAL_MB}), kept take there: {kept.exists()}",
            files <= limits.MAX_FILES_PER_CONVERSATION and total <= limits.MAX_TOTAL_MB and kept.exists())


def post(url: str, body: bytes, content_type: str = "application/json") -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": content_type}), timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0  # the server closed the connection on a body it would not read


def one_turn_s(url: str) -> float:
    start = time.perf_counter()
    Client(url, verbose=False).predict("jazz at 100 bpm, just go", "off", "sketch", 1, 1, api_name="/chat")
    return time.perf_counter() - start


def bypass_posts(url: str, outputs: Path) -> tuple[str, bool]:
    """16 POSTs to the generating handler around the queue, while another user's 1 s turn runs."""
    import json
    import urllib.request

    config = json.load(urllib.request.urlopen(url + "config"))
    chat = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
    body = json.dumps({"data": ["house at 124 bpm, 3 minutes long, just go", None, "off", "sketch", 4, 180],
                       "fn_index": chat}).encode()
    alone = one_turn_s(url)
    before = len(wavs(outputs))
    with ThreadPoolExecutor(17) as pool:
        statuses = list(pool.map(lambda _: post(url + "gradio_api/run/predict", body), range(16)))
        during = pool.submit(one_turn_s, url).result()
    time.sleep(2)
    written = len(wavs(outputs)) - before - 1  # the other user's own take
    return (f"other user's turn {alone:.1f} s alone, {during:.1f} s during; POST statuses {sorted(set(statuses))}; "
            f"WAVs from the POSTs {written}", set(statuses) == {404} and written == 0 and during < 3 * alone + 2)


def cancel_while_queued(url: str, outputs: Path) -> tuple[str, bool]:
    """Two long rounds hold both generation slots; a third user's turn, queued behind them, is cancelled."""
    long_jobs = [Client(url, verbose=False).submit(f"{g} at 120 bpm, just go", "off", "sketch", 1, 180, api_name="/chat")
                 for g in ("techno", "trance")]
    time.sleep(2)
    before = len(wavs(outputs))
    victim = Client(url, verbose=False).submit("funk at 110 bpm, just go", "off", "sketch", 2, 3, api_name="/chat")
    time.sleep(1)
    victim.cancel()
    for job in long_jobs:
        job.result()
    time.sleep(2)
    extra = len(wavs(outputs)) - before - 2  # the two long rounds' own takes
    return f"files written for the cancelled turn: {extra}", extra == 0


def full_disk() -> tuple[str, bool]:
    """The outputs on a 3 MB tmpfs: 8 rounds of 2 takes of 3 s (768 kB a round) in one conversation."""
    import subprocess

    import soundfile as sf

    mount = Path(tempfile.mkdtemp())
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        return "skipped: no tmpfs here", True
    try:
        with running_app(mount) as url:
            client = Client(url, verbose=False)
            made = []
            for i in range(8):
                out = client.predict("house at 124 bpm, just go" if i == 0 else "more variations", "off", "sketch",
                                     2, 3, api_name="/chat")
                made.append(len(out[4] or []))
            broken = 0
            for path in wavs(mount):
                try:
                    sf.info(path)
                except Exception:
                    broken += 1
        succeeded = sum(1 for n in made if n == 2)
        return (f"{succeeded} of 8 rounds saved their takes; partial or broken WAVs left: {broken}",
                succeeded == 8 and broken == 0)
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def thousand_file_upload(url: str, cache: Path) -> tuple[str, bool]:
    boundary = "----attack"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\nRIFF\r\n").encode()
    body = part * 1000 + f"--{boundary}--\r\n".encode()
    before = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
    status = post(url + "gradio_api/upload", body, f"multipart/form-data; boundary={boundary}")
    after = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
    return f"status {status}; files left in the upload cache: {after - before}", status == 413 and after == before


def big_bodies(url: str, pid: int) -> tuple[str, bool]:
    """8 concurrent 50 MB messages, sent for real (no Content-Length: the server must count)."""
    import socket
    from urllib.parse import urlparse

    where = urlparse(url)
    before = rss_mb(pid)

    def send() -> None:
        chunk = b"x" * 65536
        try:
            with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
                sock.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                for _ in range(800):
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:
            pass

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: send(), range(8)))
    time.sleep(1)
    after = rss_mb(pid)
    return (f"server RSS {before:.0f} -> {after:.0f} MB, {time.perf_counter() - start:.1f} s",
            after - before < 100)


BOMB = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))


def yaml_bomb() -> tuple[str, bool]:
    """A 600-byte conversation file of nested aliases, run by the CLI: its peak memory and exit."""
    import resource
    import subprocess

    path = Path(tempfile.mkdtemp()) / "bomb.yaml"
    path.write_text("name: bomb\n" + BOMB + "turns:\n  - user: hi\n    expect: {reply_contains: *i}\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assistant.app.cli", "run", str(path), "--llm", "off"],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return (f"{path.stat().st_size} bytes: exit {done.returncode}, peak {peak:.0f} MB, {time.perf_counter() - start:.1f} s; "
            f"{done.stderr.strip()[-90:]}", done.returncode == 2 and peak < 300)


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
    rows = [("YAML bomb through the CLI", *yaml_bomb())]  # first: the peak is of this child alone
    rows.append(("rounds on a full 3 MB disk", *full_disk()))
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

        try:
            client.predict("techno " * 3_000_000, "off", "sketch", 2, 3, api_name="/chat")
            refused = False
        except Exception as err:  # the body is refused before it is read
            refused = "413" in str(err) or "too big" in str(err).lower() or "over" in str(err)
        rows.append(("20 MB message", f"refused before it was read: {refused}", refused))
        rows.append(("8 x 50 MB bodies", *big_bodies(url, pid)))

        hostile = [("1e309 bpm", "isn't one"), ("house, 1e9 seconds", "isn't one"), ("tech\u200dno at 128 bpm", "techno"),
                   ("[click](javascript:alert(1)) ![x](http://evil/x.png)", ""),
                   ("house at " + "9" * 400 + " bpm", "isn't one"),
                   ("[![x](http://evil/x.png)](http://evil) ![y][r]\n\n[r]: http://evil/y.png\n[z][f]\n\n[f]: ftp://evil/f", "")]
        answered = []
        for message, expect in hostile:
            chat = Client(url, verbose=False).predict(message, "off", "sketch", 2, 3, api_name="/chat")[1]
            text = " ".join(str(m.get("content", "")) for m in chat if isinstance(m, dict))
            html = MarkdownIt("commonmark").render(text)  # as the chat renders it
            links = re.findall(r'href="([^"]*)"', html)
            answered.append(expect.lower() in text.lower() and "<img" not in html
                            and all(link.startswith(("http://", "https://")) for link in links)
                            and "mood noted: evil" not in text.lower())
        answered.append("generate" in raw_call(url, '["house at 124 bpm, surprise me", "off", "sketch", NaN, NaN]')
                        or "Generating" in raw_call(url, '["house at 124 bpm, surprise me", "off", "sketch", NaN, NaN]'))
        rows.append(("hostile inputs (1e309, 1e9 s, zero-width joiner, javascript: link, 400-digit tempo, "
                     "markdown images and links, NaN settings)",
                     f"{sum(answered)} of {len(answered)} answered clearly", all(answered)))
        rows.append(("100 pinned re-mixes of a kept 180 s take", *pinned_remixes(url, outputs)))
        rows.append(("16 POSTs around the queue", *bypass_posts(url, outputs)))
        rows.append(("a cancel while queued", *cancel_while_queued(url, outputs)))
        rows.append(("1,000 files in one upload", *thousand_file_upload(url, cache)))
        from gradio_client.exceptions import AppError

        try:
            Client(url, verbose=False).predict("house", "embedded", "musicgen", 1, 2, api_name="/chat")
            switched = True
        except AppError:
            switched = False
        rows.append(("API client asks for the LLM and MusicGen the operator left off", f"switched on: {switched}",
                     not switched))
        rows.append(("/monitoring/summary", f"status {post(url + 'monitoring/summary', b'')}",
                     post(url + "monitoring/summary", b"") in (403, 404, 405)))
    print(f"{'attack':<62} {'held':<5} measured")
    for name, measured, held in rows:
        print(f"{name:<62} {'yes' if held else 'NO':<5} {measured}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
