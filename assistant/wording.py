"""The one wording module: replies, option and UI labels, field names and LLM prompts, all from prompts/.

Templates render strictly: a missing variable is a bug, not a blank. Readers, the brief and the
music wing hand over coded facts; this module alone turns them into the words a user reads."""
from __future__ import annotations

from functools import lru_cache

import yaml
from jinja2 import Environment, StrictUndefined

from typing import Any, Iterable

from assistant.brief import Melody, MusicBrief, get_path
from assistant.facts import Fact
from assistant.resources import PROMPTS_DIR

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


def say(found: Fact) -> str:
    """A coded fact in words. Its values are worded first: a fact (or a list of facts) becomes its
    sentence, `what_path="style.mood"` becomes `what="mood"` (the field's label) and
    `kept_value=[...]` becomes `kept="a, b"` (a brief value as the user reads it)."""
    return reply(found.code, **{_key(k): _worded(k, v) for k, v in found.values.items()})


def _key(name: str) -> str:
    return name.removesuffix("_path").removesuffix("_value")


def _worded(name: str, value: Any) -> Any:
    if isinstance(value, Fact):
        return say(value)
    if isinstance(value, list) and value and all(isinstance(v, Fact) for v in value):
        return say_all(value)
    if name.endswith("_path"):
        return label(value)
    if name.endswith("_value"):
        return describe_value(value) if value not in (None, []) else ""
    return value


def say_all(found: Iterable[Fact], joiner: str = "; ") -> str:
    return joiner.join(say(f) for f in found)


def describe_value(value: Any) -> str:
    """A brief value as the user reads it: 'unset', 'none', '92', 'your clip, 8 s'."""
    if value is None:
        return reply("value_unset")
    if isinstance(value, list):
        return ", ".join(value) if value else reply("value_none")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Melody):
        return reply("melody_value", seconds=f"{value.seconds:.0f}")
    return str(value)


def describe_change(old: MusicBrief, new: MusicBrief, path: str, name: str = "") -> str:
    """`brightness: balanced -> dark`, under the field's human name."""
    return reply("change_line", field=name or path, old=describe_value(get_path(old, path)),
                 new=describe_value(get_path(new, path)))
