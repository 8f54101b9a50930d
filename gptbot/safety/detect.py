"""Where personal data is in a text: candidate spans, each checked by a real validator.

Every detector yields `Found(start, end, kind, key)`; `key` is the value normalised (digits
only, lower case, E.164…) so that `4111 1111 1111 1111` and `4111-1111-1111-1111` get one
placeholder. Regular expressions only propose candidates; a checksum or parser decides, so
an order number that fails the Luhn check or an IBAN with a wrong check digit stays.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import phonenumbers
from stdnum import iban, luhn


class Found(NamedTuple):
    start: int
    end: int
    kind: str
    key: str  # the normalised value: equal keys share a placeholder


# Local part of dot-atoms and the usual specials; a domain of labels ending in a letters-only
# TLD. The lookarounds keep a match from starting or ending inside a longer word.
EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}(?![\w-])"
)
# A run of digit groups separated by single spaces or dashes, as cards are written.
DIGIT_RUN = re.compile(r"(?<![\w-])\d+(?:[ -]\d+)*(?![\w])")
DIGIT_GROUP = re.compile(r"\d+")
# Two letters, two check digits, then up to 30 letters or digits, grouped or not.
# A lookahead, so that a failed candidate ("fa00 DE89…") does not swallow the real IBAN.
IBAN = re.compile(r"(?<![\w])(?=([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}))", re.IGNORECASE)
# A `+` number and the whole tokens after it that start with a digit: cut only between them.
PLUS_NUMBER = re.compile(r"(?<![\w+])\+\d\S*(?:[ \t]+[\d(]\S*)*")
NO_REGION = "ZZ"
IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:])")


def emails(text: str, region: str) -> Iterator[Found]:
    for match in EMAIL.finditer(text):
        yield Found(match.start(), match.end(), "email", match.group().lower())


def phones(text: str, region: str) -> Iterator[Found]:
    """`region` "ZZ" (unknown) finds only numbers written with their `+` country code: a bare
    national number cannot be told from an order or account number without knowing where
    the writer lives, and redacting every 10-digit number would hide too much."""
    for match in _matches(text, region):
        yield Found(match.start, match.end, "phone", _e164(match))
    for plus in PLUS_NUMBER.finditer(text):
        yield from _leading_phone(text, plus.start(), plus.end())


def _leading_phone(text: str, start: int, end: int) -> Iterator[Found]:
    """The matcher takes "+1 650-253-0000 10.0.0.1" as one candidate and rejects it whole;
    so also try each `+` number cut at its spaces. Every valid cut is a candidate: when the
    longest overlaps a card, `find` can still take the shorter one beside it."""
    cuts = [m.start() for m in re.finditer(r"\s", text[start:end])] + [end - start]
    for cut in sorted(set(cuts), reverse=True):
        piece = text[start:start + cut].rstrip(" -./(,;:!?)")
        whole = [m for m in _matches(piece, NO_REGION) if (m.start, m.end) == (0, len(piece))]
        if whole:
            yield Found(start, start + len(piece), "phone", _e164(whole[0]))


def _matches(text: str, region: str) -> list[phonenumbers.PhoneNumberMatch]:
    return list(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID))


def _e164(match: phonenumbers.PhoneNumberMatch) -> str:
    return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)


def cards(text: str, region: str) -> Iterator[Found]:
    """Every window of whole digit groups with 13 to 19 digits that passes the Luhn check; a
    window never cuts a group, so a long reference number yields no card by slicing."""
    for run in DIGIT_RUN.finditer(text):
        groups = [(g.start() + run.start(), g.end() + run.start(), g.group())
                  for g in DIGIT_GROUP.finditer(run.group())]
        yield from _card_windows(groups)


def _card_windows(groups: list[tuple[int, int, str]]) -> Iterator[Found]:
    for first in range(len(groups)):
        for last in range(first, len(groups)):
            digits = "".join(group[2] for group in groups[first:last + 1])
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn.is_valid(digits):
                yield Found(groups[first][0], groups[last][1], "card", digits)


def ibans(text: str, region: str) -> Iterator[Found]:
    """The longest prefix of each candidate that is a valid IBAN: the pattern may run on into
    a following word ("… 3000 AND"), the checksum decides where the IBAN ends."""
    for match in IBAN.finditer(text):
        start = match.start()
        for end in range(match.end(1), start + 14, -1):
            if text[end - 1] != " " and iban.is_valid(text[start:end]):
                yield Found(start, end, "iban", iban.compact(text[start:end]))
                break


def ips(text: str, region: str) -> Iterator[Found]:
    candidates = [*IPV4.finditer(text), *IPV6.finditer(text)]
    for match in candidates:
        value = match.group().rstrip(".")
        if not re.search(r"[0-9A-Fa-f]", value):  # "::" alone is punctuation, not an address
            continue
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            continue
        yield Found(match.start(), match.start() + len(value), "ip", address.compressed)


Detector = Callable[[str, str], Iterable[Found]]
DETECTORS: dict[str, Detector] = {
    "email": emails, "iban": ibans, "card": cards, "phone": phones, "ip": ips,
}
PRIORITY = {kind: rank for rank, kind in enumerate(DETECTORS)}  # ties: email first


def find(text: str, kinds: Iterable[str], region: str) -> list[Found]:
    """Non-overlapping findings in text order. Where two overlap the longer wins (an e-mail
    whose local part is a card-like digit run is one e-mail), then the kind listed first."""
    found = [item for kind in kinds for item in DETECTORS[kind](text, region)]
    found.sort(key=lambda f: (f.start - f.end, PRIORITY[f.kind], f.start))
    chosen: list[Found] = []
    for item in found:
        if all(item.end <= other.start or item.start >= other.end for other in chosen):
            chosen.append(item)
    return sorted(chosen)
