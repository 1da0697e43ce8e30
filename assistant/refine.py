"""A prompt coach without questions: request in, complete brief and MusicGen prompt out."""
from __future__ import annotations

from typing import Optional

from assistant.brief import MusicBrief
from assistant.inference import from_references
from assistant.reading import read_and_extract
from assistant.fill import fill_gaps
from assistant.render import render_prompt
from assistant.state import State
from assistant.understand import Understanding
from assistant.update import apply_extraction


def refine(request: str, understand: Optional[Understanding] = None, seed: int = 0) -> tuple[MusicBrief, str, list[str]]:
    """The filled brief, its prompt, and notices about anything refused."""
    _, text, ex = read_and_extract(request)
    ex = from_references(ex)
    if understand is not None:
        ex, _ = understand.enrich(State(), text, ex, {"request"})  # a prompt coach's input is a request
    update = apply_extraction(MusicBrief(), ex)
    brief, _ = fill_gaps(update.brief, seed=seed)
    return brief, render_prompt(brief), update.notices
