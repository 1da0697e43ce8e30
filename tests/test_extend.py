"""'extend take 2 by 4 seconds': one take that starts with take 2's audio (to within the crossfade)
and is 4 s longer, with the same seed; the reply says what was continued, from where and for how long."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.music.renderer import MusicRenderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings

pytestmark = pytest.mark.slow  # renders audio


def test_extend_take_2_by_4_seconds(tmp_path: Path) -> None:
    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path), duration_s=6.0)
    first = session.send("house at 124 bpm, just go")
    extended = session.send("extend take 2 by 4 seconds")
    assert extended.action == "generate" and len(extended.takes) == 1
    assert "Take 2 continued from its end at 6 s for 4 s more (10 s in all)" in extended.summary
    take = extended.takes[0]
    assert take.seed == first.takes[1].seed and take.duration_s == pytest.approx(10.0, abs=0.05)
    store = session.music.unmixed
    old, new = store.get(first.takes[1].path).audio, store.get(take.path).audio
    head = int(5.5 * 32000)  # up to the crossfade at the old end (0.5 s)
    assert np.array_equal(old[:head], new[:head])  # it starts with take 2's own audio
    written_old, _ = sf.read(first.takes[1].path)
    written_new, _ = sf.read(take.path)
    corr = np.corrcoef(written_old[:head].mean(axis=1), written_new[:head].mean(axis=1))[0, 1]
    assert corr > 0.9, corr  # and is heard as it: the same mix chain, a loudness pass over the longer take
    assert session.state.brief.duration_s == 10.0


def test_continue_it_continues_the_kept_take_by_the_default(tmp_path: Path) -> None:
    from assistant import limits

    session = Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path), duration_s=4.0)
    session.send("techno at 130 bpm, just go")
    session.send("keep 2")
    record = session.send("continue it")
    assert "Take 2 continued" in record.summary
    assert record.takes[0].duration_s == pytest.approx(4.0 + limits.EXTEND_DEFAULT_S, abs=0.05)
