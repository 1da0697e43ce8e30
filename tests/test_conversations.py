"""Every conversation file under tests/conversations runs through the CLI's own runner."""
from pathlib import Path

import pytest

from support.conversation import load_spec, run_conversation
from assistant.app.services import make_session

FILES = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))


def _needs_a_model(path: Path) -> bool:
    """Files that load the embedded LLM or render audio belong to the slow loop."""
    settings = load_spec(path).settings
    return settings.get("llm") not in (None, False, "off") or settings.get("music") not in (None, False, "off")


@pytest.mark.parametrize("path", [pytest.param(f, marks=pytest.mark.slow) if _needs_a_model(f) else f for f in FILES],
                         ids=[f.stem for f in FILES])
def test_conversation(path: Path) -> None:
    spec = load_spec(path)
    assert any(turn.expect for turn in spec.turns), "a conversation file with no expectation tests nothing"
    records = run_conversation(spec, make_session)  # raises ExpectationFailed at the first turn that misses
    assert all(record.reply.strip() for record in records)  # every turn is answered in words


def test_there_are_enough_conversations() -> None:
    assert len(FILES) >= 30


def test_a_failed_expectation_names_the_turn(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsettings: {llm: off, music: off}\nturns:\n"
                   "  - user: make a cool song\n    expect: {action: generate}\n")
    from support.conversation import ExpectationFailed
    with pytest.raises(ExpectationFailed, match=r"turn 1 \('make a cool song'\): action is 'ask'"):
        run_conversation(load_spec(bad), make_session)
