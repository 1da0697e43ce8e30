"""Reply templates and LLM prompts, rendered strictly: a missing variable is a bug, not a blank."""
from __future__ import annotations

from functools import lru_cache

import yaml
from jinja2 import Environment, StrictUndefined

from assistant.vocab import PROMPTS_DIR

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=1)
def _replies() -> dict[str, str]:
    with open(PROMPTS_DIR / "replies.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def reply(name: str, **variables: object) -> str:
    """One deterministic reply from prompts/replies.yaml."""
    return _ENV.from_string(_replies()[name]).render(**variables).strip()


def reply_names() -> list[str]:
    """The templates (not the phrase lists)."""
    return [name for name, value in _replies().items() if isinstance(value, str)]


def prompt_file(name: str, **variables: object) -> str:
    """An LLM prompt from prompts/<name>.md."""
    source = (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
    return _ENV.from_string(source).render(**variables).strip()


def reply_list(name: str) -> list[str]:
    """A list of phrases from prompts/replies.yaml (the example requests the empty chat offers)."""
    items = _replies()[name]
    return [str(item) for item in items] if isinstance(items, list) else [reply(name)]
