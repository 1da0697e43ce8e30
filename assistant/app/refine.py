"""A prompt coach without questions: request in, complete brief and MusicGen prompt out."""
from __future__ import annotations

from typing import Optional

from assistant.brief import MusicBrief
from assistant.understanding.inference import from_references
from assistant.understanding.reading import read_and_extract
from assistant.dialogue.fill import fill_gaps
from assistant.prompt.render import render_prompt
from assistant.dialogue.state import State
from assistant.understanding.understand import Understanding
from assistant.dialogue.update import apply_extraction
from assistant.wording import say


def refine(request: str, understand: Optional[Understanding] = None, seed: int = 0) -> tuple[MusicBrief, str, list[str]]:
    """The filled brief, its prompt, and notices about anything refused."""
    _, text, ex = read_and_extract(request)
    ex = from_references(ex)
    if understand is not None:
        ex, _ = understand.enrich(State(), text, ex, {"request"})  # a prompt coach's input is a request
    update = apply_extraction(MusicBrief(), ex)
    brief, _ = fill_gaps(update.brief, seed=seed)
    return brief, render_prompt(brief), [say(f) for f in update.notices]
