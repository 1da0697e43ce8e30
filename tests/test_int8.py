"""Row-scaled int8 linear layers: a row's result never depends on its batch-mates, and stays close to float32."""
import warnings

import pytest
import torch

from assistant.music.int8 import RowScaledInt8Linear, int8_supported, quantize_linears

pytestmark = pytest.mark.slow  # torch numerics of the music wing: the quick loop never imports torch


@pytest.fixture(autouse=True)
def fbgemm() -> None:
    if not int8_supported():
        pytest.skip("needs fbgemm (x86)")


def _rows(n: int, width: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    # rows of very different magnitudes, as guided and unguided halves can be
    return torch.randn(n, width, generator=generator) * torch.logspace(-2, 2, n)[:, None]


def test_a_row_gives_the_same_bits_alone_or_in_any_batch() -> None:
    layer = RowScaledInt8Linear(torch.nn.Linear(64, 32))
    x = _rows(8, 64, 0)
    batched = layer(x)
    for i in range(8):
        assert torch.equal(layer(x[i:i + 1]), batched[i:i + 1])
    assert torch.equal(layer(x[[5, 2]]), batched[[5, 2]])


def test_closer_to_float32_than_torchs_dynamic_quantisation() -> None:
    linear = torch.nn.Linear(256, 128)
    x = _rows(16, 256, 1)
    exact = linear(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dynamic = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear},
                                                         dtype=torch.qint8)[0](x)
    ours = RowScaledInt8Linear(linear)(x)

    def per_row_error(y: torch.Tensor) -> float:
        return ((y - exact).norm(dim=1) / exact.norm(dim=1)).max().item()

    assert per_row_error(ours) < 0.02
    assert per_row_error(ours) < per_row_error(dynamic)


def test_shapes_zero_rows_and_no_bias() -> None:
    model = quantize_linears(torch.nn.Sequential(torch.nn.Linear(16, 8, bias=False), torch.nn.ReLU()))
    assert isinstance(model[0], RowScaledInt8Linear)
    x = torch.zeros(2, 3, 16)
    x[0, 1] = torch.randn(16)
    out = model(x)
    assert out.shape == (2, 3, 8) and torch.isfinite(out).all()
    assert torch.equal(out[1], torch.zeros(3, 8))


def test_reduced_range_for_cpus_without_vnni_stays_batch_invariant_and_close() -> None:
    linear = torch.nn.Linear(128, 64)
    layer = RowScaledInt8Linear(linear)
    layer._scale, layer._zero_point = 2.0 / 127, 127 // 2  # what _activation_levels() picks without VNNI
    x = _rows(6, 128, 2)
    exact, ours = linear(x), layer(x)
    assert torch.equal(layer(x[3:4]), ours[3:4])
    assert ((ours - exact).norm(dim=1) / exact.norm(dim=1)).max().item() < 0.04
