"""Where the product's words and vocabularies live: the one spelling of the prompts folder.

It imports nothing from the project, so every layer may ask it for a path without a circle."""
from __future__ import annotations

from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
VOCAB_DIR = PROMPTS_DIR / "vocab"
REFERENCES_DIR = PROMPTS_DIR / "references"


def prompts_file(name: str) -> Path:
    """A file of prompts/ by its relative name ('replies.yaml', 'vocab/moods.yaml')."""
    return PROMPTS_DIR / name
