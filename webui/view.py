"""Pure translation from a conversation to what the page shows: chat messages, brief, takes."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import limits
from assistant.brief import describe_value, get_path
from assistant.session import Session, TurnRecord

MAX_TAKES = limits.MAX_TAKES
MAX_HISTORY_MESSAGES = limits.MAX_HISTORY_MESSAGES
EXPIRED = "{label}: expired (takes are kept for a while, then cleaned up; say 'more variations' or use its seed)"
CONTROL_PATHS = {
    "Style": ["style.genre", "style.mood"],
    "Tempo": ["tempo.bpm", "tempo.feel"],
    "Palette": ["palette.instruments", "palette.production"],
    "Structure": ["structure.sections"],
    "Mix": ["mix.brightness", "mix.width", "mix.space"],
    "Other": ["exclude", "duration_s", "seed"],
}


def take_label(take: dict[str, Any], number: int) -> str:
    """'take 2 · seed 184467 · 125 BPM' (and 'sketch' when the built-in synthesiser made it)."""
    parts = [f"take {number}", f"seed {take['seed']}"]
    analysis = take.get("analysis") or {}
    if analysis.get("bpm"):
        parts.append(f"{analysis['bpm']:g} BPM")
    if take.get("sketch"):
        parts.append("sketch")
    return " · ".join(parts)


MARKDOWN_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*([^)\s]*)[^)]*\)")


def safe_text(text: str) -> str:
    """Text for the chat, escaped once here: no HTML tag can open ("<" shown as text), everything
    else left as written, so API clients read "it's", "r&b" and "intro > outro" and not entities;
    images are never loaded and links go only to http(s)."""
    escaped = text.replace("<", "&lt;")

    def link(m: re.Match) -> str:
        image, label, target = m.groups()
        if image or not re.match(r"https?://", target, re.I):
            return f"{label} ({target})" if target else label
        return m.group(0)

    return MARKDOWN_LINK.sub(link, escaped)


def chat_messages(record: TurnRecord) -> list[gr.ChatMessage]:
    """One turn as chat messages: the user's words (escaped), the reply with options, one per take."""
    messages = [gr.ChatMessage(role="user", content=safe_text(record.user))]
    options = [{"label": o, "value": o} for o in record.options]
    messages.append(gr.ChatMessage(role="assistant", content=safe_text(record.reply), options=options))
    for number, take in enumerate(record.takes, start=1):  # a player per take, open in the chat
        messages.append(gr.ChatMessage(role="assistant", content=gr.Audio(
            value=take["path"], label=take_label(take, number), buttons=["download"])))
    return messages


def visible_history(history: list[Any]) -> list[Any]:
    """What is sent back to the browser: the last MAX_HISTORY_MESSAGES messages (each reply re-sends
    the history, so it must stay bounded), with takes whose files were cleaned up shown as expired
    instead of as players that fail."""
    shown = []
    for message in history[-MAX_HISTORY_MESSAGES:]:
        content = getattr(message, "content", None)
        path = getattr(content, "value", None) if isinstance(content, gr.Audio) else None
        if isinstance(path, dict):
            path = path.get("path")
        if path and not Path(str(path)).exists():
            label = getattr(content, "label", None) or "take"
            message = gr.ChatMessage(role="assistant", content=EXPIRED.format(label=label))
        shown.append(message)
    return shown


def take_numbers(history_length: int, record: TurnRecord) -> dict[int, int]:
    """Chat index -> take number for the messages chat_messages() appends after `history_length`."""
    first = history_length + 2  # the user's message and the reply come first
    return {first + i: i + 1 for i in range(len(record.takes))}


def brief_markdown(session: Session | None) -> str:
    """The five controls; what the user said in bold, what a genre profile filled in italics."""
    if session is None:
        return "*No brief yet: describe a song.*"
    state = session.state
    rows = ["| Control | Value |", "|---|---|"]
    for control, paths in CONTROL_PATHS.items():
        cells = []
        for path in paths:
            value = get_path(state.brief, path)
            if value in (None, []):
                continue
            text = safe_text(describe_value(value))
            leaf = path.split(".")[-1]
            if path in state.user_paths:
                cells.append(f"{leaf}: **{text}**")
            elif path in state.inferred_paths:
                cells.append(f"{leaf}: *{text}* (inferred)")
            elif path in state.filled_paths:
                cells.append(f"{leaf}: *{text}* (default)")
            else:
                cells.append(f"{leaf}: {text} (setting)")
        rows.append(f"| {control} | {'<br>'.join(cells) or '-'} |")
    return "\n".join(rows) + "\n\n**bold** = you said it · *italic* = inferred from what you named, or filled from the genre profile"


def round_takes(session: Session | None, back: int) -> list[tuple[str | None, str]]:
    """(path, label) for MAX_TAKES slots of the last round (back=1) or the one before (back=2)."""
    rounds = [r for r in (session.state.rounds if session else []) if r.takes]
    if len(rounds) < back:
        return [(None, "")] * MAX_TAKES
    takes = rounds[-back].takes
    slots = [(t.path, take_label(t.model_dump(), t.number)) for t in takes[:MAX_TAKES]]
    return slots + [(None, "")] * (MAX_TAKES - len(slots))


def downloads(session: Session | None) -> list[str]:
    rounds = [r for r in (session.state.rounds if session else []) if r.takes]
    return [t.path for t in rounds[-1].takes if t.path] if rounds else []


def last_prompt(session: Session | None) -> str:
    if session is None or not session.state.rounds:
        return ""
    return session.state.rounds[-1].prompt
