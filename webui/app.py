"""The MusicBrief web app: chat with clickable options and a message per take, the brief beside it.

Handlers only pass what the user did to the Session (the single writer of conversation state) and
translate what comes back into components (webui.view)."""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from typing import Any, Iterator, Optional

import gradio as gr
from starlette.middleware import Middleware

from assistant import limits
from assistant.config import AppConfig, load_config
from assistant.services import SharedServices, concurrent_generations, gpu_lease_seconds, musicgen_weights_present
from assistant.actions import Action, EditControls, KeepTake, Say
from assistant.session import Audio, Finished, Progress
from assistant.templates import reply
from webui import view
from webui.api_guard import MalformedRequestGuard
from webui.request_limits import RequestLimits
from webui.conversation import Conversation, ConversationStore
from webui.zerogpu import on_gpu

log = logging.getLogger(__name__)
TITLE = "MusicBrief"
EMPTY_BOX = {"text": "", "files": []}  # the message box, emptied once when a message is sent
CSS_FILE = os.path.join(os.path.dirname(__file__), "style.css")


def backend_notice(config: AppConfig) -> str:
    """Shown once, at the top: where the takes come from when it isn't MusicGen."""
    if config.music.startswith("musicgen") and not musicgen_weights_present(config.music):
        return reply("ui_no_weights_notice")
    return reply("ui_sketch_notice") if config.music == "sketch" else ""


def gpu_seconds(conv: Any, llm: str = "", music: str = "", takes: Any = None, duration: Any = None, *_: Any,
                **__: Any) -> float:
    """ZeroGPU lease for the turns a conversation runs (the drain handler's arguments), from the
    measured speed of the GPU's default decode path (CUDA graphs): the conversation's own takes and
    length when it has them, else the sliders'."""
    session = getattr(conv, "session", None)
    if session is not None:
        takes, duration = session.state.settings.takes, session.state.brief.duration_s
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

    def conv_of(held: Any) -> Optional[Conversation]:
        """Gradio's state for a browser session holds only the conversation's key: the store owns the
        conversation, so the store's bound is the memory's bound (3,000 sessions kept 85 KB each)."""
        return held if isinstance(held, Conversation) else store.find(held)

    def session_for(conv: Optional[Conversation], llm: str, music: str, takes: Any, duration: Any) -> Conversation:
        """This browser session's conversation; the chat history lives here, server-side, so API clients
        never have to send it back. `takes` and `duration` are defaults: what the user said wins."""
        llm, music = config.allowed(llm, music)  # an API client may send null, or a model the operator left off
        session = conv.session if conv else None
        switch = session is not None and not session.busy and (
            session.state.settings.llm != llm or session.state.settings.music != music)
        if session is None or switch:
            fresh = services.new_session(llm=llm, music=music)
            if session is not None:  # a new backend keeps the conversation so far
                fresh.carry_over(session)
            session = fresh
        session.apply_settings(takes, duration)
        conv = conv or Conversation(session)
        conv.session = session
        store.remember(conv)
        return conv

    def outputs(conv: Optional[Conversation], status: str = "", start: Optional[int] = None) -> list[Any]:
        """Every component a turn changes, from the conversation alone: the finished turns, the one
        that runs (with `status`, what is happening) and those that wait; `start` holds the chat
        window still during a turn. Never the message box: what the user types is theirs."""
        session = conv.session if conv else None
        history, takes_at = view.chat_history(session.records if session else [], session)
        history = history + view.in_flight(session, status or reply("ui_working"))
        shown, dropped = view.visible_history(history, start)
        if conv is not None:
            conv.window_start = dropped
            conv.takes_at = {i - dropped: t for i, t in takes_at.items() if i >= dropped}
        take_count, seconds = view.slider_values(session, config.takes, config.duration_s)
        llm_name = session.state.settings.llm if session else config.llm
        music_name = session.state.settings.music if session else config.music
        busy = bool(session and session.busy)
        # The form and the sliders are the user's too: redrawn only when the brief moved them, so a
        # redraw in the middle of a round never undoes what is being typed or dragged there.
        controls = (*view.form_values(session), take_count, seconds)
        if conv is not None and conv.controls_shown == controls:
            form: list[Any] = [gr.skip()] * len(controls)
        else:
            form = [*controls[:5], gr.update(value=take_count), gr.update(value=seconds)]
            if conv is not None:
                conv.controls_shown = controls
        return [gr.skip(), shown, conv.key if conv else None, view.brief_markdown(session), view.last_prompt(session),
                view.downloads(session) or None, *form,
                view.backends_text(session, llm_name, music_name), conv.key if conv else None,
                view.rounds_panel(session), gr.update(interactive=busy)]

    def post(action: Action, conv: Optional[Conversation], llm: str, music: str, takes: Any,
             duration: Any) -> Conversation:
        conv = session_for(conv, llm, music, takes, duration)
        conv.session.post(action, run=False)  # it runs when the queue gives this conversation a slot
        return conv

    def take_in(message: Any, conv: Optional[Conversation], llm: str, music: str, takes: Any,
                duration: Any) -> list[Any]:
        """The moment Enter or Send is pressed: the box is emptied (once, now). Behind a running round
        the message shows at once as waiting (it never stops that round; only Stop does); otherwise
        its turn draws it, with its reply when that is quick (one redraw, not two)."""
        conv = conv_of(conv)
        said = view.message_parts(message)
        if said is None:
            return [gr.skip()] * len(outs)
        was_busy = conv is not None and conv.session.busy
        conv = post(said, conv, llm, music, takes, duration)
        if not was_busy:
            quiet: list[Any] = [EMPTY_BOX, gr.skip(), conv.key, *[gr.skip()] * (len(outs) - 6), conv.key, gr.skip(),
                                gr.update(interactive=True)]  # the box, the conversation, its key, Stop
            return quiet
        return [EMPTY_BOX, *outputs(conv)[1:]]

    @on_gpu(gpu_seconds)
    def drain(conv: Optional[Conversation], *_: Any, heartbeat: bool = False) -> Iterator[list[Any]]:
        """Runs what this conversation has waiting and redraws as it goes: a progress line that
        moves with the work ('take 1 of 2 · 40% · about 12 s left'), the live preview of take 1,
        then the finished turns. Another tab of the same conversation may be drawing it too."""
        conv = conv_of(conv)
        if conv is None:
            yield [*[gr.skip()] * len(outs), gr.skip()]
            return
        began = time.perf_counter()
        session = conv.session
        session.run_pending()
        # The chat window slides only in this stream's first draw, which Gradio sends whole; later draws
        # are diffs, and gradio_client mis-applies one that slides the window (nested deletes), so they
        # hold it. The chat may pass its bound by the turns of one stream.
        start: Optional[int] = None

        def draw(status: str = "") -> list[Any]:
            nonlocal start
            drawn_now = outputs(conv, status=status, start=start)
            start = conv.window_start
            return drawn_now

        status, eta_at, drawn, streamed = "", None, 0.0, False
        for event in session.events(tick_s=limits.PROGRESS_EVERY_S):
            now = time.monotonic()
            if isinstance(event, Progress):
                eta_at = (event, now)
            elif isinstance(event, Audio) and can_stream:
                streamed = True
                yield [*[gr.skip()] * len(outs), (event.sample_rate, event.samples)]
                continue
            elif isinstance(event, Finished):
                status, eta_at = "", None
                if session.busy:  # the next turn starts: show this one finished (the last is drawn below)
                    yield [*draw(), gr.skip()]
                continue
            if now - began < limits.PENDING_AFTER_S:  # a quick turn (an answer, an instant re-mix) is drawn once
                continue
            if eta_at is not None and now - drawn >= limits.PROGRESS_EVERY_S:
                progress, at = eta_at
                eta = None if progress.eta_s is None else max(0.0, progress.eta_s - (now - at))
                status = view.progress_text(progress.fraction, progress.label, eta)
                drawn = now
                yield [*draw(status), gr.skip()]
            elif event is None and not status:
                status = reply("ui_working")
                yield [*draw(status), gr.skip()]
            elif event is None and heartbeat:  # nothing to redraw, but a yield lets a cancel in
                yield [*[gr.skip()] * len(outs), gr.skip()]
        log.info("turns drawn in %.3f s", time.perf_counter() - began)
        yield [*draw(), gr.skip() if streamed else None]

    def respond(message: str, conv: Optional[Conversation], llm: str, music: str,
                takes: int, duration: float) -> Iterator[list[Any]]:
        """The API's /chat: one message in, the turn's redraws out (the message box as ""). A client
        that cancels (or goes) stops its turn: Gradio closes this generator at its next yield, and
        one comes at least every PROGRESS_EVERY_S."""
        conv = conv_of(conv)
        message = message if isinstance(message, str) else str(message or "")
        conv = post(Say(text=message), conv, llm, music, takes, duration)
        finished = False
        try:
            for update in drain(conv, llm, music, takes, duration, heartbeat=True):
                yield ["", *update[1:]]
            finished = True
        finally:
            if not finished:
                conv.session.stop()

    def pick_option(evt: gr.SelectData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        return take_in(str(evt.value), conv, *rest)

    def pick_example(evt: gr.SelectData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        value = evt.value.get("text") if isinstance(evt.value, dict) else evt.value
        return take_in(str(value or ""), conv, *rest)

    def liked(evt: gr.LikeData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        """👍 on a take keeps that take, whichever round it came from; the reply says what it did."""
        conv = conv_of(conv)
        where = conv.takes_at.get(evt.index) if conv is not None and isinstance(evt.index, int) else None
        if not evt.liked or where is None:
            return [*outputs(conv)]
        conv = post(KeepTake(round=where[0], number=where[1]), conv, *rest)
        return outputs(conv)

    def edit_brief(genre: str, bpm: Optional[float], brightness: str, width: str, space: str,
                   conv: Optional[Conversation], *rest: Any) -> list[Any]:
        """Apply: the controls the user changed, as values (never a sentence read again)."""
        conv = conv_of(conv)
        now = view.form_values(conv.session if conv else None)
        genre = (genre or "").strip()
        edit = EditControls(genre=genre if genre and genre != now[0] else None,
                            bpm=float(bpm) if bpm and bpm != now[1] else None,
                            brightness=brightness if brightness and brightness != now[2] else None,
                            width=width if width and width != now[3] else None,
                            space=space if space and space != now[4] else None)
        conv = post(edit, conv, *rest)
        return outputs(conv)

    def moved(conv: Optional[Conversation], llm: str, music: str, takes: int, duration: float) -> list[Any]:
        """A slider the user moved is an edit: it holds until the user changes it again."""
        conv = conv_of(conv)
        conv = session_for(conv, llm, music, None, None)
        conv.session.set_by_user(takes=takes, duration_s=duration)
        return [*outputs(conv), gr.skip()]

    def stop(conv: Optional[Conversation]) -> None:
        """Cancels the running generation and what waits behind it; each ends with 'Stopped'."""
        conv = conv_of(conv)
        if conv is not None:
            conv.session.stop()

    def restore(key: Optional[str]) -> list[Any]:
        """After a reload: the conversation this browser was having, if the server still has it."""
        conv = store.find(key)
        if conv is not None:
            conv.controls_shown = None  # a new page: its form and sliders are drawn afresh
        return [*outputs(conv), gr.skip()]

    def clear(conv: Optional[Conversation], confirmed: Any = True) -> list[Any]:
        """The trash icon, once the browser's confirmation says yes, starts a new conversation (the
        old one is forgotten, its files age out); a "no" draws the conversation back."""
        conv = conv_of(conv)
        if confirmed is False:
            return [*outputs(conv), gr.skip()]
        if conv is not None:
            store.forget(conv.key)
            conv.session.stop()
        return [*outputs(None), gr.skip()]

    outs: list[Any] = []  # filled once the components exist; the handlers only need its length
    can_stream = shutil.which("ffmpeg") is not None  # Gradio encodes streamed audio with ffmpeg
    on_space = bool(os.environ.get("SPACE_ID"))  # sharing a take needs a Space
    # Uploaded clips sit in Gradio's cache: files older than UPLOADS_KEPT_S go, checked as often
    with gr.Blocks(title=TITLE, delete_cache=(limits.UPLOADS_KEPT_S, limits.UPLOADS_KEPT_S)) as demo:
        gr.Markdown(f"# {TITLE}\n{reply('ui_intro')}")
        gr.Markdown(backend_notice(config), elem_id="notice")
        session_state = gr.State(None)
        saved = gr.BrowserState(None, storage_key="musicbrief-conversation")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(height="62vh", label="Chat", feedback_options=("Like",), elem_id="chat",
                                     elem_classes=[] if on_space else ["no-share"],
                                     group_consecutive_messages=False, examples=view.example_requests(),
                                     buttons=view.chat_buttons(on_space))
                with gr.Row(elem_id="input-row"):
                    # A message, and a clip to follow (uploaded or recorded): assistant.music.clips reads it
                    box = gr.MultimodalTextbox(placeholder=reply("ui_placeholder"), scale=5, show_label=False,
                                               elem_id="message", min_width=120, lines=1, max_lines=4,
                                               sources=["upload", "microphone"], file_types=["audio"],
                                               file_count="single", submit_btn=False, stop_btn=False)
                    send = gr.Button("Send", variant="primary", scale=0, min_width=64, elem_id="send")
                    stop_btn = gr.Button("Stop", variant="stop", scale=0, min_width=64, elem_id="stop",
                                         interactive=False)
            with gr.Column(scale=2, min_width=300):
                brief_panel = gr.Markdown(view.brief_markdown(None), elem_id="brief")
                with gr.Accordion("Edit the brief", open=False):
                    genre = gr.Textbox(label="Genre", elem_id="edit-genre")
                    bpm = gr.Number(label="Tempo (BPM)", value=None, minimum=limits.BPM_MIN,
                                    maximum=limits.BPM_MAX, precision=0, elem_id="edit-bpm")
                    brightness = gr.Dropdown(["", "dark", "balanced", "bright"], label="Brightness", elem_id="edit-brightness")
                    width = gr.Dropdown(["", "narrow", "balanced", "wide"], label="Stereo width", elem_id="edit-width")
                    space = gr.Dropdown(["", "dry", "balanced", "reverberant"], label="Space", elem_id="edit-space")
                    apply = gr.Button("Apply", elem_id="apply")
                prompt = gr.Textbox(label="Prompt sent to MusicGen", interactive=False, buttons=["copy"])
                live = gr.Audio(label="Live preview of take 1 (streams while generating)", streaming=True,
                                autoplay=True, interactive=False, elem_id="live",
                                visible=can_stream and config.music.startswith("musicgen"))
                files = gr.File(label="Download this round's WAVs", file_count="multiple", interactive=False)
                with gr.Accordion("Every round", open=False):
                    rounds = gr.Markdown(view.rounds_panel(None), elem_id="rounds", sanitize_html=False)
                with gr.Accordion("Settings", open=False):
                    in_use = gr.Markdown(view.backends_text(None, config.llm, config.music), elem_id="in-use")
                    llm = gr.Dropdown(config.llm_choices(), value=config.llm, label="Language model")
                    music = gr.Dropdown(config.music_choices(), value=config.music, label="Music model")
                    takes = gr.Slider(1, limits.MAX_TAKES, value=config.takes, step=1, label="Takes per round",
                                      elem_id="takes")
                    duration = gr.Slider(limits.DURATION_MIN_S, limits.DURATION_MAX_S, value=config.duration_s,
                                         step=1, label="Seconds per take", elem_id="duration")

        inputs = [session_state, llm, music, takes, duration]
        # The API's outputs start as before (message box, chat, brief, prompt, files); the live preview
        # stays last.
        outs.extend([box, chatbot, session_state, brief_panel, prompt, files, genre, bpm, brightness, width,
                     space, takes, duration, in_use, saved, rounds, stop_btn])
        outs_live = [*outs, live]
        # Every event that can generate shares one concurrency group: the limit is for the whole app,
        # not per handler (assistant.music also holds a process-wide semaphore for API callers).
        generating = dict(concurrency_id="generation", concurrency_limit=concurrent_generations(),
                          show_progress="hidden")
        instant = dict(queue=False, show_progress="hidden", api_name=False, trigger_mode="multiple")
        api_chat = gr.Button(visible=False)  # API clients' /chat: one message in, the turn's redraws out
        api_message = gr.Textbox(visible=False)
        api_chat.click(respond, [api_message, *inputs], outs_live, api_name="chat", **generating)
        # What a user does is taken in at once (never queued behind a round), then runs in its turn.
        for taken in (box.submit(take_in, [box, *inputs], outs, **instant),
                      send.click(take_in, [box, *inputs], outs, **instant),
                      chatbot.option_select(pick_option, inputs, outs, **instant),
                      chatbot.example_select(pick_example, inputs, outs, **instant),
                      chatbot.like(liked, inputs, outs, **instant),
                      apply.click(edit_brief, [genre, bpm, brightness, width, space, *inputs], outs, **instant)):
            taken.then(drain, inputs, outs_live, api_name=False, trigger_mode="multiple", **generating)
        for slider in (takes, duration):
            slider.release(moved, inputs, outs_live, api_name=False, show_progress="hidden")
        stop_btn.click(stop, session_state, None, api_name=False, queue=False)
        confirmed = gr.Checkbox(value=True, visible=False)
        chatbot.clear(clear, [session_state, confirmed], outs_live, api_name=False, queue=False,
                      js=f"(conv, ok) => [conv, window.confirm({json.dumps(reply('ui_confirm_clear'))})]")
        demo.load(restore, saved, outs_live, api_name=False)
    return demo


def main() -> None:
    logging.basicConfig(level=os.environ.get("MUSICBRIEF_LOG", "WARNING").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = load_config()
    demo = build_demo(config)
    on_space = bool(os.environ.get("SPACE_ID"))
    # api_open=False: every queued event goes through the queue; a direct POST (/gradio_api/run/...) is refused
    demo.queue(default_concurrency_limit=concurrent_generations(), max_size=limits.MAX_QUEUE,
               api_open=False).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_space else "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        allowed_paths=[str(config.output_dir.resolve())],
        max_file_size=limits.CLIP_MAX_BYTES,  # a clip to follow; assistant.music.clips checks it again
        css=page_css(),
        enable_monitoring=config.monitoring,
        app_kwargs={"middleware": [Middleware(MalformedRequestGuard), Middleware(RequestLimits)]})
