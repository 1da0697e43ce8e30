"""ZeroGPU on Hugging Face Spaces: `spaces.GPU` with a duration estimate, a no-op elsewhere."""
from __future__ import annotations

from typing import Any, Callable


def on_gpu(estimate: Callable[..., float]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a handler so a Space lends it a GPU for about `estimate(*args)` seconds."""
    try:
        import spaces  # present only on Spaces
    except ImportError:
        return lambda fn: fn
    return lambda fn: spaces.GPU(duration=lambda *a, **k: int(min(300, estimate(*a, **k))))(fn)
