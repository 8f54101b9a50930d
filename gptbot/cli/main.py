"""The `gptbot` command: setup, serve, worker, doctor, dev, models, usage, export.

Imports only the standard library at the top: `gptbot worker` patches it with gevent
(greenlets.py) before anything else is imported.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gptbot.cli.greenlets import patch, wants_greenlets

if TYPE_CHECKING:
    from gptbot.config import Config


def main(argv: list[str] | None = None) -> int:
    if wants_greenlets(sys.argv[1:] if argv is None else argv):
        patch()
    from dotenv import load_dotenv

    from gptbot.core.errors import GptBotError

    args = _parser().parse_args(argv)
    load_dotenv()
    try:
        return int(args.run(args) or 0)
    except GptBotError as exc:
        print(f"gptbot: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from gptbot.cli.export import add_parser as add_export_parser
    from gptbot.cli.jobs import add_parser as add_jobs_parser

    parser = argparse.ArgumentParser(prog="gptbot", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="command")
    setup = sub.add_parser("setup", help="register /gpt, the bot user and the webhook URL")
    setup.add_argument("--public-url", help="base URL Stream can reach (or GPTBOT_PUBLIC_URL)")
    setup.add_argument("--ngrok", action="store_true", help="use the running ngrok tunnel's URL")
    setup.add_argument("--port", type=int, default=8000, help="local port ngrok forwards to")
    setup.set_defaults(run=_setup)
    serve = sub.add_parser("serve", help="run the webhook and the embedded worker")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--processes", type=int, default=1, help="gunicorn worker processes")
    serve.add_argument("--threads", type=int, default=8, help="request threads per process")
    serve.set_defaults(run=_serve)
    dev = sub.add_parser("dev", help="the whole loop locally: Stream emulator, playground, model")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000, help="port of the playground")
    dev.set_defaults(run=_dev)
    models = sub.add_parser("models", help="install the embedded model's weights")
    models.add_argument("action", choices=["install"])
    models.add_argument("name", help="qwen2.5-coder-1.5b, qwen2.5-coder-0.5b or smollm2-135m")
    models.set_defaults(run=_models)
    doctor = sub.add_parser("doctor", help="check the whole setup: exit 1 broken, 2 warnings")
    from gptbot.cli.doctor import add_arguments as add_doctor_arguments

    add_doctor_arguments(doctor)
    doctor.set_defaults(run=_doctor)
    worker = sub.add_parser("worker", help="run only the job worker (for Redis deployments)")
    # `gptbot serve` starts its worker so: stop on its signal or when it is gone.
    worker.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    worker.set_defaults(run=_worker)
    add_jobs_parser(sub)
    usage = sub.add_parser("usage", help="the usage ledger: questions, tokens and cost")
    usage.add_argument("--since", help="first day, YYYY-MM-DD (default: the 1st of this month)")
    usage.add_argument("--until", help="day after the last, YYYY-MM-DD (exclusive; default: now)")
    usage.add_argument("--by", choices=["user", "channel", "model", "day"], default="day")
    usage.add_argument("--format", choices=["table", "csv", "json"], default="table")
    usage.set_defaults(run=_usage)
    add_export_parser(sub)
    return parser


def _config() -> Config:
    from gptbot.config import Config

    return Config.from_env()


def _usage(args: argparse.Namespace) -> int:
    from gptbot.cli.usage import report

    print(report(_config(), args.since, args.until, args.by, args.format), end="")
    return 0


def _setup(args: argparse.Namespace) -> int:
    """Register with Stream; when Stream cannot be reached or refuses the credentials, say
    which and the fix (the doctor's words) instead of a traceback of urllib3's retries."""
    import requests
    from stream_chat.base.exceptions import StreamAPIException

    from gptbot.diagnosis import describe_failure, diagnose_startup, render_failures
    from gptbot.web.public_url import public_url_for

    config = _config()
    problem = diagnose_startup(config, args.port)
    if problem:
        print(render_failures(problem), file=sys.stderr)
        return 1
    url = args.public_url or public_url_for(_without_public_url(config) if args.ngrok else config,
                                            args.port)
    try:
        changes = _register(config, url)
    except (StreamAPIException, requests.RequestException) as exc:
        print(describe_failure(exc, config), file=sys.stderr)
        return 1
    for change in changes or ["already up to date"]:
        print(f"  {change}")
    print(f"Stream now calls {config.handler_url(url)} for /{config.command}")
    return 0


def _register(config: Config, url: str) -> list[str]:
    from gptbot.stream.api import StreamApi
    from gptbot.stream.registration import register

    return register(StreamApi.from_config(config), config, url)


def _without_public_url(config: Config) -> Config:
    from dataclasses import replace

    return replace(config, public_url=None)


def _serve(args: argparse.Namespace) -> int:
    from gptbot.server import run_gunicorn

    _config()  # fail here, with the missing variable named, not inside gunicorn
    run_gunicorn(args.host, args.port, args.processes, args.threads)
    return 0


def _dev(args: argparse.Namespace) -> int:
    from gptbot.cli.dev import run

    return run(args.port, args.host)


def _models(args: argparse.Namespace) -> int:
    from gptbot.local.weights import install

    install(args.name)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from gptbot.cli.doctor import run

    return run(args)


def _worker(args: argparse.Namespace) -> int:
    """Until SIGTERM or SIGINT; then running answers may finish for GPTBOT_SHUTDOWN_GRACE_S
    and the rest goes back to the queue (a second signal hands it back at once)."""
    from gptbot.server import run_worker

    run_worker(_config(), supervised=args.supervised)
    return 0
