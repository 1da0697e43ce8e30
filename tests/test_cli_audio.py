"""`/audio PATH [message]` in the terminal chat sends a clip with the message, as an upload does in
the web chat; a conversation file's `audio:` is read from the file's own folder."""
from pathlib import Path

from assistant.actions import Say
from assistant.cli import chat_action
from assistant.conversation import load_spec


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
