"""Turn a CTranslate2 Whisper model into an openai-whisper checkpoint, offline.

The offline models we ship (``tiny.en``, ``base``) are CTranslate2 directories. openai-whisper
wants its own ``.pt`` file and would download it; instead we rebuild it from the same weights,
so both backends run the very same model. It is built once and cached.

CTranslate2's converter (``ctranslate2/converters/transformers.py``, ``WhisperLoader``) stores
a Hugging Face Whisper model with a few changes, which this module inverts:

* self-attention query/key/value are fused into one ``linear_0`` (the key has no bias, so
  its third of the fused bias is zeros); cross-attention fuses key/value into ``linear_1``;
* layer norms are ``gamma``/``beta``; the output projection is an alias of the embeddings;
* names follow CTranslate2's spec (``decoder/layer_0/ffn/linear_1``), not PyTorch's.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError

# model.bin's layout (ctranslate2/specs/model_spec.py, ModelSpec._serialize), version 6.
_BINARY_VERSIONS = {5, 6}
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")

Weights = dict[str, npt.NDArray[Any]]


def read_model_bin(path: Path) -> Weights:
    """Every variable in a CTranslate2 ``model.bin``, by its spec name (aliases resolved)."""
    data = path.read_bytes()
    offset = 0

    def take(fmt: str) -> int:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return int(value)

    def text() -> str:
        nonlocal offset
        length = take("H")  # includes the trailing NUL
        value = data[offset : offset + length - 1].decode("utf-8")
        offset += length
        return value

    version = take("I")
    if version not in _BINARY_VERSIONS:
        raise ConfigError(f"{path} uses CTranslate2 model format {version}, which we cannot read.")
    spec = text()
    if spec != "WhisperSpec":
        raise ConfigError(f"{path} holds a {spec}, not a Whisper model.")
    take("I")  # spec revision
    weights: Weights = {}
    for _ in range(take("I")):
        name = text()
        shape = tuple(take("I") for _ in range(take("B")))
        dtype = _DTYPES[take("B")]
        size = take("I")
        if dtype in ("int8", "bfloat16") and shape:
            # Quantised weights need their scales to mean anything; convert a float model.
            raise ConfigError(
                f"{path} is quantised ({dtype}); build the openai-whisper checkpoint from a "
                "float16 or float32 CTranslate2 model."
            )
        raw = np.frombuffer(
            data, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=offset
        )
        weights[name] = raw.reshape(shape)
        offset += size
    for _ in range(take("I")):
        alias, target = text(), text()
        weights[alias] = weights[target]
    return weights


def state_dict(weights: Weights) -> tuple[dict[str, int], Weights]:
    """openai-whisper's ``dims`` and ``model_state_dict`` for CTranslate2 ``weights``."""
    enc_layers = _count_layers(weights, "encoder")
    dec_layers = _count_layers(weights, "decoder")
    conv1 = weights["encoder/conv1/weight"]
    embeddings = weights["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(weights["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(weights["encoder/num_heads"]),
        "n_audio_layer": enc_layers,
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(weights["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": int(weights["decoder/num_heads"]),
        "n_text_layer": dec_layers,
    }
    out: Weights = {}
    for name in ("conv1", "conv2"):
        out[f"encoder.{name}.weight"] = weights[f"encoder/{name}/weight"]
        out[f"encoder.{name}.bias"] = weights[f"encoder/{name}/bias"]
    out["encoder.positional_embedding"] = weights["encoder/position_encodings/encodings"]
    _norm(out, "encoder.ln_post", weights, "encoder/layer_norm")
    for i in range(enc_layers):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _self_attention(out, f"{dst}.attn", weights, f"{src}/self_attention")
        _norm(out, f"{dst}.attn_ln", weights, f"{src}/self_attention/layer_norm")
        _mlp(out, dst, weights, f"{src}/ffn")
    out["decoder.token_embedding.weight"] = embeddings
    out["decoder.positional_embedding"] = weights["decoder/position_encodings/encodings"]
    _norm(out, "decoder.ln", weights, "decoder/layer_norm")
    for i in range(dec_layers):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _self_attention(out, f"{dst}.attn", weights, f"{src}/self_attention")
        _norm(out, f"{dst}.attn_ln", weights, f"{src}/self_attention/layer_norm")
        _cross_attention(out, f"{dst}.cross_attn", weights, f"{src}/attention")
        _norm(out, f"{dst}.cross_attn_ln", weights, f"{src}/attention/layer_norm")
        _mlp(out, dst, weights, f"{src}/ffn")
    return dims, out


def openai_checkpoint(model_dir: Path, cache_dir: Path) -> Path:
    """The cached openai-whisper ``.pt`` for the CTranslate2 model in ``model_dir``.

    Built on first use (a few seconds) and reused after; the cache key changes when
    ``model.bin`` does, so a replaced model is never served from a stale checkpoint.
    """
    source = model_dir / "model.bin"
    stat = source.stat()
    key = f"{model_dir.resolve().name}-{stat.st_size}-{stat.st_mtime_ns}"
    target = cache_dir / "openai-whisper" / f"{key}.pt"
    if target.is_file():
        return target
    import torch

    dims, weights = state_dict(read_model_bin(source))
    tensors = {name: torch.from_numpy(np.array(value)) for name, value in weights.items()}
    checkpoint: dict[str, Any] = {"dims": dims, "model_state_dict": tensors}
    heads = _alignment_heads(model_dir)
    if heads:
        checkpoint["alignment_heads_list"] = heads
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".building-", suffix=".pt")
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, target)  # atomic: a crash mid-write never leaves a half checkpoint
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _alignment_heads(model_dir: Path) -> list[list[int]]:
    config = model_dir / "config.json"
    if not config.is_file():
        return []
    heads = json.loads(config.read_text()).get("alignment_heads") or []
    return [[int(layer), int(head)] for layer, head in heads]


def _count_layers(weights: Weights, side: str) -> int:
    count = 0
    while f"{side}/layer_{count}/ffn/linear_0/weight" in weights:
        count += 1
    if count == 0:
        raise ConfigError(f"The model has no {side} layers; is it a Whisper model?")
    return count


def _norm(out: Weights, dst: str, weights: Weights, src: str) -> None:
    out[f"{dst}.weight"] = weights[f"{src}/gamma"]
    out[f"{dst}.bias"] = weights[f"{src}/beta"]


def _mlp(out: Weights, dst: str, weights: Weights, src: str) -> None:
    # openai-whisper's mlp is Sequential(Linear, GELU, Linear): indices 0 and 2.
    for ct2, torch_index in (("linear_0", 0), ("linear_1", 2)):
        out[f"{dst}.mlp.{torch_index}.weight"] = weights[f"{src}/{ct2}/weight"]
        out[f"{dst}.mlp.{torch_index}.bias"] = weights[f"{src}/{ct2}/bias"]
    _norm(out, f"{dst}.mlp_ln", weights, f"{src}/layer_norm")


def _self_attention(out: Weights, dst: str, weights: Weights, src: str) -> None:
    query, key, value = np.split(weights[f"{src}/linear_0/weight"], 3)
    q_bias, _zeros, v_bias = np.split(weights[f"{src}/linear_0/bias"], 3)
    _attention(out, dst, weights, src, query, q_bias, key, value, v_bias, "linear_1")


def _cross_attention(out: Weights, dst: str, weights: Weights, src: str) -> None:
    key, value = np.split(weights[f"{src}/linear_1/weight"], 2)
    _zeros, v_bias = np.split(weights[f"{src}/linear_1/bias"], 2)
    query = weights[f"{src}/linear_0/weight"]
    q_bias = weights[f"{src}/linear_0/bias"]
    _attention(out, dst, weights, src, query, q_bias, key, value, v_bias, "linear_2")


def _attention(
    out: Weights,
    dst: str,
    weights: Weights,
    src: str,
    query: npt.NDArray[Any],
    q_bias: npt.NDArray[Any],
    key: npt.NDArray[Any],
    value: npt.NDArray[Any],
    v_bias: npt.NDArray[Any],
    output: str,
) -> None:
    out[f"{dst}.query.weight"] = query
    out[f"{dst}.query.bias"] = q_bias
    out[f"{dst}.key.weight"] = key  # Whisper's key projection has no bias
    out[f"{dst}.value.weight"] = value
    out[f"{dst}.value.bias"] = v_bias
    out[f"{dst}.out.weight"] = weights[f"{src}/{output}/weight"]
    out[f"{dst}.out.bias"] = weights[f"{src}/{output}/bias"]
