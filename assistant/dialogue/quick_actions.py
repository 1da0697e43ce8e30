"""The clickable next steps after a round (prompts/quick_actions.yaml): darker, faster, longer, ..."""
from __future__ import annotations

from functools import lru_cache

import yaml

from assistant.brief import MusicBrief, get_path
from assistant.resources import PROMPTS_DIR


@lru_cache(maxsize=1)
def _data() -> dict:
    return yaml.safe_load((PROMPTS_DIR / "quick_actions.yaml").read_text(encoding="utf-8"))


def quick_actions(brief: MusicBrief, remix: bool = False, takes: int = 2) -> list[str]:
    """Every action that would change something; after an instant re-mix, the full render first;
    'Compare' only when there are two takes to compare."""
    data = _data()
    redundant = data.get("redundant", {})
    needs_two = set(data.get("needs_two_takes", []))
    actions = [a for a in data["after_round"]
               if not any(get_path(brief, path) == value for path, value in redundant.get(a, {}).items())
               and (takes >= 2 or a not in needs_two)]
    return [*data["after_remix"], *actions] if remix else actions
