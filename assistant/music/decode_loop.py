"""Our own MusicGen decode loop over transformers' modules.

transformers' generate() spends a good part of every step on bookkeeping: logits processors,
stopping criteria, the delay pattern re-applied to the whole sequence, cache objects, attention
masks built afresh. On 2 CPU cores that is several milliseconds of a ~25 ms step. This loop does
only the maths, with the same modules and weights:

- the text encoder runs once; every layer's cross-attention keys and values are computed once;
- an audio prompt to continue (the sections of long pieces) runs in one causal pass;
- both guidance halves run as one batch (unconditional rows see zero text, as transformers does);
- the delay pattern is built once with transformers' own `build_delay_pattern_mask`;
- keys and values go into preallocated buffers and attention reads the filled part (no concatenation);
- the sampler is called directly with the logits.

Under greedy decoding it gives exactly plain `generate()`'s tokens, and with our seeded sampler the
same takes as `generate()` (tests/test_music.py).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from assistant.limits import TEXT_BUCKETS

ChooseFn = Callable[[torch.Tensor], torch.Tensor]  # logits (rows, vocab) -> tokens (rows or fewer)


def _concatenated(linears: list[torch.nn.Linear]) -> torch.nn.Linear:
    fused = torch.nn.Linear(linears[0].in_features, sum(x.out_features for x in linears),
                            bias=linears[0].bias is not None, device=linears[0].weight.device,
                            dtype=linears[0].weight.dtype)
    with torch.no_grad():
        fused.weight.copy_(torch.cat([x.weight for x in linears]))
        if fused.bias is not None:
            fused.bias.copy_(torch.cat([x.bias for x in linears]))
    return fused.requires_grad_(False)


def fuse_projections(model) -> None:
    """One matrix product where the loop needs several from the same input: each self-attention's
    query, key and value, and the codebooks' output heads. Fewer, larger calls cost less per step.
    Run before any quantisation, so the fused layers are quantised like the rest."""
    for layer in model.decoder.model.decoder.layers:
        attention = layer.self_attn
        attention.qkv_proj = _concatenated([attention.q_proj, attention.k_proj, attention.v_proj])
    model.decoder.lm_heads_fused = _concatenated(list(model.decoder.lm_heads))


def text_bucket(length: int, buckets: tuple[int, ...] = TEXT_BUCKETS) -> int:
    """The padded token length for a prompt of `length` tokens: the smallest bucket that holds it,
    past the last a multiple of the last. Every distinct length is a new set of graphs and buffers."""
    fits = [b for b in buckets if b >= length]
    return fits[0] if fits else -(-length // buckets[-1]) * buckets[-1]


def padded_text(input_ids: torch.Tensor, attention_mask: torch.Tensor, pad_id: int,
                buckets: tuple[int, ...] = TEXT_BUCKETS) -> tuple[torch.Tensor, torch.Tensor]:
    """The tokenised prompts padded on the right to their bucket, masked: the encoder and the
    cross-attention ignore masked positions, so the take is the same, in far fewer shapes."""
    extra = text_bucket(input_ids.shape[-1], buckets) - input_ids.shape[-1]
    if extra <= 0:
        return input_ids, attention_mask
    return F.pad(input_ids, (0, extra), value=pad_id), F.pad(attention_mask, (0, extra), value=0)


def encode_text(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, unconditional_half: bool):
    """Encoder states as the decoder's cross-attention sees them, and the mask for them.

    Mirrors transformers: with guidance a zero 'null' text is appended per row, the states are
    projected to the decoder width, and padded positions are zeroed."""
    states = model.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    if unconditional_half:
        states = torch.cat([states, torch.zeros_like(states)])
        attention_mask = torch.cat([attention_mask, torch.zeros_like(attention_mask)])
    if model.text_encoder.config.hidden_size != model.decoder.config.hidden_size \
            and model.decoder.config.cross_attention_hidden_size is None:
        states = model.enc_to_dec_proj(states)
    return states * attention_mask[..., None].to(states.dtype), attention_mask


class DecodeLoop:
    """One generation: `run(choose, steps)` feeds `choose` each step's logits and the tokens it
    returns back in. Needs `fuse_projections(model)` first (MusicGenModel.load does it)."""

    def __init__(self, model, input_ids: torch.Tensor, attention_mask: torch.Tensor, unconditional_half: bool):
        decoder = model.decoder.model.decoder
        self.model, self.decoder, self.heads = model, decoder, model.decoder.lm_heads_fused
        self.codebooks = model.decoder.num_codebooks
        config = model.decoder.config
        self.heads_n, self.head_dim = config.num_attention_heads, config.hidden_size // config.num_attention_heads
        states, mask = encode_text(model, input_ids, attention_mask, unconditional_half)
        self.sequences = states.shape[0]
        # Rows with no text at all (the null half) attend to zeros: their cross-attention is 0 either
        # way, so they get an open mask rather than an all-masked row.
        open_rows = mask.sum(-1, keepdim=True) == 0
        allowed = (mask > 0) | open_rows
        self.cross_mask = torch.zeros(allowed.shape, dtype=states.dtype, device=states.device) \
            .masked_fill(~allowed, float("-inf"))[:, None, None, :]
        self.cross = [self._split(layer.encoder_attn.k_proj(states)) for layer in decoder.layers], \
            [self._split(layer.encoder_attn.v_proj(states)) for layer in decoder.layers]

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, length, width) -> (batch, heads, length, head_dim)"""
        return x.view(x.shape[0], x.shape[1], self.heads_n, self.head_dim).transpose(1, 2)

    def run(self, choose: ChooseFn, steps: int, prompt_codes: Optional[torch.Tensor] = None,
            on_tokens: Optional[Callable[[torch.Tensor], None]] = None) -> None:
        """`steps` new positions. `prompt_codes` (sequences * codebooks, frames) is audio to
        continue: its positions are run in one causal pass first. `on_tokens` hears every position's
        tokens after the delay pattern, the prompt's included, in order."""
        start_token = int(self.model.generation_config.decoder_start_token_id)
        ids = torch.full((self.sequences * self.codebooks, 1), start_token, dtype=torch.long,
                         device=self.cross_mask.device)
        if prompt_codes is not None:
            ids = torch.cat([ids, prompt_codes.to(ids.device)], dim=-1)
        known, pattern = self.model.decoder.build_delay_pattern_mask(
            ids, pad_token_id=start_token, max_length=ids.shape[-1] + steps)
        fixed = known.shape[-1]  # positions known before sampling starts (start token, prompt, delays)
        shape = (len(self.decoder.layers), self.sequences, self.heads_n, fixed + steps, self.head_dim)
        keys = torch.empty(shape, dtype=self.cross_mask.dtype, device=known.device)
        values = torch.empty_like(keys)
        if fixed > 1:
            self._step(self._embed(known[:, :-1], 0), 0, keys, values)
        if on_tokens is not None:
            for position in range(1, fixed):
                on_tokens(known[:, position])
        tokens = known[:, -1]
        for position in range(fixed - 1, fixed - 1 + steps):
            logits = self._step(self._embed(tokens[:, None], position), position, keys, values)
            chosen = choose(logits)
            chosen = chosen.repeat(logits.shape[0] // chosen.shape[0]).to(tokens.device)
            forced = pattern[:, position + 1]
            tokens = torch.where(forced == -1, chosen, forced)
            if on_tokens is not None:
                on_tokens(tokens)

    def _embed(self, tokens: torch.Tensor, position: int) -> torch.Tensor:
        """(sequences * codebooks, length) tokens from `position` on -> (sequences, length, width)"""
        codes = tokens.view(self.sequences, self.codebooks, -1)
        embeds = sum(self.decoder.embed_tokens[k](codes[:, k]) for k in range(self.codebooks))
        return embeds + self.decoder.embed_positions(codes, position).to(embeds.device)

    def _step(self, hidden: torch.Tensor, position: int, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Positions from `position` on for every sequence: (sequences, length, width) -> the last
        position's logits (sequences * codebooks, vocab). Several positions only from 0 (the prompt)."""
        batch, length, _ = hidden.shape
        end = position + length

        def cache(index: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            keys[index, :, :, position:end], values[index, :, :, position:end] = key, value
            return keys[index, :, :, :end], values[index, :, :, :end]

        for index, layer in enumerate(self.decoder.layers):
            hidden = self.layer_step(index, layer, hidden, cache, mask=None, causal=length > 1)
        hidden = self.decoder.layer_norm(hidden[:, -1])
        return self.heads(hidden).view(batch * self.codebooks, -1)  # rows ordered sequence, then codebook

    def layer_step(self, index: int, layer, hidden: torch.Tensor, cache: Callable, mask: Optional[torch.Tensor],
                   causal: bool) -> torch.Tensor:
        """One decoder layer: self-attention over the cached positions (`cache` writes this step's
        keys and values and returns what to attend to), cross-attention to the text, the MLP. The
        one layer body of the eager loop and the static (graph-capturable) step."""
        batch, length, width = hidden.shape
        attention = layer.self_attn
        query, key, value = attention.qkv_proj(layer.self_attn_layer_norm(hidden)).split(width, dim=-1)
        keys, values = cache(index, self._split(key), self._split(value))
        mixed = F.scaled_dot_product_attention(self._split(query), keys, values, attn_mask=mask, is_causal=causal,
                                               scale=attention.scaling)
        hidden = hidden + attention.out_proj(mixed.transpose(1, 2).reshape(batch, length, width))
        attention = layer.encoder_attn
        cross_keys, cross_values = self.cross
        query = self._split(attention.q_proj(layer.encoder_attn_layer_norm(hidden)))
        mixed = F.scaled_dot_product_attention(query, cross_keys[index], cross_values[index],
                                               attn_mask=self.cross_mask, scale=attention.scaling)
        hidden = hidden + attention.out_proj(mixed.transpose(1, 2).reshape(batch, length, width))
        return hidden + layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(hidden))))
