"""One conversation with its services: the dialogue, the optional LLM helper and a music backend.

The CLI, the tests and the web app all talk through a Session, so a behaviour seen in one is the
behaviour of all three.
"""
from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, Callable, Optional

from pydantic import BaseModel, Field

from assistant import limits
from assistant.dialogue import step
from assistant.state import ProgressFn, Reply, Settings, State, Take

log = logging.getLogger(__name__)


class TurnRecord(BaseModel):
    """The public per-turn record (CLI --json, tests)."""

    user: str
    reply: str
    action: str
    asks_about: list[str]
    options: list[str]
    brief: dict[str, Any]
    prompt: Optional[str]
    changed: list[str]
    filled: list[str]
    takes: list[dict[str, Any]] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)




class Session:
    def __init__(self, settings: Settings, understand: Optional[object] = None,
                 music: Optional[object] = None, duration_s: Optional[float] = None):
        self.state = State(settings=settings)
        if duration_s is not None:
            self.state.brief = self.state.brief.model_copy(update={"duration_s": duration_s})
        self.understand = understand
        self.music = music
        self.conversation_id = uuid.uuid4().hex[:12]  # the folder of this conversation's WAVs
        self.cancel = threading.Event()  # set by a Stop button; cleared at each new message

    def send(self, message: str, progress: Optional[ProgressFn] = None,
             on_chunk: Optional[Callable[[list[Any]], None]] = None) -> TurnRecord:
        """One turn; when it generates, `progress` and `on_chunk` (first audio while generating) report."""
        self.cancel.clear()
        self.state, reply = step(self.state, message, understand=self.understand)
        takes: list[Take] = []
        if reply.action == "generate" and self.music is not None:
            timed_out = threading.Event()

            def time_out() -> None:
                timed_out.set()
                self.cancel.set()

            timer = threading.Timer(limits.GENERATION_TIMEOUT_S, time_out)
            timer.daemon = True
            timer.start()
            try:
                takes, note = self.music.render_round(self.state, folder_name=self.conversation_id,
                                                      progress=progress, cancel=self.cancel, on_chunk=on_chunk)
            except InterruptedError:
                note = (f"Generation took longer than {limits.GENERATION_TIMEOUT_S} s and was stopped."
                        if timed_out.is_set() else "Generation stopped.") + " Your earlier takes are still here."
            except Exception as err:  # a failing model (out of memory, a crash) never ends the conversation
                log.exception("generation failed")
                note = f"Generation failed ({type(err).__name__}: {err}). Your earlier takes are still here."
            finally:
                timer.cancel()
            self.state.rounds[-1].takes = takes
            if note:
                reply = reply.model_copy(update={"text": f"{reply.text} {note}"})
        return self.record(message, reply, takes)

    def record(self, message: str, reply: Reply, takes: list[Take]) -> TurnRecord:
        return TurnRecord(
            user=message, reply=reply.text, action=reply.action, asks_about=reply.asks_about,
            options=reply.options, brief=self.state.brief.model_dump(mode="json"), prompt=reply.prompt,
            changed=reply.changed, filled=reply.filled, seeds=reply.seeds, notices=reply.notices,
            takes=[t.model_dump(mode="json", exclude={"number"}) for t in takes],  # path, seed, duration_s, sample_rate, analysis, sketch
        )
