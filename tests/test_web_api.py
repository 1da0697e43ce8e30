"""The app as API users meet it: gradio_client against `python app.py` on a free localhost port."""
import shutil
from pathlib import Path

import pytest

from assistant import limits
import soundfile as sf
from gradio_client import Client

from support.webapp import running_app

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> str:
    with running_app(tmp_path_factory.mktemp("app")) as url:
        yield url


def test_vague_message_gets_options_and_an_answer_gets_downloadable_takes(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    out = client.predict("make a cool song", "off", "sketch", 2, 3, api_name="/chat")
    history = out[1]
    question = history[-1]
    assert question["role"] == "assistant" and len(question["options"]) >= 3
    out = client.predict("house", "off", "sketch", 2, 3, api_name="/chat")
    out = client.predict("124 BPM", "off", "sketch", 2, 3, api_name="/chat")
    files = out[4]
    assert len(files) == 2
    for path in files:
        data, rate = sf.read(path)
        assert rate == 32000 and data.shape == (3 * 32000, 2)
    audio_messages = [m for m in out[1] if m["content"] and m["content"][0].get("component") == "audio"]
    labels = [m["content"][0]["constructor_args"]["label"] for m in audio_messages]
    assert [label.split(" · ")[0] for label in labels] == ["take 1", "take 2"] and " BPM" in labels[0]
    assert "124" in out[2] and "bpm: 124" in out[3]


def test_each_client_has_its_own_conversation(app_url: str) -> None:
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    a = first.predict("techno at 130 bpm with acid bass", "off", "sketch", 1, 3, api_name="/chat")
    b = second.predict("make a cool song", "off", "sketch", 1, 3, api_name="/chat")
    assert "genre: techno" in a[3] and b[3] == ""


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="Gradio streams audio through ffmpeg, which is not installed")
def test_musicgen_takes_stream_a_live_preview_then_arrive(tmp_path: Path) -> None:
    from support.random_model import build_random_musicgen

    model = build_random_musicgen(tmp_path / "tiny-musicgen")
    with running_app(tmp_path, MUSICBRIEF_MUSIC=f"musicgen:{model}", MUSICBRIEF_DURATION_S="3") as url:
        client = Client(url, verbose=False)
        job = client.submit("techno at 130 bpm with acid bass", "off", f"musicgen:{model}", 1, 3, api_name="/chat")
        final = job.result()
        updates = job.outputs()
    live = [u[-1] for u in updates[:-1] if u[-1]]
    assert live, "the live preview received no audio while generating"
    [path] = final[4]
    data, rate = sf.read(path)
    assert rate == 32000 and data.shape[0] >= int(2.9 * 32000)
    assert "sketch" not in final[1][-1]["content"][0]["constructor_args"]["label"]


def test_malformed_api_calls_get_a_4xx_with_a_message(tmp_path: Path) -> None:
    import json
    import urllib.error
    import urllib.request

    with running_app(tmp_path) as url:
        codes = []
        for path, body in [("gradio_api/queue/join", '{"fn_index": 999, "data": [], "session_hash": "abc"}'),
                           ("gradio_api/call/nonexistent", '{"data": []}'),
                           ("gradio_api/queue/join", "not json")]:
            request = urllib.request.Request(url + path, data=body.encode(), headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10)
                codes.append(200)
            except urllib.error.HTTPError as err:
                codes.append(err.code)
                assert json.loads(err.read())  # a message, not a bare error page
        assert all(400 <= code < 500 for code in codes), codes
        assert urllib.request.urlopen(url, timeout=5).status == 200  # the server is still up


def test_takes_never_fill_gradios_cache_and_uploads_over_the_cap_are_refused(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request
    import uuid

    cache = tmp_path / "gradio-cache"
    with running_app(tmp_path, GRADIO_TEMP_DIR=str(cache)) as url:
        client = Client(url, verbose=False, download_files=False)  # each update re-sends the chat's takes
        client.predict("house at 124 bpm", "off", "sketch", 1, 2, api_name="/chat")
        for _ in range(29):
            client.predict("more variations", "off", "sketch", 1, 2, api_name="/chat")
        cached = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
        outputs = sum(p.stat().st_size for p in tmp_path.rglob("*.wav") if cache not in p.parents)
        assert cached < 100_000, cached  # 30 rounds of takes served in place, not copied
        assert outputs < 48 * 300_000  # within the per-conversation file limit
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.wav\"\r\n"
                f"Content-Type: audio/wav\r\n\r\n").encode() + b"0" * (limits.CLIP_MAX_BYTES + 1000) \
            + f"\r\n--{boundary}--\r\n".encode()  # a clip over the cap
        request = urllib.request.Request(url + "gradio_api/upload", data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert 400 <= refused.value.code < 500
