"""The web view translates records faithfully and escapes what users typed."""
import re

import pytest

from assistant.takes import Take
from assistant.takes import Analysis
from assistant.app.session import Turn
from webui.view import chat_messages, take_label

pytestmark = pytest.mark.slow  # imports Gradio (3.5 s)


def record(user: str, reply: str = "ok") -> Turn:
    return Turn(user=user, reply=reply, action="answer", asks_about=[], options=["a", "b"], brief={},
                      prompt=None, changed=[], filled=[])


def test_user_html_is_escaped_in_the_chat() -> None:
    [user, assistant] = chat_messages(record("<script>alert(1)</script>", reply="From '<b>x</b>' I took"))
    assert "<script" not in user.content and "&lt;script>" in user.content  # shown as text, no tag opens
    assert "<b>" not in assistant.content
    assert [o["value"] for o in assistant.options] == ["a", "b"]


def take(number: int, seed: int, path: str, bpm: float | None = None, sketch: bool = False) -> Take:
    return Take(number=number, seed=seed, path=path, duration_s=10.0, sketch=sketch,
                analysis=Analysis(bpm=bpm) if bpm else None)


def test_take_label() -> None:
    assert take_label(take(2, 184467, "a.wav", bpm=125.0), 2) == "take 2 · seed 184467 · 125 BPM"
    assert take_label(take(1, 184467, "a.wav", sketch=True), 1).endswith("· sketch")


def test_each_take_is_its_own_message_after_a_short_reply_and_folded_details() -> None:
    from webui.view import chat_history

    takes = [take(1, 1, "a.wav", bpm=124.0), take(2, 2, "b.wav")]
    rec = record("house at 124 bpm").model_copy(update={
        "takes": takes, "summary": "2 takes of 10 s.", "details": ["Prompt sent to MusicGen: house", "Seeds: 1, 2."],
        "options": ["Darker", "Faster"], "round": 1})
    user, summary, details, take1, take2 = chat_messages(rec)
    assert summary.content == "2 takes of 10 s." and not summary.options
    assert details.metadata["title"].startswith("Details") and "Seeds: 1, 2." in details.content
    assert take1.content.constructor_args["label"] == "take 1 · seed 1 · 124 BPM" and not take1.options
    assert [o["value"] for o in take2.options] == ["Darker", "Faster"]  # quick actions under the last take
    history, takes_at = chat_history([record("hi"), rec], None)
    assert takes_at == {5: (1, 1), 6: (1, 2)}
    assert history[5].content.constructor_args["label"].startswith("take 1")


def test_the_kept_take_is_marked() -> None:
    from webui.view import chat_messages

    rec = record("x").model_copy(update={"takes": [take(1, 1, "a.wav"), take(2, 2, "b.wav")], "round": 3})
    labels = [m.content.constructor_args["label"] for m in chat_messages(rec, kept={(3, 2)})[-2:]]
    assert labels == ["take 1 · seed 1", "take 2 · seed 2 · kept ★"]


def test_progress_reads_take_and_percent() -> None:
    from webui.view import progress_text

    assert progress_text(0.4, "take 1 of 2") == "take 1 of 2 · 40%"


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
    def handler(conv, llm, music, takes, duration):  # the drain handler's arguments
        return "ok"

    from assistant.music.musicgen import estimate_gpu_seconds

    assert handler(None, "off", "sketch", 2, 10) == "ok" and calls == [int(estimate_gpu_seconds(2, 10))]
    assert calls == [25]  # 20 s load + 3 s warm-up + 2 x (0.106 s per audio second x 10 s x 1.04)


def test_links_only_to_http_and_no_images_and_quotes_escaped_once() -> None:
    from webui.view import safe_text

    text = safe_text("[click](javascript:alert(1)) ![x](http://evil/x.png) [ok](https://example.org) it's <b>")
    assert "](javascript" not in text and "![" not in text and "[ok](https://example.org)" in text
    assert "it's" in text and "&#x27;" not in text and "<b>" not in text


@pytest.mark.parametrize("attack", ["[![x](http://img.example/a.png)](http://link.example)",  # an image in a link
                                    "![x][r]\n\n[r]: http://img.example/a.png",  # a reference-style image
                                    "[x][r]\n\n[r]: ftp://evil.example/f",  # a reference-style ftp link
                                    "[x]\n\n[x]: data:text/html,hi", "[a\\](ftp://e)"])
def test_no_markdown_form_loads_an_image_or_links_off_http(attack: str) -> None:
    from markdown_it import MarkdownIt

    from webui.view import safe_text

    html = MarkdownIt("commonmark").render(safe_text(attack))
    assert "<img" not in html
    assert all(href.startswith(("http://", "https://")) for href in re.findall(r'href="([^"]*)"', html))
    assert "<a " not in html or attack.startswith("[![")  # only the http link of the first stays a link


def test_the_history_sent_back_is_bounded_and_cleaned_takes_show_as_expired(tmp_path) -> None:
    import gradio as gr

    from webui.view import MAX_HISTORY_MESSAGES, take_player, visible_history

    kept = tmp_path / "kept.wav"
    kept.write_bytes(b"RIFF")
    history = [gr.ChatMessage(role="user", content=f"message {i}") for i in range(200)]
    history += [gr.ChatMessage(role="assistant", content=take_player(str(kept), "take 1 · seed 1")),
                gr.ChatMessage(role="assistant", content=take_player(str(tmp_path / "gone.wav"), "take 2 · seed 2"))]
    shown, dropped = visible_history(history)
    assert len(shown) == MAX_HISTORY_MESSAGES and dropped == 202 - MAX_HISTORY_MESSAGES
    assert shown[-2].content.component == "audio"
    assert shown[-1].content.startswith("take 2 · seed 2: expired")


def test_a_turns_streamed_updates_apply_cleanly_past_the_history_bound(tmp_path) -> None:
    """gradio_client mis-applies diffs that delete list items in several places; a window held
    still within a turn only grows, so every update of a long conversation applies exactly."""
    import gradio as gr
    from gradio.utils import diff
    from gradio_client.utils import apply_diff

    from webui.view import MAX_HISTORY_MESSAGES, chat_history, pending_messages, visible_history

    wav = tmp_path / "t.wav"
    wav.write_bytes(b"RIFF")
    played = take(1, 1, str(wav))
    turn = record("darker").model_copy(update={"takes": [played, played], "details": ["Seeds: 1."],
                                               "options": ["Darker", "Faster", "Longer"], "round": 1})
    turns = [turn] * (MAX_HISTORY_MESSAGES // 5 + 3)
    chatbot = gr.Chatbot(render=False)

    def sent(messages):
        return chatbot.postprocess(messages).model_dump()

    before, _ = chat_history(turns, None)
    pending = pending_messages("faster", "Working on it…")
    first, dropped = visible_history(before + pending)
    after, _ = chat_history([*turns, turn], None)
    final, _ = visible_history(after, start=dropped)
    assert len(final) <= MAX_HISTORY_MESSAGES + 5
    old, new = sent(first), sent(final)
    assert apply_diff(old, diff(old, new)) == new


def test_the_prompt_box_shows_what_each_window_sends_and_the_negative_prompt() -> None:
    from assistant.app.session import Session
    from assistant.dialogue.state import Settings
    from webui.view import last_prompt

    session = Session(Settings())
    session.send("techno at 130 bpm, intro then drop, no vocals, 40 seconds, go")
    rnd = session.state.rounds[-1]
    shown = last_prompt(session).split("\n")
    assert len(rnd.windows) >= 2 and shown[:len(rnd.windows)] == [
        f"part {i} ({w.section}), {w.seconds:g} s: {w.prompt}" for i, w in enumerate(rnd.windows, start=1)]
    assert shown[-1] == "steered away from: vocals"
    session.send("new song")
    session.send("house at 124 bpm with piano, 10 seconds, go")
    assert last_prompt(session) == session.state.rounds[-1].prompt  # one window: the prompt itself
