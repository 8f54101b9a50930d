"""What of an answer is spoken."""

from __future__ import annotations

from gptbot.voice.speech_text import FULL_ANSWER, capped, sentences, speakable, spoken_text


def test_markdown_marks_code_and_links_are_not_spoken():
    answer = ("# Paris\n**Paris** is the *capital* of France. See [the guide](https://x.test/a) "
              "or https://y.test.\n```python\nprint('hi')\n```\nUse `len()` for ~~that~~ this.")
    assert speakable(answer) == ("Paris. Paris is the capital of France. See the guide or. "
                                 "Use len() for that this.")


def test_lists_quotes_and_tables_read_as_sentences():
    spoken = speakable("Steps:\n- Boil water\n- Add pasta\n> a quote\n"
                       "| a | b |\n|---|---|\n| 1 | 2 |")
    assert "-" not in spoken and ">" not in spoken and "|" not in spoken
    assert "Boil water. Add pasta. a quote." in spoken


def test_an_unclosed_code_fence_is_dropped_to_the_end():
    assert speakable("Here:\n```sh\nrm -rf /tmp/x") == "Here:"


def test_sentences_split_at_ends_not_inside_numbers():
    assert sentences("Pi is 3.14 roughly. Is it? Yes! Done") == [
        "Pi is 3.14 roughly.", "Is it?", "Yes!", "Done"]


def test_a_long_answer_is_cut_at_a_sentence_end_with_a_pointer_to_the_text():
    long = " ".join(f"This is sentence number {i}." for i in range(100))
    spoken = spoken_text(long, 600)
    assert len(spoken) <= 600 and spoken.endswith(" " + FULL_ANSWER)
    assert spoken.removesuffix(" " + FULL_ANSWER).endswith(".")
    assert spoken.startswith("This is sentence number 0. This is sentence number 1.")


def test_a_short_answer_is_spoken_whole():
    assert spoken_text("Paris.", 600) == "Paris."


def test_one_endless_sentence_is_cut_at_a_word():
    spoken = capped("word " * 300, 100)
    assert len(spoken) <= 100 and spoken.endswith(FULL_ANSWER)
    assert "wor." not in spoken
