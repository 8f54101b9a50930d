"""At the concurrency limit, queued answers show "waiting" once each, with their own reply id."""

from __future__ import annotations

from gptbot.jobs.job import AnswerJob
from gptbot.jobs.queue import JobQueue, open_huey
from gptbot.jobs.waiting import WAITING, WaitingNotice
from gptbot.stream.api import MessageExists
from tests.support.common import make_config
from tests.support.fakes import FakeClock


class RecordingStream:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.events: list[dict] = []

    def send_message(self, cid, message, user_id):
        self.messages.append({"cid": cid, **message, "user_id": user_id})
        return message

    def send_event(self, cid, event, user_id):
        self.events.append(event)


def job(n: int) -> AnswerJob:
    return AnswerJob(key=f"msg:m{n}", reply_id=f"gpt-m{n}", channel_type="messaging",
                     channel_id=f"room-{n}", parent_id=None, user_id="ann", user_name="Ann",
                     question=f"Question {n}")


def test_each_queued_reply_is_shown_waiting_once_under_its_own_id(tmp_path):
    queue = JobQueue(open_huey(f"sqlite:///{tmp_path / 'jobs.db'}"), lambda payload: None)
    for n in range(3):
        queue.enqueue(job(n).to_payload())
    stream, clock = RecordingStream(), FakeClock()
    notice = WaitingNotice(queue.huey, stream, make_config(tmp_path), peek=2, every_s=1,
                           clock=clock)
    notice()
    assert [(m["id"], m["cid"], m["generating"]) for m in stream.messages] == [
        ("gpt-m0", ("messaging", "room-0"), True), ("gpt-m1", ("messaging", "room-1"), True)]
    assert [(e["ai_state"], e["ai_message"]) for e in stream.events
            if e["message_id"] == "gpt-m0"] == [("AI_STATE_THINKING", WAITING)]
    notice()  # too soon: nothing
    clock.now += 1
    notice()  # the same two still wait: told once only
    assert len(stream.messages) == 2
    queue.huey.dequeue()  # a free slot took the first
    clock.now += 1
    notice()
    assert [m["id"] for m in stream.messages] == ["gpt-m0", "gpt-m1", "gpt-m2"]
    assert notice.told == {"gpt-m1", "gpt-m2"}


def test_a_reply_another_worker_already_shows_is_left_alone(tmp_path):
    queue = JobQueue(open_huey(f"sqlite:///{tmp_path / 'jobs.db'}"), lambda payload: None)
    queue.enqueue(job(0).to_payload())
    stream = RecordingStream()
    stream.send_message = lambda *args: (_ for _ in ()).throw(MessageExists("gpt-m0"))
    WaitingNotice(queue.huey, stream, make_config(tmp_path))()
    assert stream.events == []
