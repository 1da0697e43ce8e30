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
from assistant.app.config import AppConfig, load_config
from assistant.app.services import SharedServices, concurrent_generations, gpu_lease_seconds, musicgen_weights_present
from assistant.actions import Action, EditControls, KeepTake, Say
from assistant.app.session import Audio, Finished, Progress
from assistant.wording import reply
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


class ChatApp:
    """The handlers of one web app: each passes what the user did to the Session and draws what
    comes back. The layout (`build_demo`) wires them to the components; `outs` is filled once
    the components exist, and the handlers only need its length."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.services = SharedServices(config)
        self.store = ConversationStore()
        self.outs: list[Any] = []
        self.can_stream = shutil.which("ffmpeg") is not None  # Gradio encodes streamed audio with ffmpeg
        self.drain = on_gpu(gpu_seconds)(self._drain)  # the lease estimate sees the handler's own arguments

    def conv_of(self, held: Any) -> Optional[Conversation]:
        """Gradio's state for a browser session holds only the conversation's key: the store owns the
        conversation, so the store's bound is the memory's bound (3,000 sessions kept 85 KB each)."""
        return held if isinstance(held, Conversation) else self.store.find(held)

    def session_for(self, conv: Optional[Conversation], llm: str, music: str, takes: Any, duration: Any
                    ) -> Conversation:
        """This browser session's conversation; the chat history lives here, server-side, so API clients
        never have to send it back. `takes` and `duration` are defaults: what the user said wins."""
        llm, music = self.config.allowed(llm, music)  # an API client may send null, or a model the operator left off
        session = conv.session if conv else None
        switch = session is not None and not session.busy and (
            session.state.settings.llm != llm or session.state.settings.music != music)
        if session is None or switch:
            fresh = self.services.new_session(llm=llm, music=music)
            if session is not None:  # a new backend keeps the conversation so far
                fresh.carry_over(session)
            session = fresh
        session.apply_settings(takes, duration)
        conv = conv or Conversation(session)
        conv.session = session
        self.store.remember(conv)
        return conv

    def outputs(self, conv: Optional[Conversation], status: str = "", start: Optional[int] = None) -> list[Any]:
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
        llm_name = session.state.settings.llm if session else self.config.llm
        music_name = session.state.settings.music if session else self.config.music
        busy = bool(session and session.busy)
        return [gr.skip(), shown, conv.key if conv else None, view.brief_markdown(session), view.last_prompt(session),
                view.downloads(session) or None, *self._form(conv, session),
                view.backends_text(session, llm_name, music_name), conv.key if conv else None,
                view.rounds_panel(session), gr.update(interactive=busy)]

    def _form(self, conv: Optional[Conversation], session: Any) -> list[Any]:
        """The form and the sliders are the user's too: redrawn only when the brief moved them, so a
        redraw in the middle of a round never undoes what is being typed or dragged there."""
        take_count, seconds = view.slider_values(session, self.config.takes, self.config.duration_s)
        controls = (*view.form_values(session), take_count, seconds)
        if conv is not None and conv.controls_shown == controls:
            return [gr.skip()] * len(controls)
        if conv is not None:
            conv.controls_shown = controls
        return [*controls[:5], gr.update(value=take_count), gr.update(value=seconds)]

    def post(self, action: Action, conv: Optional[Conversation], llm: str, music: str, takes: Any,
             duration: Any) -> Conversation:
        conv = self.session_for(conv, llm, music, takes, duration)
        conv.session.post(action, run=False)  # it runs when the queue gives this conversation a slot
        return conv

    def take_in(self, message: Any, conv: Optional[Conversation], llm: str, music: str, takes: Any,
                duration: Any) -> list[Any]:
        """The moment Enter or Send is pressed: the box is emptied (once, now). Behind a running round
        the message shows at once as waiting (it never stops that round; only Stop does); otherwise
        its turn draws it, with its reply when that is quick (one redraw, not two)."""
        conv = self.conv_of(conv)
        said = view.message_parts(message)
        if said is None:
            return [gr.skip()] * len(self.outs)
        was_busy = conv is not None and conv.session.busy
        conv = self.post(said, conv, llm, music, takes, duration)
        if not was_busy:  # the box, the conversation, its key, Stop
            return [EMPTY_BOX, gr.skip(), conv.key, *[gr.skip()] * (len(self.outs) - 6), conv.key, gr.skip(),
                    gr.update(interactive=True)]
        return [EMPTY_BOX, *self.outputs(conv)[1:]]

    def _drain(self, conv: Optional[Conversation], *_: Any, heartbeat: bool = False) -> Iterator[list[Any]]:
        """Runs what this conversation has waiting and redraws as it goes: a progress line that
        moves with the work ('take 1 of 2 · 40% · about 12 s left'), the live preview of take 1,
        then the finished turns. Another tab of the same conversation may be drawing it too."""
        conv = self.conv_of(conv)
        if conv is None:
            yield [*[gr.skip()] * len(self.outs), gr.skip()]
            return
        began = time.perf_counter()
        conv.session.run_pending()
        drawing = _Drawing(self, conv, heartbeat)
        for event in conv.session.events(tick_s=limits.PROGRESS_EVERY_S):
            drawn = drawing.on(event, time.monotonic(), quick=time.perf_counter() - began < limits.PENDING_AFTER_S)
            if drawn is not None:
                yield drawn
        log.info("turns drawn in %.3f s", time.perf_counter() - began)
        yield [*drawing.draw(), gr.skip() if drawing.streamed else None]

    def respond(self, message: str, conv: Optional[Conversation], llm: str, music: str,
                takes: int, duration: float) -> Iterator[list[Any]]:
        """The API's /chat: one message in, the turn's redraws out (the message box as ""). A client
        that cancels (or goes) stops its turn: Gradio closes this generator at its next yield, and
        one comes at least every PROGRESS_EVERY_S."""
        conv = self.conv_of(conv)
        message = message if isinstance(message, str) else str(message or "")
        conv = self.post(Say(text=message), conv, llm, music, takes, duration)
        finished = False
        try:
            for update in self.drain(conv, llm, music, takes, duration, heartbeat=True):
                yield ["", *update[1:]]
            finished = True
        finally:
            if not finished:
                conv.session.stop()

    def pick_option(self, evt: gr.SelectData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        return self.take_in(str(evt.value), conv, *rest)

    def pick_example(self, evt: gr.SelectData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        value = evt.value.get("text") if isinstance(evt.value, dict) else evt.value
        return self.take_in(str(value or ""), conv, *rest)

    def liked(self, evt: gr.LikeData, conv: Optional[Conversation], *rest: Any) -> list[Any]:
        """👍 on a take keeps that take, whichever round it came from; the reply says what it did."""
        conv = self.conv_of(conv)
        where = conv.takes_at.get(evt.index) if conv is not None and isinstance(evt.index, int) else None
        if not evt.liked or where is None:
            return [*self.outputs(conv)]
        return self.outputs(self.post(KeepTake(round=where[0], number=where[1]), conv, *rest))

    def edit_brief(self, genre: str, bpm: Optional[float], brightness: str, width: str, space: str,
                   conv: Optional[Conversation], *rest: Any) -> list[Any]:
        """Apply: the controls the user changed, as values (never a sentence read again)."""
        conv = self.conv_of(conv)
        now = view.form_values(conv.session if conv else None)
        genre = (genre or "").strip()
        edit = EditControls(genre=genre if genre and genre != now[0] else None,
                            bpm=float(bpm) if bpm and bpm != now[1] else None,
                            brightness=brightness if brightness and brightness != now[2] else None,
                            width=width if width and width != now[3] else None,
                            space=space if space and space != now[4] else None)
        return self.outputs(self.post(edit, conv, *rest))

    def moved(self, conv: Optional[Conversation], llm: str, music: str, takes: int, duration: float) -> list[Any]:
        """A slider the user moved is an edit: it holds until the user changes it again."""
        conv = self.session_for(self.conv_of(conv), llm, music, None, None)
        conv.session.set_by_user(takes=takes, duration_s=duration)
        return [*self.outputs(conv), gr.skip()]

    def stop(self, conv: Optional[Conversation]) -> None:
        """Cancels the running generation and what waits behind it; each ends with 'Stopped'."""
        conv = self.conv_of(conv)
        if conv is not None:
            conv.session.stop()

    def restore(self, key: Optional[str]) -> list[Any]:
        """After a reload: the conversation this browser was having, if the server still has it."""
        conv = self.store.find(key)
        if conv is not None:
            conv.controls_shown = None  # a new page: its form and sliders are drawn afresh
        return [*self.outputs(conv), gr.skip()]

    def clear(self, conv: Optional[Conversation], confirmed: Any = True) -> list[Any]:
        """The trash icon, once the browser's confirmation says yes, starts a new conversation (the
        old one is forgotten, its files age out); a "no" draws the conversation back."""
        conv = self.conv_of(conv)
        if confirmed is False:
            return [*self.outputs(conv), gr.skip()]
        if conv is not None:
            self.store.forget(conv.key)
            conv.session.stop()
        return [*self.outputs(None), gr.skip()]


class _Drawing:
    """One drain stream's redraws. The chat window slides only in the stream's first draw, which
    Gradio sends whole; later draws are diffs, and gradio_client mis-applies one that slides the
    window (nested deletes), so they hold it. The chat may pass its bound by the turns of one stream."""

    def __init__(self, app: ChatApp, conv: Conversation, heartbeat: bool) -> None:
        self.app, self.conv, self.heartbeat = app, conv, heartbeat
        self.start: Optional[int] = None
        self.status, self.eta_at, self.drawn, self.streamed = "", None, 0.0, False

    def draw(self, status: str = "") -> list[Any]:
        drawn_now = self.app.outputs(self.conv, status=status, start=self.start)
        self.start = self.conv.window_start
        return drawn_now

    def on(self, event: Any, now: float, quick: bool) -> Optional[list[Any]]:
        """What to send for one session event (None: nothing); a quick turn is drawn once, at the end."""
        skips = [gr.skip()] * len(self.app.outs)
        if isinstance(event, Progress):
            self.eta_at = (event, now)
        elif isinstance(event, Audio) and self.app.can_stream:
            self.streamed = True
            return [*skips, (event.sample_rate, event.samples)]
        elif isinstance(event, Finished):
            self.status, self.eta_at = "", None
            # the next turn starts: show this one finished (the last is drawn by the stream's end)
            return [*self.draw(), gr.skip()] if self.conv.session.busy else None
        if quick:
            return None
        if self.eta_at is not None and now - self.drawn >= limits.PROGRESS_EVERY_S:
            progress, at = self.eta_at
            eta = None if progress.eta_s is None else max(0.0, progress.eta_s - (now - at))
            self.status, self.drawn = view.progress_text(progress.fraction, progress.label, eta), now
            return [*self.draw(self.status), gr.skip()]
        if event is None and not self.status:
            self.status = reply("ui_working")
            return [*self.draw(self.status), gr.skip()]
        if event is None and self.heartbeat:  # nothing to redraw, but a yield lets a cancel in
            return [*skips, gr.skip()]
        return None


def build_demo(config: Optional[AppConfig] = None) -> gr.Blocks:
    """The layout: the chat on the left, the brief, its form and the settings on the right."""
    config = config or load_config()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths([str(config.output_dir.resolve())])  # takes are served in place, never copied to Gradio's cache
    app = ChatApp(config)
    # Uploaded clips sit in Gradio's cache: files older than UPLOADS_KEPT_S go, checked as often
    with gr.Blocks(title=TITLE, delete_cache=(limits.UPLOADS_KEPT_S, limits.UPLOADS_KEPT_S)) as demo:
        gr.Markdown(f"# {TITLE}\n{reply('ui_intro')}")
        gr.Markdown(backend_notice(config), elem_id="notice")
        c: dict[str, Any] = {"session_state": gr.State(None),
                             "saved": gr.BrowserState(None, storage_key="musicbrief-conversation")}
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                _chat_column(c)
            with gr.Column(scale=2, min_width=300):
                _brief_column(c, config, app.can_stream)
        _wire(app, c, demo)
    return demo


def _chat_column(c: dict[str, Any]) -> None:
    on_space = bool(os.environ.get("SPACE_ID"))  # sharing a take needs a Space
    c["chatbot"] = gr.Chatbot(height="62vh", label=reply("ui_label_chat"), feedback_options=("Like",), elem_id="chat",
                              elem_classes=[] if on_space else ["no-share"],
                              group_consecutive_messages=False, examples=view.example_requests(),
                              buttons=view.chat_buttons(on_space))
    with gr.Row(elem_id="input-row"):
        # A message, and a clip to follow (uploaded or recorded): assistant.music.clips reads it
        c["box"] = gr.MultimodalTextbox(placeholder=reply("ui_placeholder"), scale=5, show_label=False,
                                        elem_id="message", min_width=120, lines=1, max_lines=4,
                                        sources=["upload", "microphone"], file_types=["audio"],
                                        file_count="single", submit_btn=False, stop_btn=False)
        c["send"] = gr.Button(reply("ui_label_send"), variant="primary", scale=0, min_width=64, elem_id="send")
        c["stop_btn"] = gr.Button(reply("ui_label_stop"), variant="stop", scale=0, min_width=64, elem_id="stop",
                                  interactive=False)


def _brief_column(c: dict[str, Any], config: AppConfig, can_stream: bool) -> None:
    c["brief_panel"] = gr.Markdown(view.brief_markdown(None), elem_id="brief")
    with gr.Accordion(reply("ui_label_edit_brief"), open=False):
        c["genre"] = gr.Textbox(label=reply("ui_label_genre"), elem_id="edit-genre")
        c["bpm"] = gr.Number(label=reply("ui_label_bpm"), value=None, minimum=limits.BPM_MIN,
                             maximum=limits.BPM_MAX, precision=0, elem_id="edit-bpm")
        for axis, values in (("brightness", ["dark", "balanced", "bright"]), ("width", ["narrow", "balanced", "wide"]),
                             ("space", ["dry", "balanced", "reverberant"])):
            c[axis] = gr.Dropdown(["", *values], label=reply(f"ui_label_{axis}"), elem_id=f"edit-{axis}")
        c["apply"] = gr.Button(reply("ui_label_apply"), elem_id="apply")
    c["prompt"] = gr.Textbox(label=reply("ui_label_prompt"), interactive=False, buttons=["copy"])
    c["live"] = gr.Audio(label=reply("ui_label_live"), streaming=True, autoplay=True, interactive=False,
                         elem_id="live", visible=can_stream and config.music.startswith("musicgen"))
    c["files"] = gr.File(label=reply("ui_label_files"), file_count="multiple", interactive=False)
    with gr.Accordion(reply("ui_label_rounds"), open=False):
        c["rounds"] = gr.Markdown(view.rounds_panel(None), elem_id="rounds", sanitize_html=False)
    with gr.Accordion(reply("ui_label_settings"), open=False):
        c["in_use"] = gr.Markdown(view.backends_text(None, config.llm, config.music), elem_id="in-use")
        c["llm"] = gr.Dropdown(config.llm_choices(), value=config.llm, label=reply("ui_label_llm"))
        c["music"] = gr.Dropdown(config.music_choices(), value=config.music, label=reply("ui_label_music"))
        c["takes"] = gr.Slider(1, limits.MAX_TAKES, value=config.takes, step=1, label=reply("ui_label_takes"),
                               elem_id="takes")
        c["duration"] = gr.Slider(limits.DURATION_MIN_S, limits.DURATION_MAX_S, value=config.duration_s,
                                  step=1, label=reply("ui_label_seconds"), elem_id="duration")


def _wire(app: ChatApp, c: dict[str, Any], demo: gr.Blocks) -> None:
    """The events. Every one that can generate shares one concurrency group: the limit is for the
    whole app, not per handler (assistant.music also holds a process-wide semaphore for API callers)."""
    inputs = [c[k] for k in ("session_state", "llm", "music", "takes", "duration")]
    # The API's outputs start as before (message box, chat, brief, prompt, files); the live preview stays last.
    app.outs.extend(c[k] for k in ("box", "chatbot", "session_state", "brief_panel", "prompt", "files", "genre", "bpm",
                                   "brightness", "width", "space", "takes", "duration", "in_use", "saved", "rounds",
                                   "stop_btn"))
    outs, outs_live = app.outs, [*app.outs, c["live"]]
    generating = dict(concurrency_id="generation", concurrency_limit=concurrent_generations(), show_progress="hidden")
    instant = dict(queue=False, show_progress="hidden", api_name=False, trigger_mode="multiple")
    api_chat = gr.Button(visible=False)  # API clients' /chat: one message in, the turn's redraws out
    api_message = gr.Textbox(visible=False)
    api_chat.click(app.respond, [api_message, *inputs], outs_live, api_name="chat", **generating)
    form = [c[k] for k in ("genre", "bpm", "brightness", "width", "space")]
    # What a user does is taken in at once (never queued behind a round), then runs in its turn.
    for taken in (c["box"].submit(app.take_in, [c["box"], *inputs], outs, **instant),
                  c["send"].click(app.take_in, [c["box"], *inputs], outs, **instant),
                  c["chatbot"].option_select(app.pick_option, inputs, outs, **instant),
                  c["chatbot"].example_select(app.pick_example, inputs, outs, **instant),
                  c["chatbot"].like(app.liked, inputs, outs, **instant),
                  c["apply"].click(app.edit_brief, [*form, *inputs], outs, **instant)):
        taken.then(app.drain, inputs, outs_live, api_name=False, trigger_mode="multiple", **generating)
    for slider in (c["takes"], c["duration"]):
        slider.release(app.moved, inputs, outs_live, api_name=False, show_progress="hidden")
    c["stop_btn"].click(app.stop, c["session_state"], None, api_name=False, queue=False)
    confirmed = gr.Checkbox(value=True, visible=False)
    c["chatbot"].clear(app.clear, [c["session_state"], confirmed], outs_live, api_name=False, queue=False,
                       js=f"(conv, ok) => [conv, window.confirm({json.dumps(reply('ui_confirm_clear'))})]")
    demo.load(app.restore, c["saved"], outs_live, api_name=False)


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
