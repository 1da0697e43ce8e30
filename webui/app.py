"""The MusicBrief web app: chat with clickable options and inline takes, the brief beside it."""
from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
from functools import partial
from typing import Any, Iterator, Optional

import gradio as gr
from starlette.middleware import Middleware

from assistant import limits
from assistant.config import AppConfig, load_config
from assistant.services import SharedServices, musicgen_weights_present
from assistant.musicgen import estimate_gpu_seconds
from webui.api_guard import MalformedRequestGuard
from webui.conversation import Conversation
from webui import view
from webui.zerogpu import on_gpu

log = logging.getLogger(__name__)
TITLE = "MusicBrief"
INTRO = ("Describe a song in your own words. I ask at most two short questions, then send a precise "
         "prompt to MusicGen. After a round: *make it darker*, *a bit faster*, *more variations*, *keep 2*.")


def backend_notice(config: AppConfig) -> str:
    if config.music.startswith("musicgen") and not musicgen_weights_present(config.music):
        return ("**Notice:** MusicGen weights are not on this machine, so takes come from the built-in "
                "**sketch synthesiser** until they are (see the README).")
    if config.music == "sketch":
        return "**Notice:** takes come from the built-in **sketch synthesiser**, not MusicGen."
    return ""


def gpu_seconds(message: str, conv: Any, llm: str, music: str, takes: float, duration: float, *_: Any,
                **__: Any) -> float:
    """ZeroGPU lease for one turn (same arguments as the chat handler), from the measured speed of the
    GPU's default decode path (CUDA graphs)."""
    return estimate_gpu_seconds(takes, duration)


def build_demo(config: Optional[AppConfig] = None) -> gr.Blocks:
    config = config or load_config()
    services = SharedServices(config)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths([str(config.output_dir.resolve())])  # takes are served in place, never copied to Gradio's cache
    music_choices = sorted({config.music, "sketch", "musicgen"})

    def session_for(conv: Optional[Conversation], llm: str, music: str, takes: int, duration: float) -> Conversation:
        """This browser session's conversation; the chat history lives here, server-side, so API clients
        never have to send it back."""
        llm, music = llm or config.llm, music or config.music  # an API client may send null
        session = conv.session if conv else None
        if session is None or session.state.settings.llm != llm or session.state.settings.music != music:
            fresh = services.new_session(llm=llm, music=music, takes=takes, duration_s=duration)
            if session is not None:  # a new backend keeps the conversation so far
                fresh.state = session.state.model_copy(update={"settings": fresh.state.settings})
            session = fresh
        session.apply_settings(takes, duration)
        if conv is None:
            return Conversation(session)
        conv.session = session
        return conv

    def outputs(conv: Optional[Conversation]) -> list[Any]:
        session, history = (conv.session, conv.history) if conv else (None, [])
        current, previous = view.round_takes(session, 1), view.round_takes(session, 2)
        audio = [gr.Audio(value=p, label=label or f"take {i + 1}", visible=p is not None)
                 for i, (p, label) in enumerate(current)]
        keep = [gr.Button(visible=p is not None) for p, _ in current]
        before = [gr.Audio(value=p, label=label or "", visible=p is not None) for p, label in previous]
        return [view.visible_history(history), conv, view.brief_markdown(session), view.last_prompt(session),
                view.downloads(session) or None, *audio, *keep, *before]

    @on_gpu(gpu_seconds)
    def respond(message: str, conv: Optional[Conversation], llm: str, music: str,
                takes: int, duration: float, progress: gr.Progress = gr.Progress()) -> Iterator[list[Any]]:
        """Runs the turn in a worker thread so the opening seconds of take 1 stream to the live
        preview while the rest is generated; progress is reported from this (the event's) thread."""
        conv = session_for(conv, llm, music, takes, duration)
        events: queue.Queue = queue.Queue()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["record"] = conv.session.send(
                    message or "", progress=lambda f, label: events.put(("progress", (f, label))),
                    on_chunk=lambda chunks: events.put(("audio", chunks[0])))
            except Exception:  # never a traceback in the chat; the conversation so far stays
                log.exception("turn failed")
            finally:
                events.put(("done", None))

        threading.Thread(target=work, daemon=True).start()
        streamed = False
        while True:
            kind, payload = events.get()
            if kind == "done":
                break
            if kind == "progress":
                progress(payload[0], desc=payload[1])
            elif can_stream:
                streamed = True
                rate = getattr(getattr(conv.session.music, "model", None), "sample_rate", 32000)
                yield [gr.skip()] * len(outs) + [(rate, payload)]
        if "record" not in result:
            gr.Warning("Something went wrong with that message; your conversation and takes are unchanged.")
            yield ["", *outputs(conv), gr.skip()]
            return
        conv.take_at = view.take_numbers(len(conv.history), result["record"])  # likes keep this round's takes
        conv.history = conv.history + view.chat_messages(result["record"])
        yield ["", *outputs(conv), gr.skip() if streamed else None]

    def pick_option(evt: gr.SelectData, *args: Any) -> Iterator[list[Any]]:
        yield from respond(str(evt.value), *args)

    def liked(evt: gr.LikeData, conv: Optional[Conversation], *rest: Any) -> Iterator[list[Any]]:
        """A like on a take's message keeps that take, as if the user had typed 'keep N'."""
        number = conv.take_at.get(evt.index) if conv is not None and isinstance(evt.index, int) else None
        if not evt.liked or number is None:
            yield ["", *outputs(conv), gr.skip()]
            return
        yield from respond(f"keep {number}", conv, *rest)

    def edit_brief(genre: str, bpm: Optional[float], brightness: str, width: str, space: str) -> str:
        """Editing a control is the same as saying it: the edit becomes a chat message."""
        words = [genre.strip()] if genre and genre.strip() else []
        if bpm:
            words.append(f"{int(bpm)} bpm")
        for value, axis in ((brightness, "brightness"), (width, "width"), (space, "space")):
            if value:
                words.append(value if value != "balanced" else f"balanced {axis}")
        return ", ".join(words)

    def stop(conv: Optional[Conversation]) -> None:
        if conv is not None:
            conv.session.cancel.set()

    outs: list[Any] = []  # filled once the components exist; respond() only needs its length
    can_stream = shutil.which("ffmpeg") is not None  # Gradio encodes streamed audio with ffmpeg
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        gr.Markdown(backend_notice(config))
        session_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(height=560, label="Chat", feedback_options=("Like",), elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(placeholder="e.g. a dreamy synthwave track for a night drive", scale=5,
                                     show_label=False, elem_id="message")
                    send = gr.Button("Send", variant="primary", scale=1)
                    stop_btn = gr.Button("Stop", variant="stop", scale=1)
            with gr.Column(scale=2):
                brief_panel = gr.Markdown(view.brief_markdown(None), elem_id="brief")
                with gr.Accordion("Edit the brief", open=False):
                    genre = gr.Textbox(label="Genre")
                    bpm = gr.Number(label="BPM", minimum=40, maximum=220, precision=0)
                    brightness = gr.Dropdown(["", "dark", "balanced", "bright"], label="Brightness")
                    width = gr.Dropdown(["", "narrow", "balanced", "wide"], label="Width")
                    space = gr.Dropdown(["", "dry", "balanced", "reverberant"], label="Space")
                    apply = gr.Button("Apply")
                prompt = gr.Textbox(label="Prompt sent to MusicGen", interactive=False, buttons=["copy"])
                live = gr.Audio(label="Live preview of take 1 (streams while generating)", streaming=True,
                                autoplay=True, interactive=False, elem_id="live",
                                visible=can_stream and config.music.startswith("musicgen"))
                gr.Markdown("### This round")
                current_audio, keep_buttons = [], []
                with gr.Row():
                    for i in range(view.MAX_TAKES):
                        with gr.Column(min_width=120):
                            current_audio.append(gr.Audio(visible=False, interactive=False, buttons=["download"]))
                            keep_buttons.append(gr.Button(f"Keep {i + 1}", size="sm", visible=False))
                with gr.Accordion("Previous round (A/B)", open=False):
                    with gr.Row():
                        previous_audio = [gr.Audio(visible=False, interactive=False) for _ in range(view.MAX_TAKES)]
                files = gr.File(label="Download WAVs", file_count="multiple", interactive=False)
                with gr.Accordion("Settings", open=False):
                    llm = gr.Dropdown(sorted({config.llm, "off", "embedded"}), value=config.llm, label="Language model")
                    music = gr.Dropdown(music_choices, value=config.music, label="Music model")
                    takes = gr.Slider(1, 4, value=config.takes, step=1, label="Takes per round")
                    duration = gr.Slider(2, 60, value=config.duration_s, step=1, label="Seconds per take")

        inputs = [session_state, llm, music, takes, duration]
        outs.extend([box, chatbot, session_state, brief_panel, prompt, files, *current_audio, *keep_buttons,
                     *previous_audio])
        outs_live = [*outs, live]
        # Every event that can generate shares one concurrency group: the limit is for the whole app,
        # not per handler (assistant.music also holds a process-wide semaphore for API callers).
        generating = dict(concurrency_id="generation", concurrency_limit=limits.MAX_CONCURRENT_GENERATIONS)
        events = [box.submit(respond, [box, *inputs], outs_live, api_name="chat", **generating),
                  send.click(respond, [box, *inputs], outs_live, api_name=False, **generating),
                  chatbot.option_select(pick_option, inputs, outs_live, api_name=False, **generating),
                  chatbot.like(liked, inputs, outs_live, api_name=False, **generating)]
        for i, button in enumerate(keep_buttons):
            events.append(button.click(partial(respond, f"keep {i + 1}"), inputs, outs_live, api_name=False,
                                       **generating))
        events.append(apply.click(edit_brief, [genre, bpm, brightness, width, space], box, api_name=False)
                      .then(respond, [box, *inputs], outs_live, api_name=False, **generating))
        stop_btn.click(stop, session_state, None, cancels=events, api_name=False)
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
        app_kwargs={"middleware": [Middleware(MalformedRequestGuard)]})
