"""Controls set outside the chat (the web app's sliders), applied as if the user had said them."""
from __future__ import annotations

import math
from typing import Any, Optional

from assistant.brief import LEAF_PATHS, with_value
from assistant.limits import DURATION_MAX_S, DURATION_MIN_S, MAX_TAKES
from assistant.state import State


def set_by_user(state: State, takes: Optional[Any] = None, duration_s: Optional[Any] = None) -> State:
    """A new state with the takes per round and the length the user chose; they hold (and show in
    bold) until the user changes them. Values out of range or unreadable are ignored."""
    state = state.model_copy(deep=True)
    count = _number(takes)
    if count is not None and count == int(count) and 1 <= count <= MAX_TAKES:
        state.settings.takes = int(count)
        state.said_settings = sorted({*state.said_settings, "takes"})
    seconds = _number(duration_s)
    if seconds is not None and DURATION_MIN_S <= seconds <= DURATION_MAX_S:
        state.brief = with_value(state.brief, "duration_s", seconds)
        state.user_paths = [p for p in LEAF_PATHS if p in state.user_paths or p == "duration_s"]
        state.filled_paths = [p for p in state.filled_paths if p != "duration_s"]
    return state


def _number(value: Any) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
