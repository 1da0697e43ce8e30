"""A generation round: its seeds, the Round the state records (with every text MusicGen is sent)
and the short reply that announces it, with the details folded and the next steps to click."""
from __future__ import annotations

from typing import Optional

from assistant.wording import label
from assistant.brief import Melody, MusicBrief, diff, get_path
from assistant.limits import SEED_MAX
from assistant.wording import describe_change, describe_value
from assistant.dialogue.fill import fill_gaps
from assistant.dialogue.quick_actions import quick_actions
from assistant.prompt.render import generation_windows, negative_prompt, render_prompt, sections_that_fit
from assistant.dialogue.state import Round, State, TakeRef, Turn
from assistant.wording import reply


def remixable(state: State, changed: list[str]) -> bool:
    """A mix-only edit of a round that has takes is heard at once: the takes go through the new
    mix effects, and a full render is one click away."""
    last = state.last_round
    return bool(changed) and all(p.startswith("mix.") for p in changed) and last is not None \
        and len(state.takes_of(last.number)) == len(last.seeds) > 0


def seeds_from(seed: int, count: int) -> list[int]:
    return [(seed + i) % (SEED_MAX + 1) for i in range(count)]


def same_seeds(state: State) -> list[int]:
    """An edit keeps the seeds, so the difference you hear is the edit. The kept take keeps its
    place, so "take 2 · kept ★" is take 2 again (an earlier round's kept take takes its old place)."""
    count = state.settings.takes
    seeds = list(state.last_round.seeds if state.last_round else [])[:count]
    if len(seeds) < count:
        seeds += [s for s in state.derived_seeds(count) if s not in seeds][: count - len(seeds)]
    kept = state.kept_seed
    if kept is not None and kept not in seeds:
        place = (state.kept_number or 1) - 1
        seeds[place if place < count else 0] = kept
    return seeds


def start_round(state: State, seeds: Optional[list[int]], notices: Optional[list[str]] = None,
                before: Optional[MusicBrief] = None, lead: str = "", remix_of: Optional[int] = None,
                extends: Optional[TakeRef] = None, extend_s: float = 0.0,
                continues: Optional[Melody] = None, keep_clip: bool = True) -> tuple[State, Turn]:
    """A new round of the brief. A round after a clip's continuation continues the clip again (an
    edit of it keeps the clip at its start), unless it extends or re-mixes a take or drops the clip."""
    notices = notices or []
    last = state.last_round
    if continues is None and keep_clip and extends is None and remix_of is None and last is not None:
        continues = last.continues
    before = before if before is not None else state.brief
    brief, filled = fill_gaps(state.brief, seed=state.settings.seed + state.song)
    state.brief = brief
    if continues is not None:
        extend_s = round(max(1.0, brief.duration_s - continues.seconds), 2)
    state.set_sources(filled, "filled", brief.style.genre)
    if seeds is None:
        seeds = (seeds_from(brief.seed, state.settings.takes) if brief.seed is not None
                 else state.derived_seeds(state.settings.takes))
    prompt = render_prompt(brief)
    windows = generation_windows(brief)
    state.rounds_started += 1  # never reused, even when a cancelled round is discarded
    state.rounds.append(Round(number=state.rounds_started, brief=brief, prompt=prompt, seeds=seeds,
                              windows=windows, negative_prompt=negative_prompt(brief),
                              remix_of=remix_of, extends=extends, extend_s=extend_s, continues=continues))
    state.phase, state.pending, state.pending_options = "generated", None, []
    changed = [p for p in diff(before, brief) if p not in filled]
    edited = changed and state.last_round.number > 1
    parts = [lead]
    if edited:
        parts.append(reply("changed", changes="; ".join(describe_change(before, brief, p, label(p)) for p in changed)))
    parts += notices
    details = _details(brief, filled, prompt, seeds, len(windows))
    said = said_changes(brief, changed) if edited else ""
    headline = _headline(state.rounds, brief, before, said, continues, extends, extend_s)
    summary = " ".join(p for p in [lead, *notices, headline] if p)
    if continues is not None or extends is not None:  # what was continued, from where, is the news
        parts.append(headline)
    return state, Turn(reply=" ".join(p for p in [*parts, *details] if p), action="generate", changed=changed,
                        filled=filled, prompt=prompt, seeds=seeds, notices=notices, summary=summary,
                        details=details, options=quick_actions(brief, remix=remix_of is not None, takes=len(seeds)))


def _details(brief: MusicBrief, filled: list[str], prompt: str, seeds: list[int], windows: int) -> list[str]:
    """What a round will play, for the details under its summary: the prompt, the filled gaps, the
    sections that fit one window, the seeds."""
    details = [reply("generate", takes=len(seeds), duration=f"{brief.duration_s:g}", prompt=prompt)]
    if filled:
        values = "; ".join(f"{label(p)}: {describe_value(get_path(brief, p))}" for p in filled)
        details.append(reply("filled", genre=brief.style.genre, filled=values))
    named = sections_that_fit(brief)
    if len(named) < len(set(brief.structure.sections)) and windows == 1:
        details.append(reply("sections_fit", duration=f"{brief.duration_s:g}", named=" > ".join(named),
                             structure=" > ".join(brief.structure.sections), one=len(named) == 1))
    details.append(reply("seeds", seeds=", ".join(str(s) for s in seeds)))
    return details


def _headline(rounds: list[Round], brief: MusicBrief, before: MusicBrief, said: str, continues: Optional[Melody],
              extends: Optional[TakeRef], extend_s: float) -> str:
    """The round's one line: a continuation, an extension, a re-mix, or new takes (with the edit)."""
    seeds = rounds[-1].seeds
    seeds_kept = len(rounds) > 1 and seeds == rounds[-2].seeds
    if continues is not None:
        return reply("continue_clip_summary", seconds=f"{continues.seconds:.0f}", extra=f"{extend_s:g}",
                     takes=len(seeds), total=f"{brief.duration_s:g}")
    if extends is not None:
        return reply("extend_summary", number=extends.number, start=f"{before.duration_s:g}",
                     extra=f"{extend_s:g}", total=f"{brief.duration_s:g}")
    if rounds[-1].remix_of is not None:
        return reply("remix_summary", changes=said)
    headline = reply("round_summary", changes=said if seeds_kept else "", takes=len(seeds),
                     duration=f"{brief.duration_s:g}")
    return f"{said}. {headline}" if said and not seeds_kept else headline


def said_changes(brief: MusicBrief, changed: list[str]) -> str:
    """'Brightness: dark; tempo: 132': the edit in the words of the brief panel."""
    text = "; ".join(f"{label(p)}: {describe_value(get_path(brief, p))}" for p in changed)
    return text[:1].upper() + text[1:]
