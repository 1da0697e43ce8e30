"""Settings from environment variables, with defaults that work offline."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field

from assistant.limits import DURATION_MAX_S, DURATION_MIN_S, KEEP_FILES_MINUTES, MAX_TAKES


class AppConfig(BaseModel):
    llm: str = "embedded"  # off | embedded | /path/to/model.gguf | hf:REPO/FILE.gguf
    music: str = "musicgen"  # off | sketch | musicgen[:HF_ID_OR_PATH]
    takes: int = Field(default=2, ge=1, le=MAX_TAKES)
    duration_s: float = Field(default=10.0, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    seed: Optional[int] = None  # None: the CLI uses 0 (repeatable), each web session a random base
    output_dir: Path = Path("outputs")
    keep_files_minutes: float = KEEP_FILES_MINUTES
    llm_threads: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    monitoring: bool = False  # Gradio's /monitoring shows every user's traffic: off unless the operator turns it on

    def llm_choices(self) -> list[str]:
        """What a user or an API client may pick: the operator's choice, or less (never another model)."""
        return sorted({"off", self.llm})

    def music_choices(self) -> list[str]:
        return sorted({"off", "sketch", self.music})

    def allowed(self, llm: Optional[str], music: Optional[str]) -> tuple[str, str]:
        """A client's picks where the operator allows them, the operator's own otherwise: an API
        client can't switch on a model the operator left off, nor load a path of its own."""
        return (llm if llm in self.llm_choices() else self.llm,
                music if music in self.music_choices() else self.music)


ENV_PREFIX = "MUSICBRIEF_"


def load_config(**overrides: object) -> AppConfig:
    """Environment first (MUSICBRIEF_LLM, MUSICBRIEF_MUSIC, ...), explicit overrides win."""
    values: dict[str, object] = {}
    for name in AppConfig.model_fields:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None and env != "":
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AppConfig.model_validate(values)
