"""Pure translation from a conversation to what the page shows: chat messages, brief, form, settings."""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote
from typing import Any, Optional

import gradio as gr
from gradio.components.chatbot import ComponentMessage
from gradio.data_classes import FileData

from assistant import limits
from assistant.wording import label, panel_label
from assistant.actions import Say
from assistant.brief import PANEL_GROUPS, get_path
from assistant.wording import describe_value
from assistant.takes import Take
from assistant.app.session import Session, Turn
from assistant.wording import reply, reply_list

MAX_HISTORY_MESSAGES = limits.MAX_HISTORY_MESSAGES


def take_label(take: Take, number: int, kept: bool = False) -> str:
    """'take 2 · seed 184467 · 125 BPM' (and 'sketch' when the built-in synthesiser made it, and
    what a clip the user sent did: the take follows its melody, or starts with it)."""
    bpm = take.analysis.bpm if take.analysis else None
    return reply("ui_take_label", number=number, seed=take.seed, bpm=f"{bpm:g}" if bpm else "",
                 sketch=take.sketch, kept=kept, clip=take.clip or "")


MARKDOWN_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*([^)\s]*)[^)]*\)")


def safe_text(text: str) -> str:
    """Text for the chat, escaped once here: no HTML tag can open ("<" shown as text), everything
    else left as written, so API clients read "it's", "r&b" and "intro > outro" and not entities.
    Images are never loaded, whatever their markdown form (inline, in a link, by reference), and
    links go only to http(s): an inline http(s) link stays, with its label escaped; every other
    bracket is escaped, so no reference-style link or image can form."""
    escaped = text.replace("<", "&lt;")
    links: list[str] = []

    def brackets(part: str) -> str:
        return part.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")  # then no "![" is an image

    def link(m: re.Match) -> str:
        image, label_text, target = m.groups()
        if image or not re.match(r"https?://", target, re.I):
            return brackets(f"{label_text} ({target})" if target else label_text)
        links.append(f"[{brackets(label_text)}]({target})")
        return f"\x00{len(links) - 1}\x00"

    out = brackets(MARKDOWN_LINK.sub(link, escaped.replace("\x00", "")))
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], out)


def kept_takes(session: Optional[Session]) -> set[tuple[int, int]]:
    """The kept take as (round, number): the kept seed in the latest round that has it (the mark
    moves with an edit that plays the kept seed again)."""
    if session is None or session.state.kept_seed is None:
        return set()
    for rnd in reversed(session.state.rounds):
        for take in session.state.takes_of(rnd.number):
            if take.seed == session.state.kept_seed:
                return {(rnd.number, take.number)}
    return set()


def message_parts(message: Any) -> Optional[Say]:
    """What the message box sent ({"text", "files"}, or text from an API client) as one Say; None
    when it holds nothing. Only the first file counts: one clip per message."""
    if isinstance(message, dict):
        text = str(message.get("text") or "")
        files = [f.get("path") if isinstance(f, dict) else f for f in (message.get("files") or [])]
        clip = next((str(f) for f in files if f), None)
    else:
        text, clip = (message if isinstance(message, str) else str(message or "")), None
    return Say(text=text, clip=clip, upload=clip is not None) if text.strip() or clip else None


def example_requests() -> list[dict[str, str]]:
    """The empty chat's clickable examples (prompts/replies.yaml)."""
    return [{"text": text} for text in reply_list("ui_examples")]


def chat_buttons(on_space: bool) -> list[str]:
    """The chat's own buttons: sharing works only on a Space, so locally there is none."""
    return ["copy", "share"] if on_space else ["copy"]


def find_take(session: Optional[Session], round_number: int, number: int) -> Optional[Take]:
    takes = session.state.takes_of(round_number) if session else []
    return takes[number - 1] if 1 <= number <= len(takes) else None


def chat_messages(record: Turn, kept: frozenset = frozenset(),
                  session: Optional[Session] = None) -> list[gr.ChatMessage]:
    """One turn: the user's words (escaped), a one- or two-line reply, its details folded, then one
    message per take (own player, download and 👍). The options go under the turn's last message;
    Gradio shows them only under the conversation's last one, so older turns keep theirs (a chat
    that only grows streams as small diffs, which gradio_client applies correctly). A reply that
    points at takes ("play take 1", "compare") shows them: one player, or two side by side."""
    messages = [gr.ChatMessage(role="user", content=safe_text(record.user))]
    options = [{"label": o, "value": o} for o in record.options]
    summary = record.summary or record.reply
    shown = [(ref, find_take(session, ref.round, ref.number)) for ref in record.shows]
    shown = [(ref, take) for ref, take in shown if take is not None and take.path]
    messages.append(gr.ChatMessage(role="assistant", content=safe_text(summary),
                                   options=[] if record.takes or shown else options))
    if record.details:
        messages.append(gr.ChatMessage(role="assistant", content=safe_text("\n\n".join(record.details)),
                                       metadata={"title": reply("ui_details_title"), "status": "done"}))
    if len(shown) == 1:
        ref, take = shown[0]
        messages.append(gr.ChatMessage(role="assistant", options=options, content=take_player(
            take.path, take_label(take, ref.number, (ref.round, ref.number) in kept), take=take, round_number=ref.round)))
    elif len(shown) == 2:
        messages.append(gr.ChatMessage(role="assistant", options=options, content=side_by_side(session, shown, kept)))
    for number, take in enumerate(record.takes, start=1):
        is_last = number == len(record.takes)
        content = take_player(take.path, take_label(take, number, (record.round, number) in kept), take=take,
                              round_number=record.round or 0)
        messages.append(gr.ChatMessage(role="assistant", options=options if is_last else [], content=content))
    return messages


def file_url(path: str) -> str:
    """Where Gradio serves a take in place (the outputs folder is a static path)."""
    return "/gradio_api/file=" + quote(str(Path(path).resolve()))


def side_by_side(session: Optional[Session], shown: list[tuple[Any, Take]], kept: set[tuple[int, int]]) -> str:
    """'compare': two players next to each other, each with its seed and what only its prompt says."""
    prompts = [set(_phrases(_round_prompt(session, ref.round))) for ref, _ in shown]
    cells = []
    for i, (ref, take) in enumerate(shown):
        only = [p for p in _phrases(_round_prompt(session, ref.round)) if p not in prompts[1 - i]]
        caption = reply("ui_compare_side", number=ref.number, round=session.state.round_position(ref.round) if session else ref.round,
                        seed=take.seed, kept=(ref.round, ref.number) in kept, only=html.escape(", ".join(only)))
        cells.append(f'<div class="compare-side"><p>{caption}</p><audio controls preload="none" '
                     f'src="{html.escape(file_url(take.path))}"></audio></div>')
    return f'<div class="compare">{"".join(cells)}</div>'


def _round_prompt(session: Optional[Session], number: int) -> str:
    rnd = next((r for r in session.state.rounds if r.number == number), None) if session else None
    return rnd.prompt if rnd else ""


def _phrases(prompt: str) -> list[str]:
    return [p.strip() for p in re.split(r"[.,;]", prompt) if p.strip()]


# A take player's settings, read once at import (outside any event, where Gradio builds components).
PLAYER_PROPS = gr.Audio(buttons=["download"], render=False).get_config()


def take_player(path: str, label_text: str, take: Optional[Take] = None, round_number: int = 0) -> ComponentMessage:
    """A take's player with its label and download button, built directly: through gr.Audio,
    Gradio probes the file with ffprobe each time a reply re-sends the chat (0.1 s per take, 4 s
    per turn at 40 takes). Our WAVs are 16-bit PCM, which every browser plays. The download is
    named take first ('take2-seed184467-round03.wav'), so a phone's shortened name stays readable."""
    name = Path(path).name if take is None else download_name(take, round_number)
    value = FileData(path=path, orig_name=name, mime_type="audio/wav").model_dump()
    args = {"label": label_text, "buttons": ["download"]}
    return ComponentMessage(component="audio", value=value, constructor_args=args,
                            props={**PLAYER_PROPS, **args, "value": value})


def download_name(take: Take, round_number: int) -> str:
    kind = "sketch" if take.sketch else "take"
    return f"{kind}{take.number}-seed{take.seed}-round{round_number:02d}.wav"


def player_path(content: Any) -> Optional[str]:
    """The file behind a take's player in the chat (take_player), or None for any other message."""
    if isinstance(content, ComponentMessage) and content.component == "audio":
        return content.value.get("path")
    return None


def chat_history(turns: list[Turn], session: Optional[Session]) -> tuple[list[Any], dict[int, tuple[int, int]]]:
    """The whole chat, rebuilt from the turn records (the kept mark moves when another take is
    kept), and chat index -> (round, take number) for a 👍 on a take."""
    kept = kept_takes(session)
    history: list[Any] = []
    takes_at: dict[int, tuple[int, int]] = {}
    for record in turns:
        messages = chat_messages(record, kept, session)
        first_take = len(history) + len(messages) - len(record.takes)
        for number in range(1, len(record.takes) + 1):
            takes_at[first_take + number - 1] = (record.round or 0, number)
        if len(record.shows) == 1:  # "play take 1": its player has a 👍 too
            ref = record.shows[0]
            takes_at[first_take - 1] = (ref.round, ref.number)
        history += messages
    return history, takes_at


def in_flight(session: Optional[Session], status: str) -> list[gr.ChatMessage]:
    """The turn that runs (its words and what is happening) and the turns that wait behind it."""
    if session is None:
        return []
    running = session.running
    out = pending_messages(session.user_text(running), status) if running is not None else []
    for action in session.waiting:
        out += pending_messages(session.user_text(action), reply("ui_waiting"))
    return out


def pending_messages(message: str, status: str) -> list[gr.ChatMessage]:
    """What shows the moment a message is sent: the user's words and a line that says what is happening."""
    return [gr.ChatMessage(role="user", content=safe_text(message)),
            gr.ChatMessage(role="assistant", content=status)]


def progress_text(fraction: float, label_text: str, eta_s: Optional[float] = None) -> str:
    """'take 1 of 2 · 40% · about 12 s left'."""
    eta = f"{max(1, round(eta_s))}" if eta_s is not None and eta_s >= 1 else ""
    return reply("ui_progress", what=label_text, percent=int(round(100 * max(0.0, min(1.0, fraction)))), eta=eta)


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
    for control, paths in PANEL_GROUPS.items():
        cells = []
        for path in paths:
            value = get_path(state.brief, path)
            if value in (None, []):
                continue
            text = safe_text(describe_value(value))
            name = panel_label(path)
            if path in state.user_paths:
                cells.append(f"{name}: **{text}**")
            elif path in state.inferred_paths:
                cells.append(f"{name}: *{text}* ({reply('ui_inferred')})")
            elif path in state.filled_paths:
                cells.append(f"{name}: *{text}* ({reply('ui_default')})")
            else:
                cells.append(f"{name}: {text}")
        lines.append(f"**{panel_label('control.' + control)}** · {' · '.join(cells) or '-'}")
    return "\n\n".join(lines) + f"\n\n<small>{reply('ui_brief_legend')}</small>"


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
    takes = [session.state.takes_of(r.number) for r in session.state.rounds] if session else []
    last = next((t for t in reversed(takes) if t), [])
    return [t.path for t in last if t.path and Path(t.path).exists()]


def rounds_panel(session: Session | None) -> str:
    """Every round of the conversation, newest first: its change, its takes (kept marked), each a link."""
    rounds = [(r, session.state.takes_of(r.number)) for r in (session.state.rounds if session else [])]
    rounds = [(r, takes) for r, takes in rounds if takes]
    if not rounds:
        return reply("ui_no_rounds")
    kept = kept_takes(session)
    lines = []
    for position, (rnd, takes) in reversed(list(enumerate(rounds, start=1))):
        links = []
        for take in takes:
            text = take_label(take, take.number, (rnd.number, take.number) in kept)
            if take.path and Path(take.path).exists():
                links.append(f'<a href="{html.escape(file_url(take.path))}" download="{download_name(take, rnd.number)}">'
                             f"{html.escape(text)}</a>")
            else:
                links.append(reply("ui_expired", label=html.escape(text)))
        lines.append(reply("ui_round_line", number=position, takes=" · ".join(links)))
    return "\n\n".join(lines)


def last_prompt(session: Session | None) -> str:
    """What the last round sends MusicGen, as the round records it: one prompt, or one per window
    of a longer piece, and what guidance steers away from."""
    if session is None or not session.state.rounds:
        return ""
    rnd = session.state.rounds[-1]
    lines = [rnd.prompt] if len(rnd.windows) < 2 else [
        reply("ui_window_prompt", number=i, section=w.section or "", seconds=f"{w.seconds:.0f}", prompt=w.prompt)
        for i, w in enumerate(rnd.windows, start=1)]
    if rnd.negative_prompt:
        lines.append(reply("ui_negative_prompt", negative=rnd.negative_prompt))
    return "\n".join(lines)
