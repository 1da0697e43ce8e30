"""Int8 linear layers for CPU decoding that keep every row independent of its batch-mates.

A MusicGen step on a 2-core CPU is bound by reading the decoder's weights, so int8 weights (four
times less to read than float32) are where the time goes. torch's dynamic quantisation scales the
activations per *tensor*: a take's numbers would then depend on the other takes in the batch and a
seed would stop reproducing its take. Here every row (one token of one take) is first divided by
its own largest magnitude, so all rows lie in [-1, 1] and quantise with one fixed scale; the
integer product is exact, and the row's scale is multiplied back afterwards. The result is
bit-identical whether a row is computed alone or in any batch, so takes can be batched, and it is
more accurate than per-tensor scaling (each row uses the whole int8 range, and weights are scaled
per output channel).
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import torch

TINY = 1e-30  # an all-zero row divides by this instead of by zero


@lru_cache(maxsize=1)
def _activation_levels() -> int:
    """255 levels where the CPU has VNNI (int32 accumulation); 127 elsewhere, because fbgemm's
    AVX2 kernel adds pairs of u8*s8 products in int16 and full-range activations can saturate it
    (this is why torch's own dynamic quantisation uses a reduced range)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return 127
    return 255 if "vnni" in flags else 127


def int8_supported() -> bool:
    """The fixed-scale int8 kernel is fbgemm's (x86). Elsewhere (ARM's qnnpack) int8 stays off."""
    return "fbgemm" in torch.backends.quantized.supported_engines and \
        hasattr(torch.ops.quantized, "linear_with_input_q_dq_qweight_dq_output_fp32")


class RowScaledInt8Linear(torch.nn.Module):
    """Drop-in for `nn.Linear` at inference: int8 weights per output channel, activations
    quantised per row with a fixed scale after row normalisation (see the module docstring)."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scales = (weight.abs().amax(dim=1) / 127).clamp_min(TINY).double()
        with warnings.catch_warnings():  # torch marks quantised-tensor constructors as deprecated
            warnings.simplefilter("ignore")
            qweight = torch.quantize_per_channel(weight, scales, torch.zeros_like(scales, dtype=torch.long),
                                                 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(qweight, None)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        levels = _activation_levels()
        self._scale, self._zero_point = 2.0 / levels, levels // 2  # [-1, 1] -> [0, levels]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).float()
        norms = rows.abs().amax(dim=-1, keepdim=True).clamp_min(TINY)
        product = torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
            rows / norms, self._scale, self._zero_point, self._packed)
        out = product * norms if self.bias is None else torch.addcmul(self.bias, product, norms)
        return out.reshape(*x.shape[:-1], self.out_features).to(x.dtype)


def quantize_linears(module: torch.nn.Module) -> torch.nn.Module:
    """Replace every `nn.Linear` inside `module` (in place) with `RowScaledInt8Linear`."""
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(parent, name, RowScaledInt8Linear(child))
    return module
