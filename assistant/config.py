"""Settings from environment variables, with defaults that work offline."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field

from assistant.limits import DURATION_MAX_S, DURATION_MIN_S, MAX_TAKES


class AppConfig(BaseModel):
    llm: str = "embedded"  # off | embedded | /path/to/model.gguf | hf:REPO/FILE.gguf
    music: str = "musicgen"  # off | sketch | musicgen[:HF_ID_OR_PATH]
    takes: int = Field(default=2, ge=1, le=MAX_TAKES)
    duration_s: float = Field(default=10.0, ge=DURATION_MIN_S, le=DURATION_MAX_S)
    seed: Optional[int] = None  # None: the CLI uses 0 (repeatable), each web session a random base
    output_dir: Path = Path("outputs")
    keep_files_minutes: float = 120.0
    llm_threads: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))


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
