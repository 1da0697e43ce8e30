"""Command line: scripted conversations, an interactive chat, and a prompt coach.

    python -m assistant.app.cli run FILE.yaml [--json] [--llm ...] [--music ...]
    python -m assistant.app.cli chat              (/audio PATH [message]: a clip with the message)
    python -m assistant.app.cli refine < requests.txt
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Optional

import yaml

from assistant.actions import Say
from support.conversation import ExpectationFailed, load_spec, run_conversation
from assistant.app.config import load_config
from assistant.limits import MAX_TAKES
from assistant.app.refine import refine
from assistant.app.services import build_understanding, make_session
from assistant.wording import reply

log = logging.getLogger(__name__)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--llm", help=reply("cli_help_llm"))
    parser.add_argument("--music", help=reply("cli_help_music"))
    parser.add_argument("--takes", type=int, help=reply("cli_help_takes", max=MAX_TAKES))
    parser.add_argument("--duration", type=float, dest="duration_s", help=reply("cli_help_duration"))
    parser.add_argument("--seed", type=int, help=reply("cli_help_seed"))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in ("llm", "music", "takes", "duration_s", "seed")}


def cmd_run(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.file)
    except (OSError, ValueError, yaml.YAMLError) as err:  # pydantic's ValidationError is a ValueError
        print(reply("cli_cannot_run", file=args.file, error=str(err)), file=sys.stderr)
        return 2
    records = []
    try:
        records = run_conversation(spec, lambda s: make_session(s, **_overrides(args)))
        status = 0
    except ExpectationFailed as failure:
        print(reply("cli_failed", conversation=spec.name, failure=str(failure)), file=sys.stderr)
        records, status = failure.records, 1
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
    elif status == 0:
        for r in records:
            print(f"> {r.user}\n[{r.action}] {r.reply}")
            if r.options:
                print("   options: " + " | ".join(r.options))
            for take in r.takes:
                print(f"   take: {take.path} (seed {take.seed})")
        print(reply("cli_passed", conversation=spec.name, turns=len(records)))
    return status


def cmd_chat(args: argparse.Namespace) -> int:
    session = make_session({}, **_overrides(args))
    print(reply("cli_chat_banner"))
    while True:
        try:
            message = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        record = session.do(chat_action(message), progress=_print_progress)
        print(f"musicbrief> {record.reply}")
        for i, option in enumerate(record.options, 1):
            print(f"   [{i}] {option}")
        for take in record.takes:
            print(f"   take {take.path} (seed {take.seed})")


def chat_action(line: str) -> Say:
    """A line of the terminal chat: `/audio PATH [message]` sends a clip with the message, as an
    upload does in the web chat."""
    command, _, rest = line.strip().partition(" ")
    if command != "/audio" or not rest.strip():
        return Say(text=line)
    rest = rest.strip()
    if rest[0] in "'\"" and rest.find(rest[0], 1) > 0:  # a quoted path may hold spaces
        end = rest.find(rest[0], 1)
        path, message = rest[1:end], rest[end + 1:]
    else:
        path, _, message = rest.partition(" ")
    return Say(text=message.strip(), clip=os.path.expanduser(path))


def _print_progress(fraction: float, label: str) -> None:
    print(f"\r   {label} {fraction:4.0%}", end="" if fraction < 1 else "\n", flush=True)


def cmd_refine(args: argparse.Namespace) -> int:
    """One request per line -> one JSON line with the filled brief and prompt; never asks."""
    config = load_config(**{k: v for k, v in _overrides(args).items() if k in ("llm", "seed")})
    understand = build_understanding(config.llm, config)
    for line in sys.stdin:
        request = line.strip()
        if not request:
            continue
        try:
            brief, prompt, notices = refine(request, understand=understand, seed=config.seed or 0)
        except Exception as err:  # one bad line never drops the lines after it
            log.exception("refine failed")
            print(json.dumps({"request": request, "error": reply("refine_failed", error=type(err).__name__)}),
                  flush=True)
            continue
        out = {"request": request, "brief": brief.model_dump(mode="json"), "prompt": prompt}
        if notices:
            out["notices"] = notices
        print(json.dumps(out), flush=True)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.app.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=reply("cli_help_run"))
    run.add_argument("file")
    run.add_argument("--json", action="store_true", help=reply("cli_help_json"))
    _common(run)
    _common(sub.add_parser("chat", help=reply("cli_help_chat")))
    _common(sub.add_parser("refine", help=reply("cli_help_refine")))
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "chat": cmd_chat, "refine": cmd_refine}[args.command](args)
    finally:
        shutdown()


def shutdown() -> None:
    """Free native models in order while the interpreter is whole (see llm.close_all)."""
    if "assistant.understanding.llm" in sys.modules:
        sys.modules["assistant.understanding.llm"].close_all()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and every model freed: skip the native libraries' static destructors
    # (llama.cpp's OpenMP pool beside pedalboard's JUCE), whose order at exit is not defined.
    os._exit(code)
