"""The real app on loopback against a hostile client: generating routes only through the queue, a
cancel through the API that cancels, bodies and uploads bounded before they are read, backends
the operator left off, and monitoring kept private."""
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client

from assistant import limits
from support.webapp import running_app

pytestmark = pytest.mark.slow  # starts the app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with running_app(folder) as url:
        yield url, folder


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": content_type}), timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wavs(folder: Path) -> list[Path]:
    return list(folder.rglob("*.wav"))


def test_a_generating_route_cannot_be_called_around_the_queue(app) -> None:
    url, folder = app
    config = json.load(urllib.request.urlopen(url + "config"))
    chat = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
    body = json.dumps({"data": ["house at 124 bpm, go", None, "off", "sketch", 1, 3], "fn_index": chat}).encode()
    before = len(wavs(folder))
    for route in ("gradio_api/run/predict", "gradio_api/run/chat", "gradio_api/api/chat"):
        status, _ = post(url + route, body)
        assert status == 404, route  # 6 such POSTs gave 24 WAVs, queue full or not
    time.sleep(1.5)
    assert len(wavs(folder)) == before


def test_a_cancel_through_the_api_stops_the_round_and_writes_nothing(app) -> None:
    url, folder = app
    client = Client(url, verbose=False)
    before = len(wavs(folder))
    job = client.submit("techno at 130 bpm, 3 minutes long, just go", "off", "sketch", 2, 180, api_name="/chat")
    deadline = time.time() + 20
    while len(job.outputs()) < 2 and time.time() < deadline:  # the round is under way
        time.sleep(0.2)
    start = time.perf_counter()
    job.cancel()
    took = time.perf_counter() - start
    time.sleep(25)  # longer than the round would have run
    assert took < 5, took  # cancel calls took up to 52 s
    assert len(wavs(folder)) == before  # the round ran on and wrote 4 WAVs


def raw_request(url: str, head: str, body_chunks=()) -> bytes:
    """Headers, then body chunks as long as the server takes them; whatever it answers."""
    import socket
    from urllib.parse import urlparse

    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:  # the server closed the connection: it stopped reading
            pass
        answer = b""
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    return answer
                answer += part
        except OSError:
            return answer


def test_a_body_over_the_limit_is_refused_before_it_is_read(app) -> None:
    url, _ = app
    start = time.perf_counter()
    head = "POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    answer = raw_request(url, head + "Content-Length: 50000000\r\n\r\n")  # refused on its header alone
    assert answer.startswith(b"HTTP/1.1 413") and b"refused before it was read" in answer
    assert time.perf_counter() - start < 5
    chunk = b"x" * 65536
    streamed = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(800))  # 50 MB, no length given
    answer = raw_request(url, head + "Transfer-Encoding: chunked\r\n\r\n", streamed)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 413", b"HTTP/1.1 400"))  # cut off after MAX_REQUEST_BYTES


def multipart(files: int) -> tuple[bytes, str]:
    boundary = "----musicbrief-test"
    parts = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"f{i}.wav\"\r\n"
                     f"Content-Type: audio/wav\r\n\r\n".encode() + b"RIFF" + b"\0" * 100 + b"\r\n" for i in range(files))
    return parts + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_one_upload_carries_at_most_a_few_files(app) -> None:
    url, _ = app
    status, body = post(url + "gradio_api/upload", *multipart(limits.MAX_FILES_PER_UPLOAD + 1))
    assert status == 413 and b"at most" in body  # 1,000 files in one request were accepted
    status, body = post(url + "gradio_api/upload", *multipart(1))
    assert status == 200 and len(json.loads(body)) == 1


def test_an_api_client_cannot_switch_on_what_the_operator_left_off(app) -> None:
    from gradio_client.exceptions import AppError

    url, _ = app
    client = Client(url, verbose=False)
    for llm, music in (("embedded", "sketch"), ("off", "musicgen"), ("off", "musicgen:/etc")):
        with pytest.raises(AppError, match="not in the list of choices"):  # the LLM took the server to 808 MB
            client.predict("house at 124 bpm, just go", llm, music, 1, 2, api_name="/chat")


def test_monitoring_is_off_unless_the_operator_turns_it_on(app) -> None:
    url, _ = app
    for route in ("monitoring", "monitoring/summary"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + route)
        assert refused.value.code in (403, 404)


def test_gradios_state_holds_only_a_key_so_the_store_bounds_memory(tmp_path: Path, monkeypatch) -> None:
    import gc
    import weakref

    from assistant.app.config import AppConfig
    from webui.app import build_demo
    from webui.conversation import Conversation

    monkeypatch.setattr(limits, "MAX_CONVERSATIONS_KEPT", 5)
    demo = build_demo(AppConfig(llm="off", music="sketch", output_dir=tmp_path))
    take_in = next(f.fn for f in demo.fns.values() if f.name == "take_in")
    held, first = [], None
    for i in range(12):  # twelve browser sessions, each holding what Gradio keeps for it
        out = take_in({"text": f"house at {100 + i} bpm", "files": []}, None, "off", "sketch", 2, 3)
        assert isinstance(out[2], str) and not isinstance(out[2], Conversation)
        held.append(out[2])
        if first is None:
            first = weakref.ref(next(o for o in gc.get_referrers(out[2]) if isinstance(o, Conversation)))
    gc.collect()
    assert first() is None  # the oldest conversation left the store, and nothing else holds it
