"""The web view translates records faithfully and escapes what users typed."""
from assistant.session import TurnRecord
from webui.view import chat_messages, take_label


def record(user: str, reply: str = "ok") -> TurnRecord:
    return TurnRecord(user=user, reply=reply, action="answer", asks_about=[], options=["a", "b"], brief={},
                      prompt=None, changed=[], filled=[])


def test_user_html_is_escaped_in_the_chat() -> None:
    [user, assistant] = chat_messages(record("<script>alert(1)</script>", reply="From '<b>x</b>' I took"))
    assert "<script" not in user.content and "&lt;script>" in user.content  # shown as text, no tag opens
    assert "<b>" not in assistant.content
    assert [o["value"] for o in assistant.options] == ["a", "b"]


def test_take_label() -> None:
    take = {"seed": 184467, "analysis": {"bpm": 125.0}, "sketch": False}
    assert take_label(take, 2) == "take 2 · seed 184467 · 125 BPM"
    assert take_label({**take, "sketch": True}, 1).endswith("· sketch")


def test_take_numbers_point_at_the_players() -> None:
    from webui.view import take_numbers

    rec = record("house at 124 bpm").model_copy(update={"takes": [{"seed": 1, "path": "a.wav"}, {"seed": 2, "path": "b.wav"}]})
    assert take_numbers(4, rec) == {6: 1, 7: 2}
    assert len(chat_messages(rec)) == 4


def test_zerogpu_estimate_accepts_the_handlers_arguments(monkeypatch) -> None:
    import sys
    import types

    calls = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration: (lambda fn: (lambda *a, **k: (calls.append(duration(*a, **k)), fn(*a, **k))[1]))
    monkeypatch.setitem(sys.modules, "spaces", fake)
    from webui.app import gpu_seconds
    from webui.zerogpu import on_gpu

    @on_gpu(gpu_seconds)
    def handler(message, conv, llm, music, takes, duration):  # the chat handler's arguments
        return "ok"

    from assistant.musicgen import estimate_gpu_seconds

    assert handler("hi", None, "off", "sketch", 2, 10) == "ok" and calls == [int(estimate_gpu_seconds(2, 10))]
    assert calls == [25]  # 20 s load + 3 s warm-up + 2 x (0.106 s per audio second x 10 s x 1.04)


def test_links_only_to_http_and_no_images_and_quotes_escaped_once() -> None:
    from webui.view import safe_text

    text = safe_text("[click](javascript:alert(1)) ![x](http://evil/x.png) [ok](https://example.org) it's <b>")
    assert "](javascript" not in text and "![" not in text and "[ok](https://example.org)" in text
    assert "it's" in text and "&#x27;" not in text and "<b>" not in text


def test_the_history_sent_back_is_bounded_and_cleaned_takes_show_as_expired(tmp_path) -> None:
    import gradio as gr

    from webui.view import MAX_HISTORY_MESSAGES, visible_history

    kept = tmp_path / "kept.wav"
    kept.write_bytes(b"RIFF")
    history = [gr.ChatMessage(role="user", content=f"message {i}") for i in range(200)]
    history += [gr.ChatMessage(role="assistant", content=gr.Audio(value=str(kept), label="take 1 · seed 1")),
                gr.ChatMessage(role="assistant", content=gr.Audio(value=str(tmp_path / "gone.wav"), label="take 2 · seed 2"))]
    shown = visible_history(history)
    assert len(shown) == MAX_HISTORY_MESSAGES
    assert isinstance(shown[-2].content, gr.Audio)
    assert shown[-1].content.startswith("take 2 · seed 2: expired")
