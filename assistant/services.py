"""Build the optional services a Session uses from plain settings strings.

Heavy libraries (llama-cpp, torch) are imported only when a setting asks for them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

from assistant.config import AppConfig, load_config
from assistant.session import Session
from assistant.state import Settings

log = logging.getLogger(__name__)


def build_understanding(llm: str, config: AppConfig) -> Optional[object]:
    """`off` -> None; anything else -> the LLM helper around a llama-cpp model."""
    if llm in ("", "off", "none"):
        return None
    from assistant.llm import load_llm
    from assistant.understand import Understanding

    return Understanding(load_llm(llm, threads=config.llm_threads))


def build_music(music: str, config: AppConfig) -> Optional[object]:
    """`off` -> None; `sketch`; `musicgen[:ID_OR_PATH]`."""
    if music in ("", "off", "none"):
        return None
    from assistant.music import build_renderer

    return build_renderer(music, output_dir=Path(config.output_dir), keep_files_minutes=config.keep_files_minutes)


def make_session(settings: dict[str, Any], **overrides: Any) -> Session:
    """A Session from conversation-file settings, with CLI flags (overrides) taking precedence."""
    merged = {**settings, **{k: v for k, v in overrides.items() if v is not None}}
    merged = {k: ("off" if v is False else v) for k, v in merged.items()}  # YAML reads `off` as False
    config = load_config(**{k: merged[k] for k in ("llm", "music", "takes", "duration_s", "seed")
                            if k in merged})
    state_settings = Settings(llm=config.llm, music=config.music, seed=config.seed, takes=config.takes)
    return Session(state_settings, understand=build_understanding(config.llm, config),
                   music=build_music(config.music, config), duration_s=config.duration_s)
