"""Build the optional services a Session uses from plain settings strings.

Heavy libraries (llama-cpp, torch) are imported only when a setting asks for them.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from assistant import limits
from assistant.app.config import AppConfig, load_config
from assistant.app.session import Session
from assistant.dialogue.state import Settings

if TYPE_CHECKING:  # heavy backends are imported only when a setting asks for them
    from assistant.music import Renderer
    from assistant.understanding.understand import Understanding

log = logging.getLogger(__name__)


def build_understanding(llm: str, config: AppConfig) -> Optional[Understanding]:
    """`off` -> None; anything else -> the LLM helper around a llama-cpp model."""
    if llm in ("", "off", "none"):
        return None
    from assistant.understanding.llm import load_llm
    from assistant.understanding.understand import Understanding

    return Understanding(load_llm(llm, threads=config.llm_threads))


def build_music(music: str, config: AppConfig) -> Optional[Renderer]:
    """`off` -> None; `sketch`; `musicgen[:ID_OR_PATH]`."""
    if music in ("", "off", "none"):
        return None
    from assistant.music.renderer import build_renderer

    return build_renderer(music, output_dir=Path(config.output_dir), keep_files_minutes=config.keep_files_minutes)


def make_session(settings: dict[str, Any], **overrides: Any) -> Session:
    """A Session from conversation-file settings, with CLI flags (overrides) taking precedence.
    Built the one way every session is (SharedServices), strictly: a broken LLM setting fails here."""
    merged = {**settings, **{k: v for k, v in overrides.items() if v is not None}}
    merged = {k: ("off" if v is False else v) for k, v in merged.items()}  # YAML reads `off` as False
    config = load_config(**{k: merged[k] for k in ("llm", "music", "takes", "duration_s", "seed")
                            if k in merged})
    return SharedServices(config, strict=True).new_session(seed=config.seed or 0)


class SharedServices:
    """Models loaded once per process and shared by every conversation (each has its own Session)."""

    def __init__(self, config: AppConfig, strict: bool = False):
        self.config = config
        self.strict = strict  # the CLI and tests: a broken LLM setting is an error, not a fallback
        self._understand: dict[str, Optional[Understanding]] = {}
        self._music: dict[str, Optional[Renderer]] = {}

    def understand(self, llm: str) -> Optional[Understanding]:
        if llm not in self._understand:
            try:
                self._understand[llm] = build_understanding(llm, self.config)
            except Exception as err:  # a broken LLM setting leaves the deterministic core working
                if self.strict:
                    raise
                log.warning("LLM %r unavailable (%s); continuing without it", llm, err)
                self._understand[llm] = None
        return self._understand[llm]

    def music(self, music: str) -> Optional[Renderer]:
        if music not in self._music:
            self._music[music] = build_music(music, self.config)
        return self._music[music]

    def new_session(self, llm: Optional[str] = None, music: Optional[str] = None,
                    takes: Optional[int] = None, duration_s: Optional[float] = None,
                    seed: Optional[int] = None) -> Session:
        """`seed`: the base of every derived seed; unset, the config's, or a random one per session."""
        llm, music = llm or self.config.llm, music or self.config.music
        seed = seed if seed is not None else self.config.seed
        seed = seed if seed is not None else secrets.randbelow(limits.FRESH_SEED_LIMIT)
        session = Session(Settings(llm=llm, music=music, seed=seed, takes=self.config.takes),
                          understand=self.understand(llm), music=self.music(music), duration_s=self.config.duration_s)
        session.apply_settings(takes if takes is not None else self.config.takes,
                               duration_s if duration_s is not None else self.config.duration_s)
        return session


def musicgen_weights_present(music: str) -> bool:
    """Cheap, offline: is the model a `musicgen[:ID_OR_PATH]` setting names already on this machine?"""
    from assistant.music.musicgen import DEFAULT_MODEL, weights_present

    _, _, model_id = music.partition(":")
    return weights_present(model_id or DEFAULT_MODEL)


def gpu_lease_seconds(takes: float, duration_s: float) -> float:
    """How long a ZeroGPU lease one turn needs, from MusicGen's measured speed on a GPU."""
    from assistant.music.musicgen import estimate_gpu_seconds

    return estimate_gpu_seconds(takes, duration_s)


def concurrent_generations() -> int:
    """Rounds the web app's queue lets run at once: as many as the music wing's own slots."""
    from assistant.music.renderer import concurrent_generations as slots

    return slots()
