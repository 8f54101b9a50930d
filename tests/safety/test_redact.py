"""Each kind of personal data found and replaced, numbered stably; look-alikes left alone."""

from __future__ import annotations

import pytest

from gptbot.conversation.memory import Memory
from gptbot.core.types import Turn
from gptbot.safety import Placeholders, Redactor
from gptbot.store.sqlite import open_sqlite

ALL = ("email", "phone", "card", "iban", "ip")
redactor = Redactor(ALL)


@pytest.mark.parametrize(("text", "expected"), [
    ("write to ann.lee+work@example.co.uk please", "write to [EMAIL_1] please"),
    ("call +1 650-253-0000 today", "call [PHONE_1] today"),
    ("call +44 20 7946 0958.", "call [PHONE_1]."),
    ("card 4111 1111 1111 1111, exp 12/30", "card [CARD_1], exp 12/30"),
    ("card 4111-1111-1111-1111", "card [CARD_1]"),
    ("pay to DE89 3704 0044 0532 0130 00 AND thanks", "pay to [IBAN_1] AND thanks"),
    ("pay to GB82WEST12345698765432", "pay to [IBAN_1]"),
    ("from 192.168.1.20.", "from [IP_1]."),
    ("from 2001:db8::8a2e:370:7334 and fe80::1", "from [IP_1] and [IP_2]"),
])
def test_each_kind_is_found_and_replaced(text, expected):
    assert redactor.redact(text) == expected


@pytest.mark.parametrize("text", [
    "order 4111 1111 1111 1112 shipped",  # 16 digits, Luhn fails
    "order 1234567890123456",
    "pay to DE88 3704 0044 0532 0130 00",  # wrong check digits
    "pay to GB83 WEST 1234 5698 7654 32",
    "order number 6502530000",  # a national-looking number with no + country code
    "call 650-253-0000",
    "version 1.2.3 at 12:30, ratio 3:2, 999.1.1.1",
    "no@tld and @handle and a@b",
])
def test_look_alikes_are_left_alone(text):
    assert redactor.redact(text) == text


def test_the_same_value_keeps_its_placeholder_and_a_new_one_counts_on():
    text = ("Ann@example.com, ann@example.com, bob@example.com, "
            "4111111111111111, 4111-1111-1111-1111")
    assert redactor.redact(text) == "[EMAIL_1], [EMAIL_1], [EMAIL_2], [CARD_1], [CARD_1]"


def test_shared_numbering_spans_texts_and_skips_numbers_already_taken():
    names = Placeholders()
    assert redactor.redact("earlier: [EMAIL_1] said hi", names) == "earlier: [EMAIL_1] said hi"
    assert redactor.redact("mail bob@example.com", names) == "mail [EMAIL_2]"
    assert redactor.redact("again bob@example.com", names) == "again [EMAIL_2]"
    assert redactor.redact("fresh bob@example.com") == "fresh [EMAIL_1]"


def test_an_email_with_card_and_phone_like_digits_is_one_email():
    text = "mail 4111111111111111.16502530000@shop.example"
    assert redactor.redact(text) == "mail [EMAIL_1]"


def test_only_the_configured_kinds_are_redacted():
    only_email = Redactor(["email"])
    text = "a@example.com 4111 1111 1111 1111 10.0.0.1"
    assert only_email.redact(text) == "[EMAIL_1] 4111 1111 1111 1111 10.0.0.1"
    assert not Redactor(()).enabled and Redactor(()).redact(text) == text


def test_a_default_phone_region_finds_national_numbers():
    assert Redactor(["phone"], phone_region="US").redact("call 650-253-0000") == "call [PHONE_1]"


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="ssn"):
        Redactor(["email", "ssn"])


def test_memory_stores_turns_redacted_and_numbered_like_the_request(tmp_path):
    stores = open_sqlite(tmp_path / "db.sqlite")
    memory = Memory(stores.conversations, 4000, lambda *_: "", redactor=redactor)
    memory.remember("c", Turn("r1", 1.0, "u", "U", "mail ann@example.com", "ok [EMAIL_1]"))
    memory.remember("c", Turn("r2", 2.0, "u", "U", "and bob@example.com?", "sure, [EMAIL_2]"))
    turns = stores.conversations.load_conversation("c").turns
    assert [(t.question, t.answer) for t in turns] == [
        ("mail [EMAIL_1]", "ok [EMAIL_1]"), ("and [EMAIL_2]?", "sure, [EMAIL_2]"),
    ]
    stores.close()
