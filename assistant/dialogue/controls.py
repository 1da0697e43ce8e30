"""Takes per round and length set outside the chat: the web app's defaults, and the sliders the user
moves. Both are validated here the same way; what the user set (in words or with a slider) wins."""
from __future__ import annotations

import math
from typing import Any, Optional

from assistant.brief import with_value
from assistant.limits import DURATION_MAX_S, DURATION_MIN_S, MAX_TAKES
from assistant.dialogue.state import State


def set_by_user(state: State, takes: Optional[Any] = None, duration_s: Optional[Any] = None) -> State:
    """A new state with the takes per round and the length the user chose; they hold (and show in
    bold) until the user changes them. Values out of range or unreadable are ignored."""
    update: dict[str, Any] = {}
    count, seconds = _takes(takes), _seconds(duration_s)
    if count is not None:
        update["settings"] = state.settings.model_copy(update={"takes": count})
        update["said_settings"] = sorted({*state.said_settings, "takes"})
    if seconds is not None:
        update["brief"] = with_value(state.brief, "duration_s", seconds)
    changed = state.model_copy(update=update)
    if seconds is not None:
        changed.set_sources(["duration_s"], "said")
    return changed


def with_defaults(state: State, takes: Optional[Any] = None, duration_s: Optional[Any] = None) -> State:
    """A new state with the UI's defaults for what the user hasn't set; the length only until the
    first round (a round's length is the brief's from then on)."""
    update: dict[str, Any] = {}
    count, seconds = _takes(takes), _seconds(duration_s)
    if count is not None and "takes" not in state.said_settings:
        update["settings"] = state.settings.model_copy(update={"takes": count})
    if seconds is not None and "duration_s" not in state.user_paths and state.phase != "generated":
        update["brief"] = with_value(state.brief, "duration_s", seconds)
    return state.model_copy(update=update)


def _takes(value: Any) -> Optional[int]:
    count = _number(value)
    return int(count) if count is not None and count == int(count) and 1 <= count <= MAX_TAKES else None


def _seconds(value: Any) -> Optional[float]:
    seconds = _number(value)
    return seconds if seconds is not None and DURATION_MIN_S <= seconds <= DURATION_MAX_S else None


def _number(value: Any) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
