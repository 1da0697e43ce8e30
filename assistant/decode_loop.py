"""Our own MusicGen decode loop over transformers' modules, for text-conditioned takes.

transformers' generate() spends a good part of every step on bookkeeping: logits processors,
stopping criteria, the delay pattern re-applied to the whole sequence, cache objects, attention
masks built afresh. On 2 CPU cores that is several milliseconds of a ~25 ms step. This loop does
only the maths, with the same modules and weights:

- the text encoder runs once; every layer's cross-attention keys and values are computed once;
- both guidance halves run as one batch (unconditional rows see zero text, as transformers does);
- the delay pattern is built once with transformers' own `build_delay_pattern_mask`;
- keys and values go into preallocated buffers and attention reads the filled part (no concatenation);
- the sampler is called directly with the logits.

Under greedy decoding it gives exactly plain `generate()`'s tokens (tests/test_music.py).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

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
    returns back in."""

    def __init__(self, model, input_ids: torch.Tensor, attention_mask: torch.Tensor, unconditional_half: bool):
        decoder = model.decoder.model.decoder
        if not hasattr(model.decoder, "lm_heads_fused"):
            fuse_projections(model)
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

    def run(self, choose: ChooseFn, steps: int) -> None:
        config = self.model.generation_config
        start = torch.full((self.sequences * self.codebooks, 1), int(config.decoder_start_token_id),
                           dtype=torch.long, device=self.cross_mask.device)
        _, pattern = self.model.decoder.build_delay_pattern_mask(
            start, pad_token_id=int(config.decoder_start_token_id), max_length=steps + 1)
        tokens = start[:, 0]
        keys = values = None
        for step in range(steps):
            forced = pattern[:, step]
            tokens = torch.where(forced == -1, tokens, forced)
            hidden = self._embed(tokens.view(self.sequences, self.codebooks), step)
            if keys is None:
                shape = (len(self.decoder.layers), self.sequences, self.heads_n, steps + 1, self.head_dim)
                keys, values = hidden.new_empty(shape), hidden.new_empty(shape)
            logits = self._step(hidden, step, keys, values)
            chosen = choose(logits)
            tokens = chosen.repeat(logits.shape[0] // chosen.shape[0]).to(tokens.device)

    def _embed(self, tokens: torch.Tensor, position: int) -> torch.Tensor:
        embeds = sum(self.decoder.embed_tokens[k](tokens[:, k]) for k in range(self.codebooks))
        positions = self.decoder.embed_positions(tokens[:, :, None], position)
        return (embeds + positions.to(embeds.device))[:, None, :]

    def _step(self, hidden: torch.Tensor, position: int, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """One position for every sequence: (sequences, 1, width) -> logits (sequences * codebooks, vocab)."""
        batch, width = hidden.shape[0], hidden.shape[-1]
        cross_keys, cross_values = self.cross
        for index, layer in enumerate(self.decoder.layers):
            attention = layer.self_attn
            query, key, value = attention.qkv_proj(layer.self_attn_layer_norm(hidden)).split(width, dim=-1)
            query = self._split(query)
            keys[index, :, :, position] = key.view(batch, self.heads_n, self.head_dim)
            values[index, :, :, position] = value.view(batch, self.heads_n, self.head_dim)
            mixed = F.scaled_dot_product_attention(query, keys[index, :, :, :position + 1],
                                                   values[index, :, :, :position + 1], scale=attention.scaling)
            hidden = hidden + attention.out_proj(mixed.transpose(1, 2).reshape(batch, 1, width))

            attention = layer.encoder_attn
            query = self._split(attention.q_proj(layer.encoder_attn_layer_norm(hidden)))
            mixed = F.scaled_dot_product_attention(query, cross_keys[index], cross_values[index],
                                                   attn_mask=self.cross_mask, scale=attention.scaling)
            hidden = hidden + attention.out_proj(mixed.transpose(1, 2).reshape(batch, 1, width))

            hidden = hidden + layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(hidden))))
        hidden = self.decoder.layer_norm(hidden)[:, 0]
        return self.heads(hidden).view(batch * self.codebooks, -1)  # rows ordered sequence, then codebook
