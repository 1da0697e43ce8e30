"""One conversation with its services: the dialogue, the optional LLM helper and a music backend.

The CLI, the tests and the web app all talk through a Session, so a behaviour seen in one is the
behaviour of all three.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from assistant import limits
from assistant.dialogue.controls import set_by_user, with_defaults
from assistant.actions import Action, EditControls, HeardClip, KeepTake, Say
from assistant.dialogue.turns import act
from assistant.takes import ChunkFn, DiskFull, Note, ProgressFn, RenderRequest, Take
from assistant.music import Renderer
from assistant.dialogue.state import Settings, State, Turn, discard_round, with_turn  # Turn: the web app and support name it from here

from assistant.understanding.understand import Understanding
from assistant.facts import Fact, fact
from assistant.wording import reply as reply_text, say

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """How far the running turn is: the share of its work done (steps, not takes) and an estimate
    of the seconds left, from the time so far."""

    fraction: float
    label: str
    eta_s: Optional[float] = None


@dataclass
class Audio:
    """Newly decoded audio of take 1 while it is generated (the live preview)."""

    sample_rate: int
    samples: Any


@dataclass
class Finished:
    """A turn is done; its record is in `Session.records` already."""

    record: Turn


TurnEvent = Union[Progress, Audio, Finished]


@dataclass
class Ticket:
    """One posted turn: what the user did, and its record once it has run (or was stopped)."""

    action: Action
    done: threading.Event = field(default_factory=threading.Event)
    record: Optional[Turn] = None


class Session:
    """One conversation: its state (written only by the dialogue, from this session's one worker),
    its services (an optional LLM helper and an optional music renderer), and its turn records.
    The CLI, the tests and the web app all talk through a Session.

    Turns queue: `post` never blocks and never stops the running round; they run one at a time, in
    order, on one worker thread, and what happens is published as typed events (`events`). Only
    `stop` cancels: the running turn and every turn still waiting. Each generation writes only into
    the round that started it; a cancelled round is discarded and writes no file."""

    def __init__(self, settings: Settings, understand: Optional[Understanding] = None,
                 music: Optional[Renderer] = None, duration_s: Optional[float] = None):
        self.state = State(settings=settings)
        if duration_s is not None:
            self.state.brief = self.state.brief.model_copy(update={"duration_s": duration_s})
        self.understand = understand
        self.music = music
        self.conversation_id = uuid.uuid4().hex[:12]  # the folder of this conversation's WAVs
        self._deferred_controls: list[tuple[Any, Any]] = []  # sliders moved while a turn ran: applied after it
        self._cancel = threading.Event()  # the running turn's: set by Stop or by a timeout
        self._lock = threading.Lock()  # guards the queue, the worker and the listeners
        self._waiting: deque[Ticket] = deque()
        self._running: Optional[Ticket] = None
        self._worker: Optional[threading.Thread] = None
        self._listeners: list[queue.Queue] = []
        self._clips: dict[str, Any] = {}  # clip id -> mono audio at 32 kHz (assistant.music.clips)
        self._kept_files: list[str] = []  # the takes this conversation's user kept, oldest first

    def apply_settings(self, takes: Any, duration_s: Any) -> None:
        """The UI's defaults for takes and length (junk from an API client is ignored); what the
        user said in the chat or set with a slider wins. Not while a turn runs: the turn's state wins."""
        with self._lock:
            if self._running is None and not self._waiting:
                self.state = with_defaults(self.state, takes=takes, duration_s=duration_s)

    def set_by_user(self, takes: Any = None, duration_s: Any = None) -> None:
        """A control the user set outside the chat (a slider): it wins like words in the chat. While
        a turn runs, it applies when that turn's state is in (so neither undoes the other)."""
        with self._lock:
            if self._running is not None:
                self._deferred_controls.append((takes, duration_s))
            self.state = set_by_user(self.state, takes=takes, duration_s=duration_s)

    @property
    def records(self) -> list[Turn]:
        """Every finished turn, in order (the state's log): what a chat is drawn from."""
        return self.state.turns

    def _commit(self, state: State) -> None:
        """The one place a turn's state comes in, with the lock held: controls the user moved
        meanwhile are applied on top."""
        for takes, duration_s in self._deferred_controls:
            state = set_by_user(state, takes=takes, duration_s=duration_s)
        self._deferred_controls = []
        self.state = state

    # --- the queue ---------------------------------------------------------------------------
    def post(self, action: Action, run: bool = True) -> Ticket:
        """Queue one turn behind any running or waiting one; it runs on this session's worker
        (`run=False`: once `run_pending` is called, when a web queue gives the conversation its slot)."""
        ticket = Ticket(action=action)
        with self._lock:
            if len(self._waiting) >= limits.MAX_WAITING_TURNS:  # a client can't pile up work for the worker
                self._finish(ticket, self._answer_only(action, reply_text("too_many_waiting",
                                                                         limit=limits.MAX_WAITING_TURNS)))
                return ticket
            self._waiting.append(ticket)
        if run:
            self.run_pending()
        return ticket

    def run_pending(self) -> None:
        """Start the worker for what is waiting, unless it runs already."""
        with self._lock:
            if self._worker is None and self._waiting:
                self._worker = threading.Thread(target=self._work, daemon=True, name=f"turns-{self.conversation_id}")
                self._worker.start()

    def carry_over(self, earlier: "Session") -> None:
        """A new backend keeps the conversation so far: its state (with this session's settings) and its turns."""
        with self._lock:
            self.state = earlier.state.model_copy(update={"settings": self.state.settings})  # its turns too
            self._kept_files, self._clips = list(earlier._kept_files), dict(earlier._clips)

    def stop(self) -> None:
        """Stop: the running generation ends between steps ("Stopped"), and every waiting turn is
        answered as stopped before it started (its words stay in the chat)."""
        with self._lock:
            self._cancel.set()
            dropped, self._waiting = list(self._waiting), deque()
            for ticket in dropped:
                record = self._answer_only(ticket.action, reply_text("stopped_queued"))
                self._finish(ticket, record.model_copy(update={"stopped": True}))

    @property
    def running(self) -> Optional[Action]:
        ticket = self._running
        return ticket.action if ticket else None

    @property
    def waiting(self) -> list[Action]:
        with self._lock:
            return [t.action for t in self._waiting]

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or bool(self._waiting)

    @contextmanager
    def listening(self) -> Iterator[queue.Queue]:
        """Every event from now on, until the block ends."""
        events: queue.Queue = queue.Queue()
        with self._lock:
            self._listeners.append(events)
        try:
            yield events
        finally:
            with self._lock:
                self._listeners.remove(events)

    def events(self, tick_s: float = 1.0) -> Iterator[Optional[TurnEvent]]:
        """What happens until nothing is running or waiting. Yields None every `tick_s` with no
        event, so a reader can redraw a clock (the seconds left) while a long step runs."""
        with self.listening() as events:
            while self.busy or not events.empty():
                try:
                    yield events.get(timeout=tick_s)
                except queue.Empty:
                    if self.busy:
                        yield None

    def send(self, message: str, progress: Optional[ProgressFn] = None,
             on_chunk: Optional[ChunkFn] = None) -> Turn:
        """One chat message, waited for: the CLI and the tests. `progress` and `on_chunk` hear it."""
        return self.do(Say(text=message if isinstance(message, str) else str(message or "")), progress, on_chunk)

    def do(self, action: Action, progress: Optional[ProgressFn] = None,
           on_chunk: Optional[ChunkFn] = None) -> Turn:
        """Post one turn and wait for its record."""
        with self.listening() as events:
            ticket = self.post(action)
            while not ticket.done.is_set():
                try:
                    event = events.get(timeout=0.05)
                except queue.Empty:
                    continue
                if ticket is self._running or ticket.done.is_set():
                    if isinstance(event, Progress) and progress is not None:
                        progress(event.fraction, event.label)
                    elif isinstance(event, Audio) and on_chunk is not None:
                        on_chunk([event.samples])
        assert ticket.record is not None
        return ticket.record

    def _emit(self, event: TurnEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for events in listeners:
            events.put(event)

    def _finish(self, ticket: Ticket, record: Turn) -> None:
        """Called with the lock held: the record joins the conversation's log, then listeners hear of it."""
        self.state = with_turn(self.state, record)
        ticket.record = record
        ticket.done.set()
        for events in self._listeners:
            events.put(Finished(record))

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._worker = None
                    return
                ticket = self._running = self._waiting.popleft()
                cancel = self._cancel = threading.Event()
            try:
                record = self._turn(ticket.action, cancel)
            except Exception:  # never a traceback in the chat; the conversation so far stays
                log.exception("turn failed")
                record = self._answer_only(ticket.action, reply_text("ui_turn_failed"))
            with self._lock:
                self._running = None
                self._finish(ticket, record)

    def _answer_only(self, action: Action, text: str) -> Turn:
        """A turn the dialogue never saw (stopped, refused, failed): the user's words and one line."""
        return Turn(user=self.user_text(action), reply=text, summary=text, action="answer",
                    brief=self.state.brief.model_dump(mode="json"))

    # --- one turn ----------------------------------------------------------------------------
    def user_text(self, action: Action) -> str:
        """What the chat shows as the user's side of a turn."""
        if isinstance(action, KeepTake):
            return reply_text("ui_user_keep", number=action.number, round=0 if self.state.last_round and action.round == self.state.last_round.number
                              else self.state.round_position(action.round))  # 0: the latest, unnamed
        if isinstance(action, EditControls):
            changes = ", ".join(f"{reply_text('ui_edit_field_' + k)} {v:g}" if isinstance(v, float)
                                else f"{reply_text('ui_edit_field_' + k)} {v}" for k, v in action.changes().items())
            return reply_text("ui_user_edit", changes=changes)
        text = action.text[: limits.MAX_MESSAGE_CHARS]
        return f"{text} {reply_text('ui_user_clip')}".strip() if action.clip or action.heard else text

    def _turn(self, action: Action, cancel: threading.Event) -> Turn:
        started = time.perf_counter()

        def progress(fraction: float, label: Any) -> None:
            label = say(label) if isinstance(label, Fact) else label  # the music wing's progress is coded
            elapsed = time.perf_counter() - started
            eta = elapsed * (1 - fraction) / fraction if fraction >= 0.05 else None
            self._emit(Progress(fraction=fraction, label=label, eta_s=eta))

        def on_chunk(chunks: list[Any]) -> None:
            self._emit(Audio(sample_rate=self.music.sample_rate if self.music else 0, samples=chunks[0]))

        user = self.user_text(action)
        if isinstance(action, Say) and action.clip:
            action = action.model_copy(update={"clip": None, "heard": self._hear(action.clip, action.upload)})
        kept_before = self.state.kept
        state, reply = act(self.state, action, understand=self.understand)
        with self._lock:
            self._commit(state)
        takes: list[Take] = []
        if self.state.kept not in (None, kept_before):
            self._remember_kept(self.state.kept)
        if reply.action == "generate" and self.music is not None:
            takes, reply = self._generate(reply, cancel, progress, on_chunk)
        return self._completed(user, reply, takes)

    def _hear(self, path: str, upload: bool = False) -> HeardClip:
        """Read a clip that came with a message (safely: assistant.music.clips); keep its audio here,
        for the rounds that follow it (the brief records only its id and length), and in memory
        only: an upload's file is deleted once read, so it leaves with the conversation and no one
        else can fetch it."""
        from assistant.music.clips import ClipRefused, read_clip

        try:
            clip = read_clip(path)
        except ClipRefused as refused:
            return HeardClip(refused=refused.kind, values={k: str(v) for k, v in refused.values.items()})
        except OSError:
            return HeardClip(refused="unreadable")
        finally:
            if upload:
                Path(path).unlink(missing_ok=True)
        clip_id = uuid.uuid4().hex[:12]
        self._clips[clip_id] = clip.audio
        while len(self._clips) > limits.CLIPS_KEPT:  # the oldest clip goes first
            self._clips.pop(next(iter(self._clips)))
        return HeardClip(clip_id=clip_id, seconds=clip.seconds, original_seconds=clip.original_seconds)

    def melody_audio(self) -> Optional[Any]:
        """The audio of the clip the last round follows, when this session still has it."""
        melody = self.state.rounds[-1].brief.melody if self.state.rounds else None
        return self._clips.get(melody.clip_id) if melody is not None else None

    def _remember_kept(self, ref: Any) -> None:
        """The kept take's own file is protected from the disk limits (its later re-mixes are not);
        the last MAX_KEPT_PER_CONVERSATION keeps of this conversation, across its songs."""
        takes = self.state.takes_of(ref.round)
        path = takes[ref.number - 1].path if len(takes) >= ref.number else None
        if path and path not in self._kept_files:
            self._kept_files = [*self._kept_files, path][-limits.MAX_KEPT_PER_CONVERSATION:]
            if self.music is not None:
                self.music.keep(self._kept_files, folder_name=self.conversation_id)

    def _request(self) -> RenderRequest:
        """The last round as the music wing needs it: what to play and what to send, no conversation."""
        rnd = self.state.rounds[-1]
        return RenderRequest(brief=rnd.brief, seeds=rnd.seeds, round_number=rnd.number, windows=rnd.windows,
                             negative_prompt=rnd.negative_prompt, keep_paths=self._kept_files)

    def _extend(self, rnd: Any, cancel: threading.Event, progress: Optional[ProgressFn]
                ) -> Optional[tuple[list[Take], list[Note]]]:
        """'extend take 2': that take, continued; None when it can't be (then the round is generated)."""
        source = self.state.takes_of(rnd.extends.round)
        take = source[rnd.extends.number - 1] if len(source) >= rnd.extends.number else None
        extend = getattr(self.music, "extend_take", None)
        if take is None or extend is None:
            return None
        return extend(self._request(), take, rnd.extend_s, folder_name=self.conversation_id, cancel=cancel,
                      progress=progress, melody=self.melody_audio())

    def _continue_clip(self, rnd: Any, cancel: threading.Event, progress: Optional[ProgressFn]
                       ) -> Optional[tuple[list[Take], list[Note]]]:
        """'continue this' with a clip: takes that start with it; no takes when the clip is gone."""
        go_on = getattr(self.music, "continue_clip", None)
        if go_on is None:
            return None
        clip = self._clips.get(rnd.continues.clip_id)
        if clip is None:
            return [], [Note(kind="clip_gone")]
        return go_on(self._request(), clip, rnd.extend_s, folder_name=self.conversation_id, cancel=cancel,
                     progress=progress)

    def _remix(self, cancel: threading.Event, progress: Optional[ProgressFn] = None
               ) -> Optional[tuple[list[Take], list[Note]]]:
        """A mix-only edit re-mixes the takes it edits (instantly); None when that can't be done."""
        rnd = self.state.rounds[-1]
        if not any(r.number == rnd.remix_of for r in self.state.rounds):
            return None
        try:
            return self.music.remix_round(self._request(), self.state.takes_of(rnd.remix_of),
                                          folder_name=self.conversation_id,
                                          cancel=cancel, progress=progress)
        except InterruptedError:
            raise
        except Exception:  # a failed re-mix falls back to generating the round
            log.exception("re-mix failed")
            return None

    def _generate(self, reply: Turn, cancel: threading.Event, progress: Optional[ProgressFn],
                  on_chunk: Optional[ChunkFn]) -> tuple[list[Take], Turn]:
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
            rnd = self.state.rounds[-1]
            remixed = self._remix(cancel, progress) if rnd.remix_of is not None else \
                self._extend(rnd, cancel, progress) if rnd.extends is not None else \
                self._continue_clip(rnd, cancel, progress) if rnd.continues is not None else None
            if remixed is not None:
                takes, notes = remixed
                done = "" if rnd.remix_of is None else \
                    reply_text("remixed", takes=len(takes), seconds=f"{time.perf_counter() - started:.2f}")
            else:
                takes, notes = self.music.render_round(self._request(), folder_name=self.conversation_id,
                                                       melody=self.melody_audio(),
                                                       progress=progress, cancel=cancel, on_chunk=on_chunk)
                done = ""
            note = " ".join([done, *(say(fact(f"note_{n.kind}", **n.values)) for n in notes)]).strip()
        except InterruptedError:
            with self._lock:
                self.state = discard_round(self.state, number)
            text = reply_text("timed_out", limit=limits.GENERATION_TIMEOUT_S) if timed_out.is_set() \
                else reply_text("stopped")
            return [], reply.model_copy(update={"reply": text, "summary": text, "details": [], "options": [],
                                                "action": "answer", "stopped": True})
        except DiskFull as full:  # only kept takes are left on the disk: this conversation is refused, in words
            note, failed = reply_text("disk_full", held=full.held, limit=f"{full.limit_mb:g}"), True
        except OSError as err:  # the disk itself is full: nothing half-written stays, and the next round cleans first
            log.exception("writing takes failed")
            note, failed = reply_text("disk_write_failed", error=err.strerror or str(err)), True
        except Exception as err:  # a failing model (out of memory, a crash) never ends the conversation
            log.exception("generation failed")
            note, failed = reply_text("generation_failed", error=f"{type(err).__name__}: {err}"), True
        finally:
            timer.cancel()
        reply = reply.model_copy(update={"round": number if takes else None})  # its takes are recorded with it
        if note:
            update: dict[str, Any] = {"reply": f"{reply.reply} {note}", "details": [*reply.details, note]}
            if failed:
                update.update(summary=f"{reply.summary} {note}", options=[])
            elif self.music.unavailable != unavailable_before:  # said once, plainly
                update.update(summary=f"{reply.summary} {say(fact('note_unavailable', error=self.music.unavailable))}")
            reply = reply.model_copy(update=update)
        return takes, reply

    def _completed(self, user: str, turn: Turn, takes: list[Take]) -> Turn:
        """The dialogue's turn as the log keeps it: the user's words as shown, the brief after it,
        and the takes its round made (recorded here once: the log is where takes are kept)."""
        return turn.model_copy(update={"user": user, "brief": self.state.brief.model_dump(mode="json"),
                                       "summary": turn.summary or turn.reply, "takes": takes,
                                       "round": turn.round if takes else None})
