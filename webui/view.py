"""Pure translation from a conversation to what the page shows: chat messages, brief, form, settings."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import gradio as gr
from gradio.components.chatbot import ComponentMessage
from gradio.data_classes import FileData

from assistant import limits
from assistant.answers import label
from assistant.brief import describe_value, get_path
from assistant.music import Take
from assistant.session import Session, TurnRecord
from assistant.templates import reply

MAX_HISTORY_MESSAGES = limits.MAX_HISTORY_MESSAGES
CONTROL_PATHS = {
    "Style": ["style.genre", "style.influences", "style.key", "style.mood"],
    "Tempo": ["tempo.bpm", "tempo.feel"],
    "Palette": ["palette.instruments", "palette.production"],
    "Structure": ["structure.sections"],
    "Mix": ["mix.brightness", "mix.width", "mix.space"],
    "Other": ["theme", "exclude", "duration_s", "seed"],
}


def take_label(take: Take, number: int, kept: bool = False) -> str:
    """'take 2 · seed 184467 · 125 BPM' (and 'sketch' when the built-in synthesiser made it)."""
    bpm = take.analysis.bpm if take.analysis else None
    return reply("ui_take_label", number=number, seed=take.seed, bpm=f"{bpm:g}" if bpm else "",
                 sketch=take.sketch, kept=kept)


MARKDOWN_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*([^)\s]*)[^)]*\)")


def safe_text(text: str) -> str:
    """Text for the chat, escaped once here: no HTML tag can open ("<" shown as text), everything
    else left as written, so API clients read "it's", "r&b" and "intro > outro" and not entities;
    images are never loaded and links go only to http(s)."""
    escaped = text.replace("<", "&lt;")

    def link(m: re.Match) -> str:
        image, label_text, target = m.groups()
        if image or not re.match(r"https?://", target, re.I):
            return f"{label_text} ({target})" if target else label_text
        return m.group(0)

    return MARKDOWN_LINK.sub(link, escaped)


def kept_paths(session: Optional[Session]) -> set[str]:
    """The kept take's file: the kept seed in the latest round that has it."""
    if session is None or session.state.kept_seed is None:
        return set()
    for rnd in reversed(session.state.rounds):
        for take in rnd.takes:
            if take.seed == session.state.kept_seed and take.path:
                return {take.path}
    return set()


def chat_messages(record: TurnRecord, kept: set[str] = frozenset()) -> list[gr.ChatMessage]:
    """One turn: the user's words (escaped), a one- or two-line reply, its details folded, then one
    message per take (own player, download and 👍). The options go under the turn's last message;
    Gradio shows them only under the conversation's last one, so older turns keep theirs (a chat
    that only grows streams as small diffs, which gradio_client applies correctly)."""
    messages = [gr.ChatMessage(role="user", content=safe_text(record.user))]
    options = [{"label": o, "value": o} for o in record.options]
    summary = record.summary or record.reply
    messages.append(gr.ChatMessage(role="assistant", content=safe_text(summary),
                                   options=[] if record.takes else options))
    if record.details:
        messages.append(gr.ChatMessage(role="assistant", content=safe_text("\n\n".join(record.details)),
                                       metadata={"title": reply("ui_details_title"), "status": "done"}))
    for number, take in enumerate(record.takes, start=1):
        is_last = number == len(record.takes)
        content = take_player(take.path, take_label(take, number, take.path in kept))
        messages.append(gr.ChatMessage(role="assistant", options=options if is_last else [], content=content))
    return messages


# A take player's settings, read once at import (outside any event, where Gradio builds components).
PLAYER_PROPS = gr.Audio(buttons=["download"], render=False).get_config()


def take_player(path: str, label_text: str) -> ComponentMessage:
    """A take's player with its label and download button, built directly: through gr.Audio,
    Gradio probes the file with ffprobe each time a reply re-sends the chat (0.1 s per take, 4 s
    per turn at 40 takes). Our WAVs are 16-bit PCM, which every browser plays."""
    value = FileData(path=path, orig_name=Path(path).name, mime_type="audio/wav").model_dump()
    args = {"label": label_text, "buttons": ["download"]}
    return ComponentMessage(component="audio", value=value, constructor_args=args,
                            props={**PLAYER_PROPS, **args, "value": value})


def player_path(content: Any) -> Optional[str]:
    """The file behind a take's player in the chat (take_player), or None for any other message."""
    if isinstance(content, ComponentMessage) and content.component == "audio":
        return content.value.get("path")
    return None


def chat_history(turns: list[TurnRecord], session: Optional[Session]) -> tuple[list[Any], dict[int, tuple[int, int]]]:
    """The whole chat, rebuilt from the turn records (the kept mark moves when another take is
    kept), and chat index -> (round, take number) for a 👍 on a take."""
    kept = kept_paths(session)
    history: list[Any] = []
    takes_at: dict[int, tuple[int, int]] = {}
    for record in turns:
        messages = chat_messages(record, kept)
        first_take = len(history) + len(messages) - len(record.takes)
        for number in range(1, len(record.takes) + 1):
            takes_at[first_take + number - 1] = (record.round or 0, number)
        history += messages
    return history, takes_at


def pending_messages(message: str, status: str) -> list[gr.ChatMessage]:
    """What shows the moment a message is sent: the user's words and a line that says what is happening."""
    return [gr.ChatMessage(role="user", content=safe_text(message)),
            gr.ChatMessage(role="assistant", content=status)]


def progress_text(fraction: float, label_text: str) -> str:
    """'take 1 of 2 · 40%'."""
    return reply("ui_progress", what=label_text, percent=int(round(100 * max(0.0, min(1.0, fraction)))))


def visible_history(history: list[Any], start: Optional[int] = None) -> tuple[list[Any], int]:
    """What is sent back to the browser: the last MAX_HISTORY_MESSAGES messages (each reply re-sends
    the history, so it must stay bounded), with takes whose files were cleaned up shown as expired
    instead of as players that fail. Also returns how many messages were left off the front.

    `start` holds the window still during one turn: Gradio streams a turn's updates as diffs, and
    gradio_client mis-applies a diff that deletes list items in several places (a sliding window
    does), so within a turn the chat only grows; it may pass the bound by one turn's messages."""
    shown = []
    dropped = max(0, len(history) - MAX_HISTORY_MESSAGES) if start is None else min(start, len(history))
    for message in history[dropped:]:
        content = getattr(message, "content", None)
        path = player_path(content)
        if path and not Path(path).exists():
            take = content.constructor_args.get("label") or "take"
            message = gr.ChatMessage(role="assistant", content=reply("ui_expired", label=take))
        shown.append(message)
    return shown, dropped


def brief_markdown(session: Session | None) -> str:
    """The five controls with human names; what the user said in bold, what was inferred or filled
    from the genre profile in italics."""
    if session is None:
        return reply("ui_no_brief")
    state = session.state
    lines = []
    for control, paths in CONTROL_PATHS.items():
        cells = []
        for path in paths:
            value = get_path(state.brief, path)
            if value in (None, []):
                continue
            text = safe_text(describe_value(value))
            name = panel_name(path)
            if path in state.user_paths:
                cells.append(f"{name}: **{text}**")
            elif path in state.inferred_paths:
                cells.append(f"{name}: *{text}* ({reply('ui_inferred')})")
            elif path in state.filled_paths:
                cells.append(f"{name}: *{text}* ({reply('ui_default')})")
            else:
                cells.append(f"{name}: {text}")
        lines.append(f"**{control}** · {' · '.join(cells) or '-'}")
    return "\n\n".join(lines) + f"\n\n<small>{reply('ui_brief_legend')}</small>"


def panel_name(path: str) -> str:
    """'Genre', 'BPM', 'Stereo width': the brief panel's name for a field (prompts/labels.yaml)."""
    name = label(f"panel.{path}")
    name = label(path) if name == f"panel.{path}" else name
    return name[:1].upper() + name[1:]


def form_values(session: Session | None) -> tuple[str, Optional[float], str, str, str]:
    """The edit form, filled from the current brief (an empty BPM stays empty, never 0)."""
    if session is None:
        return "", None, "", "", ""
    brief = session.state.brief
    return (brief.style.genre or "", brief.tempo.bpm, brief.mix.brightness or "", brief.mix.width or "",
            brief.mix.space or "")


def slider_values(session: Session | None, takes: int, duration_s: float) -> tuple[int, float]:
    """The sliders follow the conversation: the takes and length it will use next."""
    if session is None:
        return takes, duration_s
    return session.state.settings.takes, session.state.brief.duration_s


def backends_text(session: Session | None, llm: str, music: str) -> str:
    """What actually runs, not only what was chosen: MusicGen without weights plays the sketch."""
    in_use = getattr(getattr(session, "music", None), "in_use", None) if session else None
    playing = in_use or ("off" if music in ("", "off") else music.split(":")[0])
    understand = "off" if session is not None and session.understand is None else llm
    return reply("ui_backends", music=reply(f"ui_music_{playing}") if playing in ("sketch", "musicgen", "off")
                 else playing, llm=understand)


def downloads(session: Session | None) -> list[str]:
    rounds = [r for r in (session.state.rounds if session else []) if r.takes]
    return [t.path for t in rounds[-1].takes if t.path and Path(t.path).exists()] if rounds else []


def last_prompt(session: Session | None) -> str:
    """What the last round sends MusicGen, as the round records it: one prompt, or one per window
    of a longer piece, and what guidance steers away from."""
    if session is None or not session.state.rounds:
        return ""
    rnd = session.state.rounds[-1]
    lines = [rnd.prompt] if len(rnd.windows) < 2 else [
        reply("ui_window_prompt", number=i, section=w.section or "", seconds=f"{w.seconds:g}", prompt=w.prompt)
        for i, w in enumerate(rnd.windows, start=1)]
    if rnd.negative_prompt:
        lines.append(reply("ui_negative_prompt", negative=rnd.negative_prompt))
    return "\n".join(lines)
