"""Random-weight MusicGen models built from a config, for tests and speed benchmarks.

No hub is reachable here, so tests build a tiny model and save it with save_pretrained; the app
loads it through the same from_pretrained path as a real model id. `size="small"` has
musicgen-small's exact shapes (T5-base text encoder, 24-layer 1024-wide decoder, 32 kHz EnCodec):
it costs the same compute as the real model, whatever its weights.
"""
from __future__ import annotations

import re
from pathlib import Path

from assistant.resources import VOCAB_DIR


def _tokenizer(vocab_size: int):
    """A word-level tokenizer over the vocabulary files (T5's sentencepiece file is not on disk)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for p in VOCAB_DIR.parent.rglob("*.yaml") for w in re.findall(r"[a-z0-9]+", p.read_text().lower())})
    specials = ["<pad>", "</s>", "<unk>"]
    vocab = {tok: i for i, tok in enumerate(specials + words[: vocab_size - len(specials)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def build_config(size: str = "tiny"):
    from transformers import EncodecConfig, MusicgenConfig, MusicgenDecoderConfig, T5Config

    if size == "small":
        text = T5Config(vocab_size=32128, d_model=768, d_ff=3072, num_layers=12, num_heads=12, d_kv=64)
        audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=64, codebook_size=2048,
                              hidden_size=128, codebook_dim=128, upsampling_ratios=[8, 5, 4, 4],
                              target_bandwidths=[2.2], num_lstm_layers=2, normalize=False,
                              use_causal_conv=False, norm_type="weight_norm", pad_mode="reflect")
        decoder = MusicgenDecoderConfig(vocab_size=2048, hidden_size=1024, num_hidden_layers=24,
                                        num_attention_heads=16, ffn_dim=4096, num_codebooks=4,
                                        max_position_embeddings=2048)
    else:
        text = T5Config(vocab_size=1024, d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)
        # 6-bit codebooks at 50 frames/s: 1.2 kbps gives MusicGen's 4 codebooks.
        audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=4, codebook_size=64,
                              hidden_size=16, codebook_dim=16, upsampling_ratios=[8, 5, 4, 4],
                              target_bandwidths=[1.2], num_lstm_layers=1, normalize=False,
                              use_causal_conv=False, num_residual_layers=1)
        decoder = MusicgenDecoderConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=2, ffn_dim=64, num_codebooks=4,
                                        max_position_embeddings=2048)
    decoder.pad_token_id = decoder.bos_token_id = decoder.vocab_size
    config = MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=decoder.to_dict())
    config.decoder_start_token_id = config.pad_token_id = decoder.vocab_size
    return config, text.vocab_size


def build_random_musicgen(folder: Path, size: str = "tiny", seed: int = 0) -> Path:
    """Save a random MusicGen (model, tokenizer, feature extractor) to a folder and return it."""
    import torch
    from transformers import EncodecFeatureExtractor, MusicgenForConditionalGeneration, MusicgenProcessor

    torch.manual_seed(seed)
    config, text_vocab = build_config(size)
    model = MusicgenForConditionalGeneration(config).eval()
    with torch.no_grad():  # EnCodec's codebooks start at zero: every code would decode to the same audio
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.copy_(torch.randn_like(layer.codebook.embed))
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
    model.generation_config.decoder_start_token_id = config.decoder.vocab_size
    model.generation_config.pad_token_id = config.decoder.vocab_size
    model.generation_config.guidance_scale = 3.0
    model.generation_config.max_length = 1500
    processor = MusicgenProcessor(
        feature_extractor=EncodecFeatureExtractor(feature_size=1, sampling_rate=config.audio_encoder.sampling_rate),
        tokenizer=_tokenizer(text_vocab))
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


MELODY_PROJECTION_GAIN = 30.0  # a random chroma projection barely moves a tiny random decoder: made audible here


MELODY_DECODER = dict(hidden_size=1536, num_hidden_layers=48, num_attention_heads=24, ffn_dim=6144)  # facebook/musicgen-melody


def build_random_musicgen_melody(folder: Path, seed: int = 0, size: str = "tiny") -> Path:
    """Save a random MusicGen-melody (model and tokenizer) to a folder and return it: `tiny` for
    tests, `melody` for facebook/musicgen-melody's exact size (1.5 B parameters: the speed bench).

    Its processor is not saved: MusicgenMelodyFeatureExtractor needs torchaudio, which has no build
    for our torch (assistant.music.chroma computes its features). The chroma projection is scaled
    up so that, as in the real model, the melody visibly changes the tokens."""
    import torch
    from transformers import MusicgenMelodyConfig, MusicgenMelodyForConditionalGeneration

    torch.manual_seed(seed)
    plain, text_vocab = build_config("small" if size == "melody" else "tiny")
    decoder = plain.decoder.to_dict()
    if size == "melody":
        decoder.update(MELODY_DECODER)
    decoder["model_type"] = "musicgen_melody_decoder"
    config = MusicgenMelodyConfig(text_encoder=plain.text_encoder.to_dict(), audio_encoder=plain.audio_encoder.to_dict(),
                                  decoder=decoder, num_chroma=12, chroma_length=235)
    config.decoder_start_token_id = config.pad_token_id = plain.decoder.vocab_size
    model = MusicgenMelodyForConditionalGeneration(config).eval()
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.copy_(torch.randn_like(layer.codebook.embed))
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
        model.audio_enc_to_dec_proj.weight.mul_(MELODY_PROJECTION_GAIN)
    model.generation_config.decoder_start_token_id = plain.decoder.vocab_size
    model.generation_config.pad_token_id = plain.decoder.vocab_size
    model.generation_config.guidance_scale = 3.0
    model.generation_config.max_length = 1500
    folder = Path(folder)
    model.save_pretrained(folder)
    _tokenizer(text_vocab).save_pretrained(folder)
    return folder
