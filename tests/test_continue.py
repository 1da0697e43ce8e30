"""Continuations in token space: a take is extended, a long piece goes on window by window, and a
clip is continued from MusicGen's own codes (the clip's EnCodec codes once), never from decoded audio
re-encoded. Every path (our loop, transformers' generate(), MusicGen-melody) hears the prompt's codes
exactly, and "continue this" with a clip gives takes that start with the clip."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant import limits
from assistant.actions import Say
from assistant.takes import RenderRequest
from assistant.music.renderer import MusicRenderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings, Window
from assistant.music.generation import GenerationParams

pytestmark = pytest.mark.slow  # builds and runs models, renders audio

RATE, HOP = 32000, 640  # the random models' EnCodec: 32 kHz, 50 frames a second


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from support.random_model import build_random_musicgen

    return build_random_musicgen(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def melody_model(tmp_path_factory) -> Path:
    from support.random_model import build_random_musicgen_melody

    return build_random_musicgen_melody(tmp_path_factory.mktemp("melody"))


def hum(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    hz = np.where(t < seconds / 2, 440.0, 329.63)
    sf.write(path, 0.4 * np.sin(2 * np.pi * np.cumsum(hz) / RATE), RATE)
    return path


def count_encodes(model) -> list:
    """Every EnCodec encode the model makes from here on."""
    model.load()
    calls: list = []
    real = model._model.audio_encoder.encode
    model._model.audio_encoder.encode = lambda *a, **k: calls.append(k.get("input_values", a[0] if a else None)) \
        or real(*a, **k)
    return calls


@pytest.mark.parametrize("path", ["loop", "generate", "melody"])
def test_a_continuation_starts_with_exactly_the_codes_it_was_given(tiny: Path, melody_model: Path, path: str) -> None:
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(melody_model if path == "melody" else tiny), own_loop=path == "loop", int8=False)
    first = model.generate_with_codes(["techno"], [5], 1.0)
    assert first.codes is not None and first.codes.shape[:2] == (1, 4) and first.codes.shape[-1] == 50
    prompt = first.codes[:, :, -30:]
    made = model.generate_with_codes(["techno"], [6], 0.6, prompt_codes=prompt)
    assert np.array_equal(made.codes[:, :, :30], prompt)  # the prompt's own tokens, the delayed codebooks too
    assert made.codes.shape[-1] == 30 + 30  # and then 0.6 s more: 30 frames
    assert len(made.audio[0]) == 60 * HOP


def test_greedy_continuation_is_the_same_in_our_loop_and_in_generate(tiny: Path) -> None:
    from assistant.music.musicgen import MusicGenModel

    ours, reference = (MusicGenModel(str(tiny), own_loop=own, int8=False) for own in (True, False))
    prompt = ours.generate_with_codes(["house"], [1], 0.5).codes
    a, b = (m.generate_with_codes(["house", "techno"], [2, 3], GenerationParams(duration_s=0.4, top_k=1),
                                  prompt_codes=np.repeat(prompt, 2, axis=0)) for m in (ours, reference))
    assert np.array_equal(a.codes, b.codes)


def request(seconds: float, windows: list[Window], seeds=(3,)) -> RenderRequest:
    from assistant.app.refine import refine

    brief, _, _ = refine("techno at 130 bpm")
    brief = brief.model_copy(update={"duration_s": seconds})
    return RenderRequest(brief=brief, seeds=list(seeds), round_number=1, windows=windows)


def spy_prompts(model) -> list:
    seen: list = []
    real = model.generate_with_codes
    model.generate_with_codes = lambda *a, **k: seen.append(k.get("prompt_codes")) or real(*a, **k)
    return seen


def test_a_long_piece_goes_on_from_the_last_windows_own_tokens(tiny: Path, tmp_path: Path) -> None:
    renderer = MusicRenderer("musicgen", tmp_path, str(tiny))
    encodes, prompts = count_encodes(renderer.model), spy_prompts(renderer.model)
    windows = [Window(section="intro", seconds=1.0, prompt="techno intro"),
               Window(section="drop", seconds=1.0, prompt="techno drop")]
    takes, _ = renderer.render_round(request(2.0, windows))
    assert encodes == []  # nothing decoded was encoded again
    assert prompts[0] is None and prompts[1] is not None and prompts[1].shape[-1] == 50  # the first window, whole
    assert takes[0].duration_s == pytest.approx(2.0, abs=0.05)


def test_extending_a_musicgen_take_starts_from_its_own_tokens(tiny: Path, tmp_path: Path) -> None:
    renderer = MusicRenderer("musicgen", tmp_path, str(tiny))
    windows = [Window(seconds=2.0, prompt="techno")]
    first, _ = renderer.render_round(request(2.0, windows, seeds=(3, 4)))
    own = renderer.unmixed.get(first[1].path)
    encodes, prompts = count_encodes(renderer.model), spy_prompts(renderer.model)
    takes, _ = renderer.extend_take(request(3.0, windows), first[1], 1.0)
    assert encodes == [] and np.array_equal(prompts[0][0], own.codes[:, -int(limits.CONTINUATION_CONTEXT_S * 50):])
    extended = renderer.unmixed.get(takes[0].path)
    head = int(1.5 * RATE)  # up to the crossfade at the old end
    assert np.array_equal(extended.audio[:head], own.audio[:head])
    assert takes[0].duration_s == pytest.approx(3.0, abs=0.05) and takes[0].seed == first[1].seed
    again, _ = renderer.extend_take(request(4.0, windows), takes[0], 1.0)  # and on again, from the new tokens
    assert again[0].duration_s == pytest.approx(4.0, abs=0.05)


def test_a_clip_is_continued_from_its_encodec_codes(tiny: Path, tmp_path: Path) -> None:
    from assistant.music.clips import read_clip

    renderer = MusicRenderer("musicgen", tmp_path / "takes", str(tiny))
    clip = read_clip(str(hum(tmp_path / "hum.wav"))).audio
    encodes = count_encodes(renderer.model)
    takes, notes = renderer.continue_clip(request(3.0, [Window(seconds=3.0, prompt="techno")], seeds=(1, 2)), clip, 1.0)
    assert len(encodes) == 1 and encodes[0].shape[-1] == len(clip)  # the clip, encoded once
    assert [t.seed for t in takes] == [1, 2] and all(t.duration_s == pytest.approx(3.0, abs=0.05) for t in takes)
    for take in takes:
        audio = renderer.unmixed.get(take.path).audio
        assert np.array_equal(audio[: int(1.5 * RATE)], clip[: int(1.5 * RATE)])  # each starts with the clip
    first, second = (renderer.unmixed.get(t.path).audio[2 * RATE:] for t in takes)
    assert not np.allclose(first, second)  # and goes on its own way, by its seed


def test_continue_this_with_a_clip_in_the_chat(tmp_path: Path) -> None:
    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path / "takes"), duration_s=3.0)
    record = session.do(Say(text="continue this by 4 seconds", clip=str(hum(tmp_path / "hum.wav"))))
    assert record.action == "generate" and len(record.takes) == 2
    assert "Your clip (2 s) continued from its end at 2 s for 4 s more (6 s in all), 2 takes" in record.summary
    assert "plays your clip, then goes on" in record.reply  # the sketch says what it can't do
    clip, _ = sf.read(tmp_path / "hum.wav")
    for take in record.takes:
        audio = session.music.unmixed.get(take.path).audio[:, 0]
        assert take.duration_s == pytest.approx(6.0, abs=0.05)
        assert np.allclose(audio[: int(1.5 * RATE)], clip[: int(1.5 * RATE)], atol=1e-4)
    faster = session.send("make it faster")  # an edit keeps the clip at the start
    assert faster.action == "generate" and session.state.rounds[-1].continues is not None
    audio = session.music.unmixed.get(faster.takes[0].path).audio[:, 0]
    assert np.allclose(audio[: int(1.5 * RATE)], clip[: int(1.5 * RATE)], atol=1e-4)
    dropped = session.send("drop the clip")
    assert dropped.action == "generate" and session.state.rounds[-1].continues is None
    again = session.send("continue my clip")  # the last clip sent, from any later turn
    assert session.state.rounds[-1].continues is not None and "Your clip (2 s) continued" in again.summary


def test_continue_my_clip_without_a_clip_says_how(tmp_path: Path) -> None:
    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path), duration_s=3.0)
    record = session.send("continue my clip")
    assert record.action == "answer" and "Send the clip with your message" in record.reply


def test_extending_a_take_that_follows_a_melody_goes_on_with_the_melody(tmp_path: Path) -> None:
    from assistant.music import renderer as renderer_module

    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path / "takes"), duration_s=3.0)
    session.do(Say(text="house at 120 bpm, go", clip=str(hum(tmp_path / "hum.wav", seconds=4.0))))
    seen = []
    real = renderer_module.render_buses
    renderer_module.render_buses = lambda *a, **k: seen.append(k.get("lead")) or real(*a, **k)
    try:
        session.send("extend take 1 by 2 seconds")
    finally:
        renderer_module.render_buses = real
    from assistant.music.sketch import lead_notes

    # at 120 BPM a 3 s take ends on beat 6 of the 4 s clip's 8 (half-second beats: A4 A4 A4 A4 E4 E4 E4 E4)
    assert lead_notes(seen[0], 0.5, 4) == [64, 64, 69, 69]


def test_lead_after_picks_the_melody_up_where_the_take_left_it() -> None:
    from assistant.music.sketch import PITCH_HOP_S, lead_after

    per_beat = int(round(0.5 / PITCH_HOP_S))
    lead = [60.0] * per_beat + [62.0] * per_beat + [64.0] * per_beat
    assert lead_after(lead, 1.0, 120.0)[:1] == [64.0]  # two beats done: the third note is next
    assert lead_after(lead, 1.5, 120.0) == lead  # a whole loop done: from the start again
    assert lead_after([], 3.0, 120.0) == []


def test_an_uploaded_clip_is_deleted_once_read_and_a_local_file_is_kept(tmp_path: Path) -> None:
    from webui.view import message_parts

    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path / "takes"), duration_s=2.0)
    upload = hum(tmp_path / "upload.wav")
    said = message_parts({"text": "house at 124 bpm, follow this", "files": [{"path": str(upload)}]})
    assert said.upload
    record = session.do(said)
    assert record.takes and session.state.brief.melody is not None  # heard, and held in memory only
    assert not upload.exists()  # nobody can fetch it from the upload cache any more
    local = hum(tmp_path / "mine.wav")
    session.do(Say(text="continue this", clip=str(local)))  # the CLI's /audio: the user's own file
    assert local.exists()
