"""Pinned weight packages, found without importing them, every file sha256-checked."""

from __future__ import annotations

import hashlib
import sys

import pytest

from gptbot.voice import weights
from gptbot.voice.weights import (
    JOE_VOICE,
    WHISPER_TINY_EN,
    WeightPackage,
    WeightsUnavailable,
    verified_dir,
)
from tests.voice.conftest import needs_extra


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A top-level package `fake_voice_weights` whose __init__ would blow up if imported."""
    root = tmp_path / "site"
    data = root / "fake_voice_weights" / "data"
    data.mkdir(parents=True)
    (root / "fake_voice_weights" / "__init__.py").write_text("raise SystemExit('imported!')")
    (data / "a.bin").write_bytes(b"weights")
    monkeypatch.syspath_prepend(str(root))
    digest = hashlib.sha256(b"weights").hexdigest()
    return WeightPackage("Fake", "fake-voice-weights==1", "fake_voice_weights", "data",
                         (("a.bin", digest),))


def test_a_matching_package_gives_its_directory_without_being_imported(fake_package, tmp_path):
    directory = verified_dir(fake_package, tmp_path / "markers")
    assert (directory / "a.bin").read_bytes() == b"weights"
    assert "fake_voice_weights" not in sys.modules


def test_a_changed_file_is_refused_naming_the_pin(fake_package, tmp_path):
    (verified_dir(fake_package, tmp_path / "m") / "a.bin").write_bytes(b"tampered")
    with pytest.raises(WeightsUnavailable, match="reinstall fake-voice-weights==1"):
        verified_dir(fake_package, tmp_path / "m")


def test_a_missing_package_or_file_is_refused(fake_package, tmp_path):
    missing = WeightPackage("Gone", "gone==1", "no_such_weights_pkg", "data", ())
    with pytest.raises(WeightsUnavailable, match=r"not installed \(gone==1\)"):
        verified_dir(missing, tmp_path)
    extra_file = WeightPackage(fake_package.title, fake_package.pin, fake_package.module,
                               "data", (*fake_package.files, ("b.bin", "0" * 64)))
    with pytest.raises(WeightsUnavailable, match=r"b\.bin"):
        verified_dir(extra_file, tmp_path)


def test_the_marker_saves_rehashing_until_the_file_changes(fake_package, tmp_path, monkeypatch):
    hashed = []
    real = weights.sha256_file
    monkeypatch.setattr(weights, "sha256_file", lambda path: hashed.append(path) or real(path))
    directory = verified_dir(fake_package, tmp_path / "m")
    verified_dir(fake_package, tmp_path / "m")
    assert len(hashed) == 1
    (directory / "a.bin").write_bytes(b"weights")  # same bytes, new mtime: hashed again
    verified_dir(fake_package, tmp_path / "m")
    assert len(hashed) == 2


def test_an_unwritable_marker_dir_only_costs_a_rehash(fake_package, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    assert verified_dir(fake_package, blocker / "markers").is_dir()


@needs_extra
@pytest.mark.parametrize("package", [WHISPER_TINY_EN, JOE_VOICE])
def test_the_pinned_packages_installed_here_match_their_hashes(package, tmp_path):
    directory = verified_dir(package, tmp_path)
    assert all((directory / name).is_file() for name, _ in package.files)
