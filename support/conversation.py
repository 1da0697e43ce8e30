"""Scripted conversations: YAML files of turns with expectations, run through a Session.

The CLI (`python -m assistant.app.cli run`) and the test suite use this same runner.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from pydantic import BaseModel, Field

from assistant.actions import Say
from assistant.limits import CONVERSATION_FILE_MAX_BYTES
from assistant.app.session import Session, Turn
from assistant.wording import reply


class Turn(BaseModel):
    user: str = ""
    audio: Optional[str] = None  # a clip that comes with the message, as an upload does in the chat
    expect: dict[str, Any] = Field(default_factory=dict)


class ConversationSpec(BaseModel):
    name: str
    settings: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn]


class ExpectationFailed(AssertionError):
    def __init__(self, turn_index: int, user: str, problems: list[str], records: list[Turn]):
        self.turn_index, self.user, self.problems, self.records = turn_index, user, problems, records
        super().__init__(f"turn {turn_index + 1} ({user!r}): " + "; ".join(problems))


class ConversationFileError(ValueError):
    """A conversation file that can't be run; the message says why."""


class _NoAliases(yaml.SafeLoader):
    """A conversation file may come from anyone: its anchors and aliases are refused, never expanded
    (600 bytes of nested aliases, a "billion laughs", expand to gigabytes)."""

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201  (PyYAML's own signature)
        if self.check_event(yaml.AliasEvent):
            raise ConversationFileError(reply("conversation_file_alias", line=self.peek_event().start_mark.line + 1))
        return super().compose_node(parent, index)


def load_spec(path: Path | str) -> ConversationSpec:
    """A conversation file, at most CONVERSATION_FILE_MAX_BYTES and without aliases; a turn's
    `audio:` path is read from the file's own folder."""
    size = Path(path).stat().st_size
    if size > CONVERSATION_FILE_MAX_BYTES:
        raise ConversationFileError(reply("conversation_file_too_big", size=size, limit=CONVERSATION_FILE_MAX_BYTES))
    with open(path, encoding="utf-8") as fh:
        spec = ConversationSpec.model_validate(yaml.load(fh, Loader=_NoAliases))  # noqa: S506 (a SafeLoader)
    folder = Path(path).resolve().parent
    for turn in spec.turns:
        if turn.audio is not None:
            turn.audio = str(folder / turn.audio)
    return spec


def _dotted(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None  # a missing value fails its expectation
    return data


def check(record: Turn, expect: dict[str, Any], previous: Optional[Turn]) -> list[str]:
    """`previous` is the last turn that generated, for seed comparisons."""
    problems: list[str] = []
    text, prompt = record.reply.lower(), (record.prompt or "").lower()
    for key, want in expect.items():
        if key in ("action", "asks_about", "changed"):
            got = getattr(record, key)
            if got != want:
                problems.append(f"{key} is {got!r}, expected {want!r}")
        elif key in ("changed_includes", "filled_includes", "options_include"):
            got = getattr(record, key.rsplit("_", 1)[0])
            missing = [w for w in want if w not in got]
            if missing:
                problems.append(f"{key.rsplit('_', 1)[0]} {got!r} lacks {missing!r}")
        elif key == "brief":
            for path, value in want.items():
                got = _dotted(record.brief, path)
                if got != value:
                    problems.append(f"brief.{path} is {got!r}, expected {value!r}")
        elif key == "brief_includes":
            for path, values in want.items():
                got = _dotted(record.brief, path)
                missing = [v for v in values if v not in got]
                if missing:
                    problems.append(f"brief.{path} {got!r} lacks {missing!r}")
        elif key == "brief_excludes":
            for path, values in want.items():
                got = _dotted(record.brief, path) or []
                present = [v for v in values if v in got]
                if present:
                    problems.append(f"brief.{path} {got!r} should not hold {present!r}")
        elif key in ("reply_contains", "prompt_contains"):
            haystack = text if key == "reply_contains" else prompt
            missing = [w for w in want if w.lower() not in haystack]
            if missing:
                problems.append(f"{key.split('_')[0]} lacks {missing!r}")
        elif key in ("reply_excludes", "prompt_excludes"):  # words that must never reach the user or MusicGen
            haystack = text if key == "reply_excludes" else prompt
            present = [w for w in want if re.search(rf"(?<![\w]){re.escape(w.lower())}(?![\w])", haystack)]
            if present:
                problems.append(f"{key.split('_')[0]} holds {present!r}")
        elif key == "options_count":
            low, high = want
            if not low <= len(record.options) <= high:
                problems.append(f"{len(record.options)} options, expected {low}-{high}")
        elif key == "prompt_max_words":
            if len(prompt.split()) > want:
                problems.append(f"prompt has {len(prompt.split())} words, expected at most {want}")
        elif key == "takes":
            if len(record.takes) != want:
                problems.append(f"{len(record.takes)} takes, expected {want}")
        elif key == "same_seeds_as_previous":
            same = previous is not None and record.seeds == previous.seeds
            if same != want:
                problems.append(f"seeds {record.seeds} vs previous {previous.seeds if previous else None}")
        elif key == "seeds":
            if record.seeds != want:
                problems.append(f"seeds are {record.seeds}, expected {want}")
        else:
            problems.append(f"unknown expectation {key!r}")
    return problems


def run_conversation(spec: ConversationSpec, make_session: Callable[[dict[str, Any]], Session],
                     strict: bool = True) -> list[Turn]:
    """Run every turn; raise ExpectationFailed at the first turn that misses its expectations."""
    session = make_session(spec.settings)
    records: list[Turn] = []
    for index, turn in enumerate(spec.turns):
        record = session.do(Say(text=turn.user, clip=turn.audio))
        generated = [r for r in records if r.action == "generate"]
        problems = check(record, turn.expect, generated[-1] if generated else None)
        records.append(record)
        if problems and strict:
            raise ExpectationFailed(index, turn.user, problems, records)
    return records
