"""The architecture's own checks: no import circle, words only in prompts/, short functions.

The import contracts between packages are checked by `lint-imports` (pyproject.toml), run by CI."""
from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted([*(ROOT / "assistant").rglob("*.py"), *(ROOT / "webui").rglob("*.py")])
KERNEL = ["brief", "limits", "resources", "facts", "vocab", "wording", "actions", "compute", "takes", "bounded"]
MAX_FUNCTION_LINES = 60
WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*[.,;:!?]?$")  # a plain English word, maybe with its punctuation
REGEX_SYNTAX = re.compile(r"\(\?|\\[bdswBDSW]|\[\^?\w")  # a pattern is a vocabulary's spelling, not a sentence
DEVELOPER_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "warn"}  # logging, warnings


@functools.lru_cache(maxsize=None)  # the literal and the length checks read the same files
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _for_developers(tree: ast.Module) -> set[int]:
    """Strings inside a raise, a logging call or a warning: read by developers, not users."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                           and node.func.attr in DEVELOPER_CALLS):
            found.update(id(inner) for inner in ast.walk(node))
    return found


def english_literals(path: Path) -> list[str]:
    """String literals of three or more plain words: words a user might read."""
    tree = _tree(path)
    skipped = _docstrings(tree) | _for_developers(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            if not REGEX_SYNTAX.search(node.value) and sum(bool(WORD.match(t)) for t in node.value.split()) >= 3:
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                found.append(f"{where}:{node.lineno}: {node.value!r}")
    return found


def test_the_detector_finds_a_sentence_and_passes_patterns_and_logs(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('import logging\nlog = logging.getLogger()\n'
                      'def f():\n    """A docstring of many words."""\n'
                      '    log.info("a log line of words")\n'
                      '    pattern = r"(?<![\\w])(?:make it|turn it up)"\n'
                      '    return "Here is your song"\n')
    found = english_literals(sample)
    assert len(found) == 1 and "Here is your song" in found[0]


def test_no_user_facing_english_outside_prompts() -> None:
    found = [line for path in CODE for line in english_literals(path)]
    assert found == [], "words a user reads belong in prompts/ (replies.yaml, labels.yaml):\n" + "\n".join(found)


def test_no_function_over_the_limit() -> None:
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in CODE for node in ast.walk(_tree(path))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == [], "\n".join(long)


def test_the_kernel_imports_at_the_top() -> None:
    """No function-level import of the project in the kernel: an import there would hide a circle."""
    inner = []
    for name in KERNEL:
        tree = _tree(ROOT / "assistant" / f"{name}.py")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    module = sub.module if isinstance(sub, ast.ImportFrom) else None
                    if module and module.split(".")[0] in {"assistant", "webui", "support"}:
                        inner.append(f"{name}.py:{sub.lineno} {module}")
    assert inner == []


FRESH_IMPORTS = ["assistant.brief", "assistant.limits", "assistant.wording"]


def test_a_kernel_module_imports_alone_in_a_fresh_interpreter() -> None:
    """Each in its own interpreter, started together (one interpreter would share the import cache)."""
    runs = {module: subprocess.Popen([sys.executable, "-c", f"import {module}"], cwd=ROOT, text=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for module in FRESH_IMPORTS}
    failed = {module: run.communicate(timeout=60)[1] for module, run in runs.items()}
    failed = {module: err for module, err in failed.items() if runs[module].returncode != 0}
    assert failed == {}, failed
