import gzip
import json

import pytest

from gptbot.core.errors import BadRequest, PayloadTooLarge
from gptbot.web.signature import sign, verify
from gptbot.web.webhook import decode_body, parse_command
from tests.support.common import API_SECRET, command_payload, encode


def test_signature_matches_openssl():
    body = b'{"message": {}}'
    # printf '%s' '{"message": {}}' | openssl dgst -sha256 -hmac secret
    assert sign(body, "secret") == (
        "43d470239529c93a803d3ad60d8dba2d1580c88a99c78d970cc8b5b7284ad8f5")


def test_verify_accepts_only_the_exact_signature():
    body = b'{"message": {}}'
    good = sign(body, API_SECRET)
    assert verify(body, good, API_SECRET)
    assert verify(body, good.upper(), API_SECRET)
    assert not verify(body + b" ", good, API_SECRET)
    assert not verify(body, sign(body, "other-secret"), API_SECRET)
    for bad in (None, "", "not-hex", good[:-1]):
        assert not verify(body, bad, API_SECRET)


def test_parse_reads_streams_payload():
    call = parse_command(encode(command_payload("What is 2+2?")), "wh-9")
    assert (call.command, call.args, call.message_id) == ("gpt", "What is 2+2?", "alice-0001")
    assert (call.channel_type, call.channel_id, call.cid) == ("messaging", "general",
                                                              "messaging:general")
    assert (call.user_id, call.user_name, call.webhook_id) == ("alice", "Alice", "wh-9")
    assert call.parent_id is None
    assert call.dedupe_key == "msg:alice-0001"


def test_parse_thread_and_custom_name_and_cid_with_colons():
    payload = command_payload(parent_id="p-1", cid="team:room:42")
    payload["user"] = {"id": "u1", "Custom": {"name": "jdoe"}}
    call = parse_command(encode(payload), None)
    assert call.parent_id == "p-1"
    assert (call.channel_type, call.channel_id) == ("team", "room:42")
    assert call.user_name == "jdoe"
    assert call.webhook_id.startswith("body-")


def test_parse_without_message_id_dedupes_by_webhook():
    payload = command_payload()
    payload["message"]["id"] = ""
    assert parse_command(encode(payload), "wh-3").dedupe_key == "hook:wh-3"


@pytest.mark.parametrize("body, complaint", [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b"{}", "'message'"),
    (b'{"message": "hi"}', "must be an object"),
    (json.dumps({"message": {"cid": "messaging:x", "command": "gpt"}}).encode(), "user.id"),
    (json.dumps({"message": {"command": "gpt"}, "user": {"id": "u"}}).encode(), "cid"),
    (json.dumps({"message": {"cid": "nocolon", "command": "gpt"}, "user": {"id": "u"}}).encode(),
     "type:id"),
    (json.dumps({"message": {"cid": "a:b", "command": 5}, "user": {"id": "u"}}).encode(),
     "must be a string"),
])
def test_parse_rejects_bad_payloads_with_a_clear_reason(body, complaint):
    with pytest.raises(BadRequest, match=complaint):
        parse_command(body, "wh")


def test_decode_body_plain_and_gzip():
    body = encode(command_payload())
    assert decode_body(body, None, 10_000) == body
    assert decode_body(gzip.compress(body), "gzip", 10_000) == body
    assert decode_body(gzip.compress(body), None, 10_000) == body  # header stripped by a proxy


def test_decode_body_limits_raw_and_inflated_size():
    with pytest.raises(PayloadTooLarge):
        decode_body(b"x" * 101, None, 100)
    bomb = gzip.compress(b"{" + b" " * 1_000_000 + b"}")
    assert len(bomb) < 10_000
    with pytest.raises(PayloadTooLarge):
        decode_body(bomb, "gzip", 10_000)
    with pytest.raises(BadRequest, match="gzip"):
        decode_body(b"\x1f\x8bnot really gzip", "gzip", 10_000)
