"""Music: the sketch synthesiser, a tiny random MusicGen loaded like a real one, seeds, long pieces."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.music.audio import analyse, take_filename, write_wav
from assistant.brief import MusicBrief
from support.conversation import ConversationSpec, run_conversation
from assistant.music.renderer import crossfade
from assistant.prompt.render import section_plan
from assistant.music.musicgen import FrameDecoder, MusicGenModel
from support.random_model import build_random_musicgen
from assistant.app.refine import refine
from assistant.app.services import make_session
from assistant.music.sketch import SAMPLE_RATE, render_sketch
from assistant.music.generation import GenerationParams

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_random_musicgen(tmp_path_factory.mktemp("models") / "tiny-musicgen")


@pytest.mark.parametrize("request_text", [
    "house at 124 bpm", "drum and bass at 174 bpm", "lofi hip hop at 80 bpm", "techno at 132 bpm, dark and wide",
    "trap at 140 bpm", "bossa nova at 130 bpm",
])
def test_sketch_tempo_is_within_two_percent(request_text: str) -> None:
    brief, _, _ = refine(request_text)
    brief = brief.model_copy(update={"duration_s": 12.0})
    audio = render_sketch(brief, seed=3)
    assert audio.shape == (12 * SAMPLE_RATE, 2)
    measured = analyse(audio, SAMPLE_RATE, brief.tempo.bpm).bpm
    assert abs(measured - brief.tempo.bpm) / brief.tempo.bpm <= 0.02, (measured, brief.tempo.bpm)


def test_sketch_is_reproducible_from_its_seed() -> None:
    brief, _, _ = refine("synthwave at 100 bpm")
    assert np.array_equal(render_sketch(brief, 7), render_sketch(brief, 7))
    assert not np.array_equal(render_sketch(brief, 7), render_sketch(brief, 8))


def test_musicgen_seed_reproduces_a_take_whatever_the_batch(tiny_model: Path) -> None:
    model = MusicGenModel(str(tiny_model))
    batch = model.generate(["house music", "techno"], [11, 22], 0.5)
    alone = model.generate(["techno"], [22], 0.5)
    other = model.generate(["techno"], [23], 0.5)
    assert np.allclose(batch[1], alone[0], atol=1e-5)
    assert not np.allclose(alone[0], other[0], atol=1e-4)
    assert len(alone[0]) >= int(0.5 * model.sample_rate)


def test_conversation_with_a_musicgen_folder_given_by_path(tiny_model: Path) -> None:
    spec = ConversationSpec.model_validate({
        "name": "tiny musicgen", "settings": {"llm": "off", "music": f"musicgen:{tiny_model}", "duration_s": 1.0},
        "turns": [{"user": "house at 124 bpm with piano", "expect": {"action": "generate", "takes": 2}},
                  {"user": "make it darker", "expect": {"action": "generate", "takes": 2, "same_seeds_as_previous": True}}]})
    records = run_conversation(spec, make_session)
    for take in records[-1].takes:
        data, rate = sf.read(take.path)
        assert rate == 32000 and data.shape[1] == 2 and take.sketch is False
        assert set(take.analysis.model_dump()) == {"bpm", "loudness_lufs", "silence_tail_s", "clipped"}


def test_long_pieces_are_planned_by_section() -> None:
    brief = MusicBrief.model_validate({"structure": {"sections": ["intro", "build", "drop", "outro"]}, "duration_s": 80})
    plan = section_plan(brief)
    assert [name for name, _ in plan] == ["intro", "build", "drop", "outro"]
    assert all(seconds <= 30 for _, seconds in plan) and sum(s for _, s in plan) == pytest.approx(80)
    assert section_plan(MusicBrief(duration_s=10)) == [(None, 10)]


def test_section_by_section_generation_continues_and_crossfades(tiny_model: Path) -> None:
    session = make_session({"llm": "off", "music": f"musicgen:{tiny_model}", "duration_s": 13.0, "takes": 1})
    record = session.send("techno at 130 bpm, intro then drop")
    assert session.state.rounds[-1].brief.structure.sections == ["intro", "drop"]
    [take] = record.takes
    assert take.duration_s == pytest.approx(13.0, abs=0.6)


def test_unloadable_model_falls_back_to_the_sketch_with_a_clear_message(tmp_path: Path) -> None:
    session = make_session({"llm": "off", "music": f"musicgen:{tmp_path / 'missing'}", "duration_s": 2.0})
    record = session.send("house at 124 bpm with piano")
    assert "MusicGen is unavailable" in record.reply and "sketch" in record.reply
    assert record.takes and all(t.sketch for t in record.takes)
    again = session.send("make it darker")  # still usable, told once
    assert again.takes and "MusicGen is unavailable:" not in again.reply


def test_crossfade_keeps_length_and_joins_smoothly() -> None:
    a, b = np.ones(100, dtype=np.float32), np.zeros(100, dtype=np.float32)
    joined = crossfade(a, b, 20)
    assert len(joined) == 180 and joined[79] > joined[90] > joined[99]


def test_analysis_flags_clipping_and_silence() -> None:
    tone = np.sin(np.linspace(0, 2000, 3 * SAMPLE_RATE)).astype(np.float32)
    clipped = np.concatenate([np.clip(tone * 2, -1, 1), np.zeros(2 * SAMPLE_RATE, dtype=np.float32)])
    result = analyse(clipped, SAMPLE_RATE)
    assert result.clipped and result.silence_tail_s == pytest.approx(2.0, abs=0.05)


def test_file_names_never_come_from_user_text(tmp_path: Path) -> None:
    assert take_filename(3, 2, 42, sketch=False) == "round03-take2-seed42.wav"
    with pytest.raises(ValueError):
        write_wav(tmp_path, "../../etc/passwd.wav", np.zeros(10), 32000)


def test_int8_fast_path_keeps_seeds_exact_and_stays_close_to_float32(tiny_model: Path) -> None:
    import torch

    fast, plain = MusicGenModel(str(tiny_model), int8=True), MusicGenModel(str(tiny_model), int8=False)
    batch = fast.generate(["house music", "techno", "jazz"], [5, 6, 7], 0.5)
    alone = fast.generate(["techno"], [6], 0.5)
    assert np.allclose(batch[1], alone[0], atol=1e-5)  # a seed reproduces its take in any batch
    fast.load(), plain.load()
    inputs = plain._processor(text=["warm house"], return_tensors="pt")
    ids = torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        p = torch.log_softmax(plain._model(**inputs, decoder_input_ids=ids).logits, -1)
        q = torch.log_softmax(fast._model(**inputs, decoder_input_ids=ids).logits, -1)
    kl = (p.exp() * (p - q)).sum(-1).mean().item()
    assert kl < 1e-2


def _capture_frame_decoders(monkeypatch) -> list[FrameDecoder]:
    """Every FrameDecoder that finishes from now on, to read back the codes it was fed."""
    decoders: list[FrameDecoder] = []
    finish = FrameDecoder.finish
    monkeypatch.setattr(FrameDecoder, "finish", lambda self: decoders.append(self) or finish(self))
    return decoders


def test_fast_path_gives_plain_generates_tokens_under_greedy_decoding(tiny_model: Path, monkeypatch) -> None:
    """Our decode loop, fused projections, our sampler and chunked decoding change speed, not tokens."""
    import torch

    decoders = _capture_frame_decoders(monkeypatch)
    model = MusicGenModel(str(tiny_model), int8=False)
    prompts = ["techno at 130 bpm", "warm lofi hip hop"]
    model.generate(prompts, [1, 2], GenerationParams(duration_s=0.5, top_k=1))
    ours = decoders[0].codes(0, decoders[0].emitted)
    steps = ours.shape[-1] + model._model.decoder.num_codebooks - 1
    with torch.inference_mode():
        plain = model._model.generate(**model._processor(text=prompts, padding=True, return_tensors="pt"),
                                      do_sample=False, guidance_scale=3.0, max_new_tokens=steps)
    assert np.allclose(model.decode_frames(ours), plain[:, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize("negative", [None, "vocals, drums"])
def test_own_decode_loop_samples_what_generate_samples(tiny_model: Path, negative) -> None:
    """Seeded sampling, guidance and negative prompts: our loop and transformers' generate() agree."""
    ours = MusicGenModel(str(tiny_model), int8=False)
    theirs = MusicGenModel(str(tiny_model), int8=False, own_loop=False)
    prompts = ["techno at 130 bpm", "warm lofi hip hop with rhodes"]
    a = ours.generate(prompts, [3, 4], GenerationParams(duration_s=0.5, negative_prompt=negative))
    b = theirs.generate(prompts, [3, 4], GenerationParams(duration_s=0.5, negative_prompt=negative))
    assert all(np.allclose(x, y, atol=1e-5) for x, y in zip(a, b))


@pytest.mark.parametrize("negative", [None, "vocals"])
def test_own_decode_loop_continues_an_audio_prompt_as_generate_does(tiny_model: Path, negative) -> None:
    ours = MusicGenModel(str(tiny_model), int8=False)
    theirs = MusicGenModel(str(tiny_model), int8=False, own_loop=False)
    opening = ours.generate(["techno", "house"], [5, 6], 0.5)
    a = ours.generate(["techno drop", "house chorus"], [7, 8], GenerationParams(duration_s=0.5, negative_prompt=negative),
                        audio_prompt=opening)
    b = theirs.generate(["techno drop", "house chorus"], [7, 8], GenerationParams(duration_s=0.5, negative_prompt=negative),
                        audio_prompt=opening)
    assert [len(x) for x in a] == [len(x) for x in b]
    assert len(a[0]) > len(opening[0])  # the continuation starts with its prompt
    assert all(np.allclose(x, y, atol=1e-4) for x, y in zip(a, b))


def test_streamed_chunks_are_the_take_and_match_a_one_shot_decode(tiny_model: Path, monkeypatch) -> None:
    decoders = _capture_frame_decoders(monkeypatch)
    model = MusicGenModel(str(tiny_model))
    chunks = []
    takes = model.generate(["techno", "house"], [1, 2], GenerationParams(duration_s=3.0, chunk_s=1.0), on_chunk=chunks.append)
    assert [round(len(c[0]) / model.sample_rate, 2) for c in chunks] == [1.0, 2.0]  # chunks double after the first
    frames = decoders[0].emitted
    assert frames == round(3.0 * model.frame_rate)
    one_shot = model.decode_frames(decoders[0].codes(0, frames))
    for take in range(2):
        streamed = np.concatenate([c[take] for c in chunks])
        assert np.array_equal(streamed, takes[take])  # what was heard is what is kept
        assert np.corrcoef(streamed, one_shot[take])[0, 1] > 0.9999
        assert np.abs(streamed - one_shot[take]).max() < 0.01 * np.abs(one_shot[take]).max()
    quiet = model.generate(["techno", "house"], [1, 2], 3.0)
    assert all(np.array_equal(a, b) for a, b in zip(quiet, takes))  # a seed sounds the same unstreamed


def test_exclusions_go_in_as_a_negative_prompt(tiny_model: Path) -> None:
    model = MusicGenModel(str(tiny_model))
    plain = model.generate(["house", "techno"], [1, 2], 0.5)
    steered = model.generate(["house", "techno"], [1, 2], GenerationParams(duration_s=0.5, negative_prompt="vocals, drums"))
    alone = model.generate(["techno"], [2], GenerationParams(duration_s=0.5, negative_prompt="vocals, drums"))
    assert len(steered) == 2 and len(steered[1]) == len(plain[1])
    assert not np.allclose(steered[1], plain[1], atol=1e-4)  # guidance now steers away from the exclusions
    assert np.allclose(steered[1], alone[0], atol=1e-5)  # and a seed still reproduces its take


def test_the_renderer_sends_the_briefs_exclusions(tiny_model: Path, tmp_path: Path) -> None:
    from assistant.takes import RenderRequest
    from assistant.music.renderer import MusicRenderer
    from assistant.prompt.render import generation_windows, negative_prompt

    renderer = MusicRenderer("musicgen", tmp_path, str(tiny_model))
    seen = []
    real = renderer.model.generate_with_codes
    renderer.model.generate_with_codes = lambda *a, **k: seen.append(a[2].negative_prompt) or real(*a, **k)
    brief, prompt, _ = refine("house at 124 bpm, no vocals, without drums")
    brief = brief.model_copy(update={"duration_s": 1.0})
    request = RenderRequest(brief=brief, seeds=[3], round_number=1, windows=generation_windows(brief),
                            negative_prompt=negative_prompt(brief))
    takes, _ = renderer.render_round(request)
    assert seen == ["drums, vocals"] or seen == ["vocals, drums"]
    assert len(takes) == 1 and not takes[0].sketch
