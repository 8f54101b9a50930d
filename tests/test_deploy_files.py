"""The deployment files say what docs/deployment.md says: Dockerfile, compose.yaml, the
Procfile and the systemd units, parsed (not grepped). CI builds the image only where Docker
is present; these checks run everywhere. Also: under CI=true a skipped test fails the run
(the hook in tests/conftest.py), checked on small suites run with pytester."""

from __future__ import annotations

import configparser
import dataclasses
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from gptbot.config import Config

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_REDIS = "redis://redis:6379/0"
GRACE_S = next(f.default for f in dataclasses.fields(Config) if f.name == "shutdown_grace_s")


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per build stage; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def last(stage: list[tuple[str, str]], instruction: str) -> str:
    found = [arguments for name, arguments in stage if name == instruction]
    assert found, f"the final stage has no {instruction}"
    return found[-1]


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)  # the exec (JSON) form: no shell between Docker and gptbot
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(scope="module")
def image() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def entrypoint(image: list[tuple[str, str]]) -> list[str]:
    return exec_form(last(image, "ENTRYPOINT"))


def test_image_is_slim_python(image):
    base = last(image, "FROM").split()[0]
    assert re.fullmatch(r"python:(\$\{PYTHON_VERSION\}|3\.\d+)-slim", base)


def test_image_runs_as_an_unprivileged_user(image):
    user = last(image, "USER").split(":")[0]
    assert user not in ("", "root", "0")
    # ...and it is switched to after every RUN that needs root.
    names = [name for name, _ in image]
    assert names.index("USER") > max(i for i, name in enumerate(names) if name == "RUN")


def test_image_installs_the_package_without_dev_extras(image):
    installs = [args for name, args in image if name == "RUN" and "pip install" in args]
    assert installs
    assert not any(re.search(r"\[[^\]]*\bdev\b", args) for args in installs)
    assert not any("-e " in args or "--editable" in args for args in installs)


def test_image_serves_by_default(image):
    assert entrypoint(image) + exec_form(last(image, "CMD"))[:1] == ["gptbot", "serve"]
    assert "8000" in last(image, "EXPOSE").split()
    assert last(image, "STOPSIGNAL") == "SIGTERM"


def test_image_health_check_asks_healthz_with_urllib(image):
    check = last(image, "HEALTHCHECK")
    options, _, command = check.partition("CMD")
    argv = exec_form(command.strip())
    assert argv[:2] == ["python", "-c"] and "urllib.request" in argv[2]
    assert "http://127.0.0.1:8000/healthz" in argv[2]
    assert "curl" not in check and "--interval=" in options


def test_docker_build_context_leaves_out_secrets_and_local_state():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"  # an allowlist: .env, .venv, data/ and .git stay out
    assert {p for p in patterns if p.startswith("!")} == {"!pyproject.toml", "!README.md",
                                                         "!gptbot"}


# --- compose.yaml --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def seconds(value: str) -> float:
    """A duration as compose and systemd write it: 45, 45s, 1m30s, 2min."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", str(value).strip())
    assert parts, f"not a duration: {value!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def test_compose_has_web_worker_and_redis(compose):
    assert set(compose["services"]) == {"web", "worker", "redis"}
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_compose_runs_gptbot_serve_and_gptbot_worker(compose, image):
    services = compose["services"]
    assert (entrypoint(image) + services["web"]["command"])[:2] == ["gptbot", "serve"]
    assert entrypoint(image) + services["worker"]["command"] == ["gptbot", "worker"]
    for name in ("web", "worker"):
        assert services[name]["build"] == "."
        env_file = services[name]["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file)
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_web_and_worker_share_one_redis_for_state_and_queue(compose):
    web, worker = (environment(compose["services"][name]) for name in ("web", "worker"))
    assert web["GPTBOT_DATABASE_URL"] == worker["GPTBOT_DATABASE_URL"] == SHARED_REDIS
    assert "GPTBOT_QUEUE_URL" not in web and "GPTBOT_QUEUE_URL" not in worker  # follows
    assert web["GPTBOT_EMBEDDED_WORKER"] == "false"
    config = Config.from_env({"STREAM_API_KEY": "k", "STREAM_API_SECRET": "s", **web})
    assert config.queue_url == SHARED_REDIS and not config.embedded_worker


def test_compose_health_checks(compose):
    services = compose["services"]
    test = services["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"] and "urllib.request" in test[3]
    assert "http://127.0.0.1:8000/healthz" in test[3] and "curl" not in str(test)
    assert services["worker"]["healthcheck"] == {"disable": True}  # no HTTP port there
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]


def test_compose_waits_longer_than_the_shutdown_grace(compose):
    for name in ("web", "worker"):
        service = compose["services"][name]
        assert service.get("stop_signal", "SIGTERM") == "SIGTERM"
        assert seconds(service["stop_grace_period"]) > GRACE_S


# --- systemd units -------------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # case-sensitive keys
    parser.read_string((ROOT / "deploy" / name).read_text())
    return parser


@pytest.mark.parametrize(
    ("name", "command"),
    [("gptbot-web.service", "serve"), ("gptbot-worker.service", "worker")],
)
def test_systemd_unit(name, command):
    service = unit(name)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "gptbot" and argv[0].startswith("/") and argv[1] == command
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["Restart"] == "on-failure"
    assert service["User"] not in ("", "root", "0")
    assert service["KillSignal"] == "SIGTERM"
    assert seconds(service["TimeoutStopSec"]) > GRACE_S
    assert unit(name)["Install"]["WantedBy"] == "multi-user.target"


# --- Procfile ------------------------------------------------------------------------------


def test_procfile_has_web_and_worker():
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(":", 1) for line in lines if line.strip())
    assert set(processes) == {"web", "worker"}
    # gptbot serve, not a bare gunicorn line: the same JSON logs, access log and grace period.
    assert processes["web"].split()[:2] == ["gptbot", "serve"] and "$PORT" in processes["web"]
    assert processes["worker"].strip() == "gptbot worker"


# --- CI=true: a skip is a failure (tests/conftest.py) ----------------------------------------

SUITE = """
import pytest

def test_passes():
    pass

def test_needs_a_service():
    pytest.skip("no Redis server reachable")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_known_bug():
    assert False
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest("from tests.conftest import pytest_configure  # noqa: F401\n")
    pytester.makepyfile(test_suite=SUITE)
    return pytester


@pytest.mark.parametrize("value", ["true", "1"])
def test_under_ci_a_skip_fails_with_its_reason(suite, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped under CI=true, which fails the run: no Redis server*"])


def test_outside_ci_a_skip_is_a_skip(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SKIPPED*no Redis server reachable"])


def test_under_ci_a_module_skipped_at_collection_fails_the_run(suite, monkeypatch):
    suite.makepyfile(test_browser="""
import pytest
pytest.skip("needs chromium", allow_module_level=True)
""")
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "no:cacheprovider", "test_browser.py", "test_suite.py", "-k",
                             "not needs_a_service")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED (skipped) test_browser.py: needs chromium*"])
    monkeypatch.setenv("CI", "false")
    assert suite.runpytest("-p", "no:cacheprovider", "-k", "not needs_a_service").ret == 0
