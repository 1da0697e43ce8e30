"""How MusicBrief reads what people really type into Suno and Udio (the aims_prompts study).

    python bench/real_requests.py --data PATH --llm off --llm embedded

PATH is `plots/prompt_new_name.json` of `mister-magpie/aims_prompts` (fetched, never committed:
the study states no licence), and `--tags` its `data/tags_counts_nvemb_manual.json`. Only prompts
whose id starts with 0-7 are read (the dev half); ids 8-f are held out and skipped unread. A
seeded sample of up to `--per-kind` prompts of each kind (tag lists, Suno descriptions, Udio
descriptions, lyrics, artist references, non-English) is run as the first turn of a new
conversation. Printed in one run, per --llm setting: the figures of the issue's table, the
usage-weighted share of the study's tags the vocabulary recognises per label, the median and
maximum prompt words, and the p50 and p95 time per turn. Only figures are printed.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from assistant.brief import DEFAULT_DURATION_S
from assistant.app.config import load_config
from assistant.dialogue.turns import step
from assistant.understanding.extract import extract, normalise
from assistant.understanding.guard import text_kind
from assistant.understanding.references import reference_index
from assistant.prompt.render import render_prompt
from assistant.app.services import build_understanding
from assistant.dialogue.state import State
from assistant.resources import VOCAB_DIR
from assistant.vocab import vocabulary

DEV_IDS = tuple("01234567")
KINDS = ("tag_list", "suno", "udio", "lyrics", "artist", "non_english")
METATAG = re.compile(r"[\[(*]{1,2}\s*(?:verse|chorus|bridge|intro|outro|hook|pre-chorus|drop|refrain|breakdown)", re.I)
REFERENCE_PHRASE = r"(?:in the style of|similar to|sounds? like|inspired by|like|by)"
NAME_AFTER = re.compile(REFERENCE_PHRASE + r"\s+(?:the\s+)?((?:[A-Z][\w'&.-]*)(?:\s+[A-Z][\w'&.-]*){0,3})")
# A length as the user would write it, found independently of the product's reader.
LENGTH_PHRASE = re.compile(
    r"(?<![\w.])(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|"
    r"forty|sixty|a|an|half an?)[\s-]*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)(?![\w])"
    r"|(?<![\w.])\d+(?:\.\d+)?\s+s(?![\w])|(?<![\w.])\d*[1-9]s(?![\w])|(?<![\w:])\d{1,2}:[0-5]\d(?![\w:])"
    r"|(?<![\w])(?:long|longer|short|shorter|extend|extended|length|duration|minute|second)(?![\w])", re.I)
LYRIC_NOTE = re.compile(r"(?<![\w])(?:can'?t sing|cannot sing|sing the words|instrumentals? only)(?![\w])", re.I)
STOPWORDS = set("a an the of with and in on at to for by no is are it this that some from or".split())


def load_dev(path: Path) -> list[tuple[str, str, str]]:
    """(id, platform, prompt) for the dev half, one per distinct prompt text."""
    figure = json.loads(path.read_text(encoding="utf-8"))
    seen: dict[str, tuple[str, str, str]] = {}
    for trace in figure["data"]:
        for row in trace.get("customdata") or []:
            rid, platform, prompt = str(row[0]), str(row[1]), str(row[5] or "")
            if not rid.startswith(DEV_IDS):  # held out: never read further
                continue
            if prompt.strip() and prompt not in seen:
                seen[prompt] = (rid, platform, prompt)
    return sorted(seen.values())


def english_share(text: str, words: set[str]) -> float:
    found = re.findall(r"[a-z']+", text.lower())
    return sum(w in words for w in found) / max(len(found), 1)


def kind_of(platform: str, prompt: str, english: set[str]) -> str:
    lines = [line for line in prompt.splitlines() if line.strip()]
    if len(lines) >= 3 and (METATAG.search(prompt) or len(lines) >= 4):  # a pasted song: several lines
        return "lyrics"
    if text_kind(prompt) == "foreign" or english_share(prompt, english) < 0.5:
        return "non_english"
    if NAME_AFTER.search(prompt):
        return "artist"
    segments = [s.strip() for s in prompt.split(",") if s.strip()]
    if len(segments) >= 3 and statistics.median(len(s.split()) for s in segments) <= 3:
        return "tag_list"
    return "suno" if platform == "suno" else "udio"


def sample(rows: list[tuple[str, str, str]], per_kind: int, seed: int) -> list[tuple[str, str]]:
    english = set((VOCAB_DIR / "english_words.txt").read_text(encoding="utf-8").split())
    by_kind: dict[str, list[str]] = defaultdict(list)
    for _, platform, prompt in rows:
        by_kind[kind_of(platform, prompt, english)].append(prompt)
    rng = random.Random(seed)
    out = []
    for kind in KINDS:
        chosen = by_kind[kind] if len(by_kind[kind]) <= per_kind else rng.sample(by_kind[kind], per_kind)
        out += [(kind, p) for p in chosen]
    return out


def stems(text: str) -> set[str]:
    out = set()
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w not in STOPWORDS:
            out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def tag_in_prompt(tag: str, prompt: str) -> bool:
    """The tag's words, or the vocabulary's name for it, are in the prompt."""
    vocab = vocabulary()
    words = stems(prompt)
    if stems(tag) and stems(tag) <= words:
        return True
    for category in ("genre", "instrument", "mood", "production"):
        name = vocab.canonical(category, normalise(tag))
        if name and stems(name) <= words:
            return True
    return False


def load_tags(path: Path) -> dict[str, tuple[str, int]]:
    return {str(t["tags"]).lower(): (t["LABEL"], int(t["total"])) for t in json.loads(path.read_text(encoding="utf-8"))}


def recognised(tag: str, label: str) -> bool:
    """Does the vocabulary read this tag? Structure, year, key, BPM and tempo tags must be read as
    what the study labelled them; a genre, qualifier, instrument or voice tag may be read into any
    control ("instrumental", labelled a genre, is read as no vocals; "funky" as a mood)."""
    ex = extract(tag)
    refs = reference_index().find(normalise(tag))
    if label in ("GENRE", "QUALIFIER", "INSTRUMENT", "VOICE"):
        return ex.names_music() or bool(refs)
    if label == "STRUCTURE":
        return bool(ex.sections)
    if label == "YEAR":
        return bool(any(r.reference.kind == "era" for r in refs) or ex.production)
    if label == "KEY":
        return bool(getattr(ex, "key", None))
    if label == "BPM":
        return ex.bpm is not None
    if label == "TEMPO":
        return bool(ex.tempo_word or ex.bpm or ex.feel or ex.tempo_factor)
    return ex.names_music()


def coverage(tags: dict[str, tuple[str, int]]) -> dict[str, tuple[float, int]]:
    used: Counter = Counter()
    known: Counter = Counter()
    for tag, (label, total) in tags.items():
        used[label] += total
        known[label] += total * recognised(tag, label)
    return {label: (known[label] / used[label], len([t for t in tags.values() if t[0] == label])) for label in used}


def misread_name(name: str, state: State) -> bool:
    """A word of an unknown artist's name became a value of the brief ("Tom Browne" -> toms)."""
    vocab = vocabulary()
    brief = state.brief
    values = {("genre", vocab.genre(brief.style.genre).name if vocab.genre(brief.style.genre) else brief.style.genre)}
    values |= {("mood", vocab.canonical("mood", m) or m) for m in brief.style.mood}
    values |= {("instrument", vocab.canonical("instrument", i) or i) for i in brief.palette.instruments}
    inside = {(m.category, m.value) for m in vocab.find_all(name.lower())}
    return bool(inside & values)


def evaluate(items: list[tuple[str, str]], tags: dict[str, tuple[str, int]], llm: str) -> dict:
    understand = build_understanding(llm, load_config(llm=llm))
    c: Counter = Counter()
    per_kind: dict[str, Counter] = defaultdict(Counter)
    times: list[float] = []
    prompt_words: list[int] = []
    for kind, text in items:
        start = time.perf_counter()
        state, out = step(State(), text, understand=understand)
        times.append(time.perf_counter() - start)
        brief = state.brief
        prompt = state.last_round.prompt if state.last_round else render_prompt(brief)
        prompt_words.append(len(prompt.split()))
        k = per_kind[kind]
        k["n"] += 1
        c["n"] += 1
        asked_length = bool(LENGTH_PHRASE.search(text))
        duration_touched = brief.duration_s != DEFAULT_DURATION_S or any(
            "duration" in n or "length" in n for n in out.notices)
        if duration_touched and not asked_length:
            c["unasked_length"] += 1
        genre_words = len((brief.style.genre or "").split())
        c["genre_4plus"] += genre_words >= 4
        c["genre_over3"] += genre_words > 3
        understood = out.action in ("ask", "generate")
        placed = bool(brief.style.genre or brief.style.mood)
        c["understood"] += understood
        c["placed"] += placed
        k["understood"] += understood
        k["placed"] += placed
        if kind == "lyrics":
            c["lyrics"] += 1
            told = bool(LYRIC_NOTE.search(out.reply.replace(prompt, "")))
            c["lyrics_told"] += told
        if kind == "tag_list":
            segments = [s.strip().lower() for s in text.split(",") if s.strip()]
            labelled = [(s, tags[s][0]) for s in segments if s in tags]
            genres = list(dict.fromkeys(s for s, lab in labelled if lab == "GENRE"))
            for i, g in enumerate(genres):
                kept = tag_in_prompt(g, prompt)
                c["genre_tags"] += 1
                c["genre_tags_kept"] += kept
                if i == 0:
                    c["first_genre"] += 1
                    c["first_genre_kept"] += kept
            for label, key in (("INSTRUMENT", "instr"), ("VOICE", "voice")):
                for s in dict.fromkeys(s for s, lab in labelled if lab == label):
                    c[key] += 1
                    c[key + "_kept"] += tag_in_prompt(s, prompt)
            for s in list(dict.fromkeys(s for s, lab in labelled if lab == "QUALIFIER"))[:3]:
                c["qual"] += 1
                c["qual_kept"] += tag_in_prompt(s, prompt)
        for m in NAME_AFTER.finditer(text):
            name = m.group(1)
            if len(name.split()) != 2 or reference_index().find(name.lower()):
                continue
            c["names"] += 1
            c["names_misread"] += misread_name(name, state)
    return {"c": c, "per_kind": per_kind, "times": times, "words": prompt_words}


def share(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "-"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="plots/prompt_new_name.json of aims_prompts")
    parser.add_argument("--tags", type=Path, help="data/tags_counts_nvemb_manual.json (default: beside --data)")
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm", action="append", help="off | embedded | PATH (repeatable)")
    args = parser.parse_args()
    tags_path = args.tags or args.data.parent.parent / "data" / "tags_counts_nvemb_manual.json"
    if not tags_path.exists():
        tags_path = args.data.parent / "tags_counts_nvemb_manual.json"
    tags = load_tags(tags_path)
    rows = load_dev(args.data)
    items = sample(rows, args.per_kind, args.seed)
    counts = Counter(k for k, _ in items)
    print(f"dev prompts: {len(rows)} distinct; sample: {len(items)} "
          f"({', '.join(f'{k} {counts[k]}' for k in KINDS)}), seed {args.seed}")
    results = {llm: evaluate(items, tags, llm) for llm in args.llm or ["off"]}
    names = list(results)
    print(f"\n{'measure':<52}" + "".join(f"{'llm ' + n:>16}" for n in names))

    def row(label: str, fn) -> None:
        print(f"{label:<52}" + "".join(f"{fn(results[n]['c'], results[n]):>16}" for n in names))

    row("take length changed, no length named", lambda c, r: f"{c['unasked_length']} ({share(c['unasked_length'], c['n'])})")
    row("genre slot of 4 or more words", lambda c, r: f"{c['genre_4plus']} ({share(c['genre_4plus'], c['n'])})")
    row("lyrics requests told MusicGen can't sing", lambda c, r: f"{c['lyrics_told']} of {c['lyrics']}")
    row("understood (asked or generated)", lambda c, r: share(c["understood"], c["n"]))
    row("placed (genre or mood after turn 1)", lambda c, r: share(c["placed"], c["n"]))
    row("tag lists: genre tags in the prompt", lambda c, r: share(c["genre_tags_kept"], c["genre_tags"]))
    row("tag lists: first genre tag in the prompt", lambda c, r: share(c["first_genre_kept"], c["first_genre"]))
    row("tag lists: instruments in the prompt", lambda c, r: share(c["instr_kept"], c["instr"]))
    row("tag lists: voices in the prompt", lambda c, r: share(c["voice_kept"], c["voice"]))
    row("tag lists: first three qualifiers in the prompt", lambda c, r: share(c["qual_kept"], c["qual"]))
    row("unknown two-word names read as music words", lambda c, r: f"{c['names_misread']} of {c['names']}")
    row("prompt words: median / max", lambda c, r: f"{statistics.median(r['words']):.0f} / {max(r['words'])}")
    row("ms per turn: p50 / p95", lambda c, r: f"{1000 * percentile(r['times'], 0.5):.1f} / "
                                               f"{1000 * percentile(r['times'], 0.95):.1f}")
    print("\nper kind: understood / placed")
    for kind in KINDS:
        print(f"  {kind:<50}" + "".join(
            f"{share(results[n]['per_kind'][kind]['understood'], results[n]['per_kind'][kind]['n']) + ' / ' + share(results[n]['per_kind'][kind]['placed'], results[n]['per_kind'][kind]['n']):>16}"
            for n in names))
    print("\nusage-weighted tag coverage (the study's 1,193 tags)")
    for label, (value, count) in sorted(coverage(tags).items(), key=lambda kv: -kv[1][1]):
        print(f"  {label:<12} {value:>7.1%}  ({count} tags)")


if __name__ == "__main__":
    main()
