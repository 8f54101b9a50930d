"""ChatAccumulator's shortcuts give what the plain rules give: text collected without the
match, and a usage report that supersedes the last one taken as it is."""

from __future__ import annotations

from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from gptbot.core.events import TextDelta, ThinkingDelta, Usage
from gptbot.llm.accumulate import ChatAccumulator

counts = st.none() | st.integers(min_value=0, max_value=9)
raws = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3)
usages = st.builds(Usage, counts, counts, raws, counts, counts, counts)


@settings(max_examples=300, deadline=None)
@given(st.lists(usages, min_size=1, max_size=5))
def test_usage_is_every_report_merged_in_order(reports: list[Usage]) -> None:
    one_by_one, all_at_once = ChatAccumulator(), ChatAccumulator()
    for report in reports:
        one_by_one.add(report)
    all_at_once.add_all(reports)
    merged = reduce(Usage.updated, reports)
    assert one_by_one.usage == all_at_once.usage == merged


def test_add_all_collects_text_like_add() -> None:
    events = [TextDelta("a"), ThinkingDelta("t"), TextDelta("b")]
    one_by_one, all_at_once = ChatAccumulator(), ChatAccumulator()
    for event in events:
        one_by_one.add(event)
    all_at_once.add_all(events)
    assert (one_by_one.text, one_by_one.thinking) == (all_at_once.text, all_at_once.thinking)
    assert all_at_once.text == "ab"
