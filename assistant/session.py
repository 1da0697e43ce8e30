"""One conversation with its services: the dialogue, the optional LLM helper and a music backend.

The CLI, the tests and the web app all talk through a Session, so a behaviour seen in one is the
behaviour of all three.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Optional

from pydantic import BaseModel, Field

from assistant import limits
from assistant.controls import set_by_user, with_defaults
from assistant.dialogue import step
from assistant.music import ChunkFn, Note, ProgressFn, Renderer, RenderRequest, Take
from assistant.state import Reply, Settings, State, discard_round
from assistant.understand import Understanding
from assistant.templates import reply as reply_text

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
    takes: list[Take] = Field(default_factory=list)  # the one shape of a take, as the state keeps it
    seeds: list[int] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    summary: str = ""  # what a chat shows: one or two lines
    details: list[str] = Field(default_factory=list)  # folded in a chat: prompt, filled values, seeds, analysis
    round: Optional[int] = None  # the round this turn made, when it made one
    stopped: bool = False


class Session:
    """One conversation: its state (written only by the dialogue), its services (an optional LLM
    helper and an optional music renderer), and its rounds. The CLI, the tests and the web app all
    talk through a Session.

    Turns run one at a time: a new message first cancels a generation still running and waits for
    it to let go, so two turns never write the state at once. Each generation has its own cancel
    event and writes only into the round that started it; a cancelled round is discarded, and a
    cancelled generation writes no file (assistant.music checks before writing)."""

    def __init__(self, settings: Settings, understand: Optional[Understanding] = None,
                 music: Optional[Renderer] = None, duration_s: Optional[float] = None):
        self.state = State(settings=settings)
        if duration_s is not None:
            self.state.brief = self.state.brief.model_copy(update={"duration_s": duration_s})
        self.understand = understand
        self.music = music
        self.conversation_id = uuid.uuid4().hex[:12]  # the folder of this conversation's WAVs
        self._cancel = threading.Event()  # this turn's: set by Stop, by a timeout or by the next message
        self._turn = threading.Lock()

    def apply_settings(self, takes: Any, duration_s: Any) -> None:
        """The UI's defaults for takes and length (junk from an API client is ignored); what the
        user said in the chat or set with a slider wins."""
        self.state = with_defaults(self.state, takes=takes, duration_s=duration_s)

    def set_by_user(self, takes: Any = None, duration_s: Any = None) -> None:
        """A control the user set outside the chat (a slider): it wins like words in the chat."""
        with self._turn:
            self.state = set_by_user(self.state, takes=takes, duration_s=duration_s)

    @property
    def cancel(self) -> threading.Event:
        """The running turn's cancel event (a Stop button sets it)."""
        return self._cancel

    def send(self, message: str, progress: Optional[ProgressFn] = None,
             on_chunk: Optional[ChunkFn] = None) -> TurnRecord:
        """One turn; when it generates, `progress` and `on_chunk` (first audio while generating) report."""
        message = message if isinstance(message, str) else str(message or "")
        self._cancel.set()  # a generation still running from an abandoned turn stops between steps
        with self._turn:
            cancel = self._cancel = threading.Event()
            kept_before = self.state.kept_seed
            self.state, reply = step(self.state, message, understand=self.understand)
            takes: list[Take] = []
            if reply.action == "generate" and self.music is not None:
                takes, reply = self._generate(reply, cancel, progress, on_chunk)
            elif self.state.kept_seed not in (None, kept_before) and self.music is not None:
                self.music.keep(self._kept_paths())
            return self.record(message[: limits.MAX_MESSAGE_CHARS], reply, takes)

    def _kept_paths(self) -> list[str]:
        return [t.path for r in self.state.rounds for t in r.takes if t.seed == self.state.kept_seed and t.path]

    def _request(self) -> RenderRequest:
        """The last round as the music wing needs it: what to play and what to send, no conversation."""
        rnd = self.state.rounds[-1]
        return RenderRequest(brief=rnd.brief, seeds=rnd.seeds, round_number=rnd.number, windows=rnd.windows,
                             negative_prompt=rnd.negative_prompt, keep_paths=self._kept_paths())

    def _remix(self, cancel: threading.Event) -> Optional[tuple[list[Take], list[Note]]]:
        """A mix-only edit re-mixes the takes it edits (instantly); None when that can't be done."""
        rnd = self.state.rounds[-1]
        source = next((r for r in self.state.rounds if r.number == rnd.remix_of), None)
        if source is None:
            return None
        try:
            return self.music.remix_round(self._request(), source.takes, folder_name=self.conversation_id,
                                          cancel=cancel)
        except InterruptedError:
            raise
        except Exception:  # a failed re-mix falls back to generating the round
            log.exception("re-mix failed")
            return None

    def _generate(self, reply: Reply, cancel: threading.Event, progress: Optional[ProgressFn],
                  on_chunk: Optional[ChunkFn]) -> tuple[list[Take], Reply]:
        number = self.state.rounds[-1].number
        timed_out = threading.Event()

        def time_out() -> None:
            timed_out.set()
            cancel.set()

        timer = threading.Timer(limits.GENERATION_TIMEOUT_S, time_out)
        timer.daemon = True
        timer.start()
        takes: list[Take] = []
        note, failed = "", False
        unavailable_before = self.music.unavailable
        try:
            started = time.perf_counter()
            remixed = self._remix(cancel) if self.state.rounds[-1].remix_of is not None else None
            if remixed is not None:
                takes, notes = remixed
                done = reply_text("remixed", takes=len(takes), seconds=f"{time.perf_counter() - started:.2f}")
            else:
                takes, notes = self.music.render_round(self._request(), folder_name=self.conversation_id,
                                                       progress=progress, cancel=cancel, on_chunk=on_chunk)
                done = ""
            note = " ".join([done, *(reply_text(f"note_{n.kind}", **n.values) for n in notes)]).strip()
        except InterruptedError:
            self.state = discard_round(self.state, number)
            text = reply_text("timed_out", limit=limits.GENERATION_TIMEOUT_S) if timed_out.is_set() \
                else reply_text("stopped")
            return [], reply.model_copy(update={"text": text, "summary": text, "details": [], "options": [],
                                                "action": "answer", "stopped": True})
        except Exception as err:  # a failing model (out of memory, a crash) never ends the conversation
            log.exception("generation failed")
            note, failed = reply_text("generation_failed", error=f"{type(err).__name__}: {err}"), True
        finally:
            timer.cancel()
        for rnd in self.state.rounds:  # the round that started this generation, whatever came after
            if rnd.number == number:
                rnd.takes = takes
        if note:
            update: dict[str, Any] = {"text": f"{reply.text} {note}", "details": [*reply.details, note]}
            if failed:
                update.update(summary=f"{reply.summary} {note}", options=[])
            elif self.music.unavailable != unavailable_before:  # said once, plainly
                update.update(summary=f"{reply.summary} {reply_text('note_unavailable', error=self.music.unavailable)}")
            reply = reply.model_copy(update=update)
        return takes, reply

    def record(self, message: str, reply: Reply, takes: list[Take]) -> TurnRecord:
        return TurnRecord(
            user=message, reply=reply.text, action=reply.action, asks_about=reply.asks_about,
            options=reply.options, brief=self.state.brief.model_dump(mode="json"), prompt=reply.prompt,
            changed=reply.changed, filled=reply.filled, seeds=reply.seeds, notices=reply.notices,
            summary=reply.summary or reply.text, details=reply.details, stopped=reply.stopped,
            round=self.state.rounds[-1].number if takes and self.state.rounds else None,
            takes=takes,
        )
