"""Human names for the brief's fields (prompts/labels.yaml): no slot path reaches a user."""
from __future__ import annotations

from functools import lru_cache

import yaml

from assistant.vocab import PROMPTS_DIR


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    return yaml.safe_load((PROMPTS_DIR / "labels.yaml").read_text(encoding="utf-8"))


def label(path: str) -> str:
    """'stereo width' for mix.width; a path with no name is shown as its last word, never dotted."""
    return _labels().get(path) or path.rsplit(".", 1)[-1].replace("_s", "").replace("_", " ")


def panel_label(path: str) -> str:
    """The brief panel's name ('Genre', 'BPM'), where the control's own name would repeat."""
    name = _labels().get(f"panel.{path}") or label(path)
    return name[:1].upper() + name[1:]
