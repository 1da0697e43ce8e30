"""The MusicBrief web app: chat with clickable options and a message per take, the brief beside it.

Handlers only pass what the user did to the Session (the single writer of conversation state) and
translate what comes back into components (webui.view)."""
from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
from typing import Any, Iterator, Optional

import gradio as gr
from starlette.middleware import Middleware

from assistant import limits
from assistant.config import AppConfig, load_config
from assistant.services import SharedServices, gpu_lease_seconds, musicgen_weights_present
from assistant.session import TurnRecord
from assistant.templates import reply
from webui import view
from webui.api_guard import MalformedRequestGuard
from webui.conversation import Conversation, ConversationStore
from webui.zerogpu import on_gpu

log = logging.getLogger(__name__)
TITLE = "MusicBrief"
CSS_FILE = os.path.join(os.path.dirname(__file__), "style.css")


def backend_notice(config: AppConfig) -> str:
    """Shown once, at the top: where the takes come from when it isn't MusicGen."""
    if config.music.startswith("musicgen") and not musicgen_weights_present(config.music):
        return reply("ui_no_weights_notice")
    return reply("ui_sketch_notice") if config.music == "sketch" else ""


def gpu_seconds(message: str, conv: Any, llm: str, music: str, takes: float, duration: float, *_: Any,
                **__: Any) -> float:
    """ZeroGPU lease for one turn (same arguments as the chat handler), from the measured speed of the
    GPU's default decode path (CUDA graphs)."""
    return gpu_lease_seconds(takes, duration)


def page_css() -> str:
    """Layout that Gradio's options don't cover: a phone keeps the input and the takes in view."""
    with open(CSS_FILE, encoding="utf-8") as fh:
        return fh.read()


def build_demo(config: Optional[AppConfig] = None) -> gr.Blocks:
    config = config or load_config()
    services = SharedServices(config)
    store = ConversationStore()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths([str(config.output_dir.resolve())])  # takes are served in place, never copied to Gradio's cache
    music_choices = sorted({config.music, "sketch", "musicgen"})

    def session_for(conv: Optional[Conversation], llm: str, music: str, takes: Any, duration: Any) -> Conversation:
        """This browser session's conversation; the chat history lives here, server-side, so API clients
        never have to send it back. `takes` and `duration` are defaults: what the user said wins."""
        llm, music = llm or config.llm, music or config.music  # an API client may send null
        session = conv.session if conv else None
        if session is None or session.state.settings.llm != llm or session.state.settings.music != music:
            fresh = services.new_session(llm=llm, music=music)
            if session is not None:  # a new backend keeps the conversation so far
                fresh.state = session.state.model_copy(update={"settings": fresh.state.settings})
            session = fresh
        session.apply_settings(takes, duration)
        conv = conv or Conversation(session)
        conv.session = session
        store.remember(conv)
        return conv

    def outputs(conv: Optional[Conversation], extra: Optional[list[Any]] = None,
                start: Optional[int] = None) -> list[Any]:
        """Every component a turn changes, from the conversation alone; `extra` shows a turn in
        progress (the user's message and what is happening), `start` holds the chat window still."""
        session = conv.session if conv else None
        history, takes_at = view.chat_history(conv.turns if conv else [], session)
        if extra:
            history = history + extra
        shown, dropped = view.visible_history(history, start)
        if conv is not None:
            conv.window_start = dropped
            conv.takes_at = {i - dropped: t for i, t in takes_at.items() if i >= dropped}
        take_count, seconds = view.slider_values(session, config.takes, config.duration_s)
        llm_name = session.state.settings.llm if session else config.llm
        music_name = session.state.settings.music if session else config.music
        return [shown, conv, view.brief_markdown(session), view.last_prompt(session),
                view.downloads(session) or None, *view.form_values(session),
                gr.update(value=take_count), gr.update(value=seconds),
                view.backends_text(session, llm_name, music_name), conv.key if conv else None]

    @on_gpu(gpu_seconds)
    def respond(message: str, conv: Optional[Conversation], llm: str, music: str,
                takes: int, duration: float) -> Iterator[list[Any]]:
        """Shows the message at once, runs the turn in a worker thread and redraws a progress line
        ('take 1 of 2 · 40%') in the chat; the opening seconds of take 1 stream to the live preview."""
        began = time.perf_counter()
        conv = session_for(conv, llm, music, takes, duration)
        message = message if isinstance(message, str) else str(message or "")
        pending = view.pending_messages(message, reply("ui_working"))
        first = outputs(conv, extra=pending)
        start = conv.window_start  # the rest of this turn keeps the window where it now starts
        events: queue.Queue = queue.Queue()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["record"] = conv.session.send(
                    message, progress=lambda f, label: events.put(("progress", (f, label))),
                    on_chunk=lambda chunks: events.put(("audio", chunks[0])))
            except Exception:  # never a traceback in the chat; the conversation so far stays
                log.exception("turn failed")
            finally:
                events.put(("done", None))

        threading.Thread(target=work, daemon=True).start()
        streamed, drawn, shown = False, 0.0, False
        while True:
            try:  # a quick turn (an answer, an instant re-mix) is drawn once, without the pending line
                kind, payload = events.get(timeout=None if shown else limits.PENDING_AFTER_S)
            except queue.Empty:
                shown = True
                yield ["", *first, gr.skip()]
                continue
            if kind == "done":
                break
            if kind == "progress" and time.monotonic() - drawn >= limits.PROGRESS_EVERY_S:
                drawn, shown = time.monotonic(), True
                status = view.pending_messages(message, view.progress_text(*payload))
                yield ["", *outputs(conv, extra=status, start=start), gr.skip()]
            elif kind == "audio" and can_stream:
                streamed = True
                rate = conv.session.music.sample_rate
                yield [gr.skip()] * len(outs) + [(rate, payload)]
        if "record" not in result:  # the message stays, answered with what happened
            result["record"] = TurnRecord(user=message[: limits.MAX_MESSAGE_CHARS], reply=reply("ui_turn_failed"),
                                          action="answer", asks_about=[], options=[], brief={}, prompt=None,
                                          changed=[], filled=[])
        conv.turns.append(result["record"])
        final = outputs(conv, start=start)
        log.info("turn answered in %.3f s (%s)", time.perf_counter() - began, result["record"].action)
        yield ["", *final, gr.skip() if streamed else None]

    def pick_option(evt: gr.SelectData, *args: Any) -> Iterator[list[Any]]:
        yield from respond(str(evt.value), *args)

    def liked(evt: gr.LikeData, conv: Optional[Conversation], *rest: Any) -> Iterator[list[Any]]:
        """👍 on a take keeps that take, as if the user had typed 'keep N'."""
        where = conv.takes_at.get(evt.index) if conv is not None and isinstance(evt.index, int) else None
        if not evt.liked or where is None:
            yield ["", *outputs(conv), gr.skip()]
            return
        round_number, number = where
        latest = [r for r in conv.session.state.rounds if r.takes]
        if not latest or latest[-1].number != round_number:
            seed = next((t.seed for r in conv.session.state.rounds if r.number == round_number
                         for t in r.takes if t.number == number), None)
            gr.Info(reply("ui_old_take", seed=seed))
            yield ["", *outputs(conv), gr.skip()]
            return
        yield from respond(f"keep {number}", conv, *rest)

    def edit_brief(genre: str, bpm: Optional[float], brightness: str, width: str, space: str,
                   conv: Optional[Conversation]) -> str:
        """Editing a control is the same as saying it: the changed controls become a chat message."""
        now = view.form_values(conv.session if conv else None)
        words = [genre.strip()] if genre and genre.strip() and genre.strip() != now[0] else []
        if bpm and bpm != now[1]:
            words.append(f"{int(bpm)} bpm")
        for value, axis, before in ((brightness, "brightness", now[2]), (width, "width", now[3]),
                                    (space, "space", now[4])):
            if value and value != before:
                words.append(value if value != "balanced" else f"balanced {axis}")
        return ", ".join(words)

    def moved(conv: Optional[Conversation], llm: str, music: str, takes: int, duration: float) -> list[Any]:
        """A slider the user moved is an edit: it holds until the user changes it again."""
        conv = session_for(conv, llm, music, None, None)
        conv.session.set_by_user(takes=takes, duration_s=duration)
        return ["", *outputs(conv), gr.skip()]

    def stop(conv: Optional[Conversation]) -> None:
        """Cancels the running generation; its turn then ends with 'Stopped' like any other reply."""
        if conv is not None:
            conv.session.cancel.set()

    def restore(key: Optional[str]) -> list[Any]:
        """After a reload: the conversation this browser was having, if the server still has it."""
        return [gr.skip(), *outputs(store.find(key)), gr.skip()]  # never clear what is being typed

    def clear(conv: Optional[Conversation]) -> list[Any]:
        """The trash icon starts a new conversation (the old one is forgotten, its files age out)."""
        if conv is not None:
            store.forget(conv.key)
            conv.session.cancel.set()
        return ["", *outputs(None), gr.skip()]

    outs: list[Any] = []  # filled once the components exist; respond() only needs its length
    can_stream = shutil.which("ffmpeg") is not None  # Gradio encodes streamed audio with ffmpeg
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{reply('ui_intro')}")
        gr.Markdown(backend_notice(config), elem_id="notice")
        session_state = gr.State(None)
        saved = gr.BrowserState(None, storage_key="musicbrief-conversation")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(height="62vh", label="Chat", feedback_options=("Like",), elem_id="chat",
                                     group_consecutive_messages=False)
                with gr.Row(elem_id="input-row"):
                    box = gr.Textbox(placeholder="e.g. a dreamy synthwave track for a night drive", scale=5,
                                     show_label=False, elem_id="message", min_width=160)
                    send = gr.Button("Send", variant="primary", scale=1, min_width=70, elem_id="send")
                    stop_btn = gr.Button("Stop", variant="stop", scale=1, min_width=70, elem_id="stop")
            with gr.Column(scale=2, min_width=300):
                brief_panel = gr.Markdown(view.brief_markdown(None), elem_id="brief")
                with gr.Accordion("Edit the brief", open=False):
                    genre = gr.Textbox(label="Genre", elem_id="edit-genre")
                    bpm = gr.Number(label="Tempo (BPM)", value=None, minimum=limits.BPM_MIN,
                                    maximum=limits.BPM_MAX, precision=0, elem_id="edit-bpm")
                    brightness = gr.Dropdown(["", "dark", "balanced", "bright"], label="Brightness")
                    width = gr.Dropdown(["", "narrow", "balanced", "wide"], label="Stereo width")
                    space = gr.Dropdown(["", "dry", "balanced", "reverberant"], label="Space")
                    apply = gr.Button("Apply")
                prompt = gr.Textbox(label="Prompt sent to MusicGen", interactive=False, buttons=["copy"])
                live = gr.Audio(label="Live preview of take 1 (streams while generating)", streaming=True,
                                autoplay=True, interactive=False, elem_id="live",
                                visible=can_stream and config.music.startswith("musicgen"))
                files = gr.File(label="Download this round's WAVs", file_count="multiple", interactive=False)
                with gr.Accordion("Settings", open=False):
                    in_use = gr.Markdown(view.backends_text(None, config.llm, config.music), elem_id="in-use")
                    llm = gr.Dropdown(sorted({config.llm, "off", "embedded"}), value=config.llm, label="Language model")
                    music = gr.Dropdown(music_choices, value=config.music, label="Music model")
                    takes = gr.Slider(1, limits.MAX_TAKES, value=config.takes, step=1, label="Takes per round",
                                      elem_id="takes")
                    duration = gr.Slider(limits.DURATION_MIN_S, limits.DURATION_MAX_S, value=config.duration_s,
                                         step=1, label="Seconds per take", elem_id="duration")

        inputs = [session_state, llm, music, takes, duration]
        # The API's outputs start as before (message box, chat, brief, prompt, files); the live preview
        # stays last.
        outs.extend([box, chatbot, session_state, brief_panel, prompt, files, genre, bpm, brightness, width,
                     space, takes, duration, in_use, saved])
        outs_live = [*outs, live]
        # Every event that can generate shares one concurrency group: the limit is for the whole app,
        # not per handler (assistant.music also holds a process-wide semaphore for API callers).
        generating = dict(concurrency_id="generation", concurrency_limit=limits.MAX_CONCURRENT_GENERATIONS,
                          show_progress="hidden")
        box.submit(respond, [box, *inputs], outs_live, api_name="chat", **generating)
        send.click(respond, [box, *inputs], outs_live, api_name=False, **generating)
        chatbot.option_select(pick_option, inputs, outs_live, api_name=False, **generating)
        chatbot.like(liked, inputs, outs_live, api_name=False, **generating)
        apply.click(edit_brief, [genre, bpm, brightness, width, space, session_state], box, api_name=False) \
            .then(respond, [box, *inputs], outs_live, api_name=False, **generating)
        for slider in (takes, duration):
            slider.release(moved, inputs, outs_live, api_name=False, show_progress="hidden")
        stop_btn.click(stop, session_state, None, api_name=False, queue=False)
        chatbot.clear(clear, session_state, outs_live, api_name=False, queue=False)
        demo.load(restore, saved, outs_live, api_name=False)
    return demo


def main() -> None:
    logging.basicConfig(level=os.environ.get("MUSICBRIEF_LOG", "WARNING").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = load_config()
    demo = build_demo(config)
    on_space = bool(os.environ.get("SPACE_ID"))
    demo.queue(default_concurrency_limit=limits.MAX_CONCURRENT_GENERATIONS, max_size=limits.MAX_QUEUE).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_space else "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        allowed_paths=[str(config.output_dir.resolve())],
        max_file_size=limits.MAX_UPLOAD_BYTES,  # the app takes no uploads: only a tiny file gets through
        css=page_css(),
        app_kwargs={"middleware": [Middleware(MalformedRequestGuard)]})
