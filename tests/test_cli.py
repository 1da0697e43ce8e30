"""The command line: `/audio PATH [message]` in the chat sends a clip with the message, as an upload
does in the web chat; a conversation file's `audio:` is read from the file's own folder; a file that
is too big or uses aliases is refused in words; `refine` reads every line, whatever one of them does."""
from pathlib import Path

from assistant.actions import Say
from assistant.app.cli import chat_action
from support.conversation import load_spec


def test_audio_command_sends_a_clip_with_the_message() -> None:
    assert chat_action("/audio hum.wav continue this") == Say(text="continue this", clip="hum.wav")
    assert chat_action("/audio '/tmp/my hum.wav' follow it") == Say(text="follow it", clip="/tmp/my hum.wav")
    assert chat_action("/audio hum.wav") == Say(text="", clip="hum.wav")


def test_other_lines_are_plain_messages() -> None:
    assert chat_action("make it darker") == Say(text="make it darker")
    assert chat_action("/audio") == Say(text="/audio")  # no path: read as words
    assert chat_action("play /audio later") == Say(text="play /audio later")


def test_a_conversation_files_audio_is_found_beside_it(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    spec = tmp_path / "talk.yaml"
    spec.write_text("name: clip\nturns:\n  - user: continue this\n    audio: clips/hum.wav\n"
                    "    expect: {action: generate}\n  - user: darker\n    expect: {action: generate}\n")
    turns = load_spec(spec).turns
    assert turns[0].audio == str(tmp_path / "clips" / "hum.wav") and turns[1].audio is None


def test_refine_reads_every_line_even_after_one_that_fails(monkeypatch, capsys) -> None:
    import io
    import json

    from assistant.app import cli

    real = cli.refine

    def fragile(request, **kwargs):
        if "boom" in request:
            raise OverflowError("cannot convert float infinity to integer")
        return real(request, **kwargs)

    monkeypatch.setattr(cli, "refine", fragile)
    monkeypatch.setattr("sys.stdin", io.StringIO("house at 124 bpm\nboom\ntechno at 130 bpm\n"))
    assert cli.main(["refine", "--llm", "off"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [("error" in line) for line in lines] == [False, True, False]
    assert lines[2]["brief"]["tempo"]["bpm"] == 130


BOMB = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))


def test_a_conversation_file_with_aliases_is_refused_before_it_grows(tmp_path: Path) -> None:
    import resource

    import pytest

    from support.conversation import ConversationFileError

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("name: bomb\n" + BOMB + "turns:\n  - user: hi\n    expect: {reply_contains: *i}\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConversationFileError, match="alias"):
        load_spec(bomb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: it never expanded


def test_a_conversation_file_too_big_is_refused_and_the_cli_says_why(tmp_path: Path, capsys) -> None:
    from assistant.app import cli
    from assistant import limits

    big = tmp_path / "big.yaml"
    big.write_text("name: big\nturns:\n" + "  - user: hi\n" * (limits.CONVERSATION_FILE_MAX_BYTES // 12 + 1))
    assert cli.main(["run", str(big)]) == 2
    assert "the limit is" in capsys.readouterr().err
    aliased = tmp_path / "aliased.yaml"
    aliased.write_text("name: x\nturns:\n  - &t {user: hi, expect: {action: ask}}\n  - *t\n")
    assert cli.main(["run", str(aliased)]) == 2
    assert "YAML alias (line 4)" in capsys.readouterr().err
