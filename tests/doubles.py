"""Test doubles for the two seams: a scripted language model and a flaky music renderer.

They live with the tests, not in the product: assistant/ ships only real backends."""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Optional, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.understanding.llm import MAX_TOKENS, LLMError
from assistant.takes import Note, RenderRequest, Take, ProgressFn

T = TypeVar("T", bound=BaseModel)


class ScriptedLLM:
    """A fake for tests: replies are queued with enqueue(); an Exception instance is raised."""

    def __init__(self) -> None:
        self.queue: list[Any] = []
        self.history: list[list[dict[str, str]]] = []

    def enqueue(self, *replies: Any) -> "ScriptedLLM":
        self.queue.extend(replies)
        return self

    def _next(self, messages: list[dict[str, str]]) -> Any:
        self.history.append(messages)
        if not self.queue:
            raise LLMError("no scripted reply left")
        item = self.queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def chat(self, messages: list[dict[str, str]], max_tokens: int = MAX_TOKENS) -> str:
        return str(self._next(messages))

    def choice_scores(self, messages: list[dict[str, str]], lead: str, choices: list[str]) -> dict[str, float]:
        """A queued dict of scores; choices it leaves out score lowest."""
        item = self._next(messages)
        return {c: float(dict(item).get(c, -1e9)) for c in choices}

    def complete_json(self, messages: list[dict[str, str]], schema: type[T],
                      max_tokens: int = MAX_TOKENS) -> T:
        item = self._next(messages)
        text = item if isinstance(item, str) else json.dumps(item)
        try:
            return schema.model_validate_json(text)
        except ValidationError as err:
            raise LLMError(f"invalid JSON: {err.errors()[0]['msg']}") from None


class FlakyRenderer:
    """Renders a fake take, or fails the way a real model does, in the order asked."""

    unavailable: Optional[str] = None
    in_use = "sketch"
    sample_rate = 32000

    def __init__(self, *behaviours: str):
        self.behaviours = list(behaviours)

    def render_round(self, request: RenderRequest, folder_name: str = "s", progress: Any = None,
                     cancel: Optional[threading.Event] = None, on_chunk: Any = None,
                     melody: Any = None) -> tuple[list[Take], list[Note]]:
        behaviour = self.behaviours.pop(0)
        if behaviour == "oom":
            raise MemoryError("CUDA out of memory")
        if behaviour == "crash":
            raise RuntimeError("decoder exploded mid-generation")
        if behaviour == "hang":
            while not cancel.is_set():
                time.sleep(0.01)
            raise InterruptedError("cancelled")
        return [Take(number=i + 1, seed=s, path=f"/tmp/{s}.wav", duration_s=1.0)
                for i, s in enumerate(request.seeds)], []

    def remix_round(self, request: RenderRequest, source: list[Take], folder_name: str = "s",
                    cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None
                    ) -> Optional[tuple[list[Take], list[Note]]]:
        return None

    def keep(self, paths: list[str], folder_name: str = "session") -> None:
        pass
