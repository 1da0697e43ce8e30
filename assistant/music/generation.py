"""What one MusicGen generation asks for, and the decode path a model runs every generation on.

The parameters are one frozen object so that a batch shares exactly one (it is the batch key) and
no call passes them loose; the path is chosen once, when the model loads, from what it is (a melody
model conditions through generate() alone) and where it runs (CUDA graphs only on a GPU).
"""
from __future__ import annotations

from enum import Enum
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict


class GenerationParams(BaseModel):
    """Length, guidance and sampling of one generation; everything else is its inputs."""

    model_config = ConfigDict(frozen=True)

    duration_s: float  # audio after any prompt, at most one model window
    guidance_scale: float = 3.0
    top_k: int = 250
    chunk_s: float = 1.0  # streamed audio comes in chunks this long
    negative_prompt: Optional[str] = None  # guidance steers away from it instead of from the empty text

    @classmethod
    def of(cls, params: Union["GenerationParams", float]) -> "GenerationParams":
        """A duration alone means the defaults for everything else."""
        return params if isinstance(params, GenerationParams) else cls(duration_s=float(params))

    @property
    def negative(self) -> bool:
        """Guidance runs against the negative prompt (it needs guidance above 1 to mean anything)."""
        return bool(self.negative_prompt) and self.guidance_scale > 1

    @property
    def unconditional_half(self) -> bool:
        """Guidance runs against the empty text: every sequence has an unconditional twin."""
        return self.guidance_scale > 1 and not self.negative

    @property
    def negative_text(self) -> Optional[str]:
        return self.negative_prompt if self.negative else None


class DecodePath(str, Enum):
    GRAPHS = "graphs"  # assistant.music.static_decode: fixed-shape steps, replayed as CUDA graphs (eager on a CPU)
    LOOP = "loop"  # assistant.music.decode_loop: our eager loop
    GENERATE = "generate"  # transformers' generate() with our sampler: the reference
    MELODY = "melody"  # MusicGen-melody through generate(): its conditions prefix the decoder

    @property
    def own_loop(self) -> bool:
        """The path runs our own decode steps (text padded to buckets, tokens kept as codes)."""
        return self in (DecodePath.GRAPHS, DecodePath.LOOP)


def choose_path(device: str, melody: bool, own_loop: Optional[bool], graphs: Optional[bool]) -> DecodePath:
    """The path for a model on `device`; None asks for the measured default: our loop everywhere (on
    an H100 7.7 s for 10 s of audio against generate()'s 10.9 s), CUDA graphs with CUDA (1.06 s), not
    on the CPU, where the eager loop with int8 weights is the measured fast path."""
    if melody:  # our decode loops are built on cross-attention
        return DecodePath.MELODY
    if graphs is None:
        graphs = device.startswith("cuda") and own_loop is not False
    if graphs:
        return DecodePath.GRAPHS
    return DecodePath.GENERATE if own_loop is False else DecodePath.LOOP
