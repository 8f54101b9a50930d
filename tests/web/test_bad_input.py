"""Bad webhook input is a 4xx with a JSON error, never a 5xx, and never starts a job.

One regression test per case a fuzzing run found, then property-based tests that sign
(or forge) bodies of every shape and send them through the real Flask app.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gptbot.config import CostLimits
from gptbot.core.errors import BadRequest
from gptbot.services import build_services
from gptbot.web.app import create_app
from gptbot.web.signature import sign, verify
from gptbot.web.subcommands import parse
from gptbot.web.webhook import parse_command
from tests.support.common import API_SECRET, command_payload, encode, make_config, signed_headers

PATH = "/webhooks/stream/gpt"
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    config = make_config(tmp_path_factory.mktemp("bad-input"))
    config = replace(config, limits=CostLimits(user_daily=0))  # valid ones are never refused
    services = build_services(config)
    yield create_app(config, services).test_client(), services
    services.close()


def send(bot, body: bytes, headers: dict[str, str]) -> tuple[int, Any, int]:
    """Status, JSON answer, and how many jobs the request queued."""
    client, services = bot
    before = services.queue.pending()
    response = client.post(PATH, data=body, headers=headers)
    return response.status_code, response.get_json(), services.queue.pending() - before


def assert_refused(bot, body: bytes, status: int = 400, headers: dict | None = None) -> str:
    code, answer, queued = send(bot, body, headers or signed_headers(body))
    assert (code, queued) == (status, 0), answer
    assert isinstance(answer["error"], str) and answer["error"]
    return answer["error"]


def with_field(where: str, key: str, value: Any) -> bytes:
    payload = command_payload(parent_id="root-1")
    payload[where][key] = value
    return json.dumps(payload).encode()  # ensure_ascii: a lone surrogate is a "\ud800" escape


# --- the cases the fuzzing found ---------------------------------------------------------

@pytest.mark.parametrize("given_signature", ["é" * 64, "\u00ff", "Ä" + "0" * 63, "\u2603" * 3])
def test_a_non_ascii_signature_is_401(bot, given_signature):
    body = encode(command_payload())
    headers = {**signed_headers(body), "X-Signature": given_signature}
    assert "signature" in assert_refused(bot, body, 401, headers).lower()


def test_verify_compares_bytes():
    body = b"{}"
    assert not verify(body, sign(body, API_SECRET) + "é", API_SECRET)
    assert not verify(body, "\ud800", API_SECRET)
    assert verify(body, sign(body, API_SECRET).upper().encode(), API_SECRET)
    assert not verify(body, b"\xff" * 64, API_SECRET)


SURROGATES = [
    ("message", "cid", "messaging:\ud800"),
    ("message", "parent_id", "\ud800"),
    ("message", "id", "a\udfff"),
    ("message", "args", "What is \ud83d?"),
    ("message", "text", "\udc00"),
    ("message", "attachments", [{"title": "\ud800"}]),
    ("message", "\ud800", 1),
    ("user", "id", "\udbff"),
    ("user", "name", "Al\ud800ice"),
    ("user", "role", "\ud800"),
]


@pytest.mark.parametrize(("where", "key", "value"), SURROGATES)
def test_lone_surrogates_anywhere_are_400(bot, where, key, value):
    body = with_field(where, key, value)
    with pytest.raises(BadRequest, match="surrogate"):
        parse_command(body, "wh")
    assert "surrogate" in assert_refused(bot, body)


def test_a_surrogate_pair_is_just_an_emoji(bot):
    body = with_field("message", "args", "Why \ud83d\ude00?")
    assert parse_command(body, "wh").args == "Why \U0001f600?"
    assert send(bot, body, signed_headers(body))[0] == 200


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deep_nesting_is_400(bot, depth):
    body = b'{"message": {"cid": "a:b", "x": ' + b"[" * depth + b"]" * depth + b"}}"
    assert "nests deeper" in assert_refused(bot, body)


def test_modest_nesting_is_fine(bot):
    payload = command_payload(message_id="nested-ok")
    payload["message"]["custom"] = json.loads("[" * 25 + "]" * 25)
    assert send(bot, encode(payload), signed_headers(encode(payload)))[0] == 200


@pytest.mark.parametrize("number", [b"9" * 4_301, b"-" + b"1" * 5_000, b"1" * 41])
def test_huge_integers_are_400(bot, number):
    body = b'{"message": {"cid": "a:b", "n": ' + number + b"}}"
    assert "digit number" in assert_refused(bot, body)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400"])
def test_numbers_json_cannot_hold_are_400(bot, number):
    body = b'{"message": {"cid": "a:b", "n": ' + number + b"}}"
    assert "number" in assert_refused(bot, body)


BAD_COUNTS = ["²", "①", "٣", "9" * 10, "9" * 5_000]


@pytest.mark.parametrize("count", BAD_COUNTS)
def test_summarize_counts_that_are_not_plain_numbers_are_400(bot, count):
    with pytest.raises(BadRequest, match="count"):
        parse(f"summarize {count}")
    assert "count" in assert_refused(bot, encode(command_payload(f"summarize {count}")))


BAD_FIELDS = [
    ("message", "cid", "messaging:a/../../users", "'/'"),
    ("message", "cid", "mess aging:general", "' '"),
    ("message", "cid", "messaging:" + "x" * 65, "at most 64"),
    ("message", "cid", "t" * 65 + ":general", "at most 64"),
    ("message", "parent_id", "root/../x", "'/'"),
    ("message", "parent_id", "r" * 256, "at most 255"),
    ("message", "id", "m,1", "','"),
    ("message", "id", "m\x00", "'\\\\x00'"),
    ("message", "id", 42, "must be a string"),
    ("message", "args", "x" * 20_001, "at most 20000"),
    ("message", "command", "g" * 256, "at most 255"),
    ("user", "id", "al\nice", "'\\\\n'"),
    ("user", "id", "u" * 256, "at most 255"),
    ("user", "id", ["alice"], "must be a string"),
    ("user", "name", "A" * 5_001, "at most 5000"),
    ("user", "role", {"admin": True}, "must be a string"),
]


@pytest.mark.parametrize(("where", "key", "value", "complaint"), BAD_FIELDS)
def test_fields_that_reach_the_store_or_stream_are_checked(bot, where, key, value, complaint):
    body = with_field(where, key, value)
    with pytest.raises(BadRequest, match=complaint):
        parse_command(body, "wh")
    assert_refused(bot, body)


@pytest.mark.parametrize("webhook_id", ["w" * 256, "wh-\x7f"])
def test_an_odd_webhook_id_is_400(bot, webhook_id):
    body = encode(command_payload(message_id=""))
    assert "X-Webhook-Id" in assert_refused(bot, body, headers=signed_headers(body, webhook_id))


def test_odd_but_valid_values_still_work(bot):
    payload = command_payload("summarize 7", message_id="ok-1", cid="team:room:42")
    payload["user"] = {"id": "bob@example.com", "name": 7, "role": "user"}
    call = parse_command(encode(payload), None)
    assert (call.channel_id, call.user_name) == ("room:42", "bob@example.com")
    code, _, queued = send(bot, encode(payload), signed_headers(encode(payload)))
    assert (code, queued) == (200, 1)


# --- property-based: every shape, signed or forged ---------------------------------------

SPECIAL = ["\ud800", "a\udfffb", "²", "٣", "9" * 5_000, "x" * 300, "a/b", "a:b", "", " ", "\x00",
           "messaging:general", "summarize ²", "summarize " + "9" * 5_000, "summarize 3", "help"]
chars = st.characters() | st.characters(categories=["Cs"])  # lone surrogates too
strings = st.text(chars, max_size=20) | st.sampled_from(SPECIAL)
ids = st.from_regex(r"[A-Za-z0-9_@!-]{1,12}", fullmatch=True)
# Placeholders for what json.dumps cannot write: replaced by the raw text after encoding.
raw_texts = st.one_of(
    st.integers(1, 6_000).map(lambda n: f"\x00raw:{'9' * n}"),
    st.integers(1, 3_000).map(lambda n: f"\x00raw:{'[' * n}{']' * n}"),
    st.sampled_from(["\x00raw:NaN", "\x00raw:-Infinity", "\x00raw:1e999", "\x00raw:-0.0e-999"]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), strings, raw_texts)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)), max_leaves=12)
FIELDS = [("message", "cid"), ("message", "id"), ("message", "parent_id"), ("message", "args"),
          ("message", "command"), ("message", "user"), ("user", "id"), ("user", "name"),
          ("user", "role"), ("user", "Custom"), ("user", None), ("message", None)]
edits = st.tuples(st.sampled_from(FIELDS), st.one_of(st.just("delete"), values, ids, strings))


def apply_edit(payload: dict[str, Any], where: str, key: str | None, value: Any) -> None:
    """Delete or replace a top-level object (key None) or one field of it."""
    target, field = (payload, where) if key is None else (payload.get(where), key)
    if not isinstance(target, dict):
        return
    if value == "delete":
        target.pop(field, None)
    else:
        target[field] = value


@st.composite
def shaped_payloads(draw) -> Any:
    """Stream's shape, with fields deleted or replaced and extra ones added."""
    args = draw(st.one_of(strings, st.text(max_size=40)))
    payload = command_payload(args, message_id=draw(ids), cid=f"messaging:{draw(ids)}")
    for (where, key), value in draw(st.lists(edits, max_size=4)):
        apply_edit(payload, where, key, value)
    payload.update(draw(st.dictionaries(strings, values, max_size=2)))
    return payload


def encode_any(payload: Any, ascii_only: bool) -> bytes:
    """JSON with the raw placeholders spliced in; lone surrogates as escapes or as raw bytes."""
    text = re.sub(r'"\\u0000raw:([^"]*)"', r"\1", json.dumps(payload, ensure_ascii=ascii_only))
    return text.encode("utf-8", "surrogatepass")


bodies = st.one_of(
    st.builds(encode_any, shaped_payloads(), st.booleans()),
    st.builds(encode_any, values, st.booleans()),
    st.binary(max_size=64),
)
header_text = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=70)
signatures = st.one_of(st.sampled_from(["good", "upper", "other", "none"]), header_text)
encodings = st.sampled_from([None, "gzip", "gzip-header-only", "identity"])


def headers_for(body: bytes, how: str, webhook_id: str | None) -> dict[str, str]:
    headers = signed_headers(body, webhook_id or "")
    if webhook_id is None:
        headers.pop("X-Webhook-Id")
    forged = {"upper": headers["X-Signature"].upper(), "other": sign(body, "another-secret")}
    if how == "none":
        headers.pop("X-Signature")
    elif how != "good":
        headers["X-Signature"] = forged.get(how, how)
    return headers


def request_for(body: bytes, how: str, webhook_id: str | None, encoding: str | None):
    headers = headers_for(body, how, webhook_id)
    if encoding and encoding != "identity":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body) if encoding == "gzip" else body
    return body, headers


def assert_well_behaved(bot, body: bytes, headers: dict[str, str]) -> int:
    code, answer, queued = send(bot, body, headers)
    event(f"{code} queued={queued}")
    assert 200 <= code < 500, (code, answer)
    assert isinstance(answer, dict)
    ok = code < 300  # an error starts nothing; a valid command at most one job
    assert queued in ((0, 1) if ok else (0,)) and answer["message" if ok else "error"], answer
    return code


@FUZZ
@given(bodies, st.one_of(st.none(), ids, header_text), encodings)
def test_signed_bodies_of_every_shape_are_never_a_5xx(bot, body, webhook_id, encoding):
    assert_well_behaved(bot, *request_for(body, "good", webhook_id, encoding))


@FUZZ
@given(bodies, signatures.filter(lambda how: how not in ("good", "upper")), encodings)
def test_forged_signatures_are_4xx_and_start_nothing(bot, body, how, encoding):
    code = assert_well_behaved(bot, *request_for(body, how, "wh-forged", encoding))
    assert code == 401 or (code in (400, 413) and encoding in ("gzip", "gzip-header-only"))


stream_ids = st.text(st.characters(exclude_categories=["Cc", "Cs"], exclude_characters=",%"),
                    min_size=1, max_size=40).filter(str.strip)


@FUZZ
@given(stream_ids, ids, stream_ids, st.text(max_size=200), st.text(max_size=30))
def test_whatever_stream_could_send_is_answered(bot, message_id, channel, user, question, name):
    payload = command_payload(f"Q {question}", message_id=message_id, cid=f"messaging:{channel}")
    payload["user"] = {"id": user, "name": name, "role": "user"}
    body = encode(payload)
    assert send(bot, body, signed_headers(body, "wh-valid"))[0] == 200


@pytest.mark.parametrize("body", [
    b'{"type": "ai_indicator.stop", "cid": "messaging:\\ud800"}',
    b'{"type": "ai_indicator.stop", "n": ' + b"9" * 5000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
])
def test_the_stop_event_hook_refuses_the_same_bad_bodies(body):
    from gptbot.web.events import parse_event

    with pytest.raises(BadRequest):
        parse_event(body)
