"""Group commit: the daemon's journal writes, many requests per transaction.

Each webhook hands its event to one writer thread and waits. The writer
takes every event queued while the previous transaction was committing (up
to `MAX_GROUP`), records them in one transaction (one fsync), and only then
answers each request with its own outcome: recorded, duplicate or
conflicting (`Journal.add_each`). A failed transaction (the journal busy,
gone or damaged) fails every request of its group with that error and
records none of them, so a retry is always safe: nothing is acknowledged
before it is durable, and a reference is recorded at most once. The event
loop never waits on SQLite."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from keeper.journal.store import ConflictingDuplicate, Journal, JournalUnavailable, RevenueEvent

MAX_GROUP = 2_000
"""Events per transaction at most: a group commits in tens of milliseconds."""


@dataclass
class _Waiting:
    event: RevenueEvent
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class GroupCommit:
    def __init__(self, path: Path, busy_timeout_secs: float) -> None:
        """`busy_timeout_secs`: how long a group waits for another process's
        write lock (a push, an archive) before its requests fail with it."""
        self.path = path
        self.busy_timeout_secs = busy_timeout_secs
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._opened = threading.Event()
        self._open_error: BaseException | None = None

    def start(self) -> None:
        """Open the journal in the writer thread; its error, if any, is raised here."""
        self._thread.start()
        self._opened.wait()
        if self._open_error is not None:
            raise self._open_error

    async def add(self, event: RevenueEvent) -> bool:
        """True once `event` is durably recorded, False for a duplicate;
        raises `ConflictingDuplicate`, or what failed its group."""
        if not self._thread.is_alive():
            raise JournalUnavailable("the journal writer has stopped")
        loop = asyncio.get_running_loop()
        waiting = _Waiting(event, loop.create_future(), loop)
        self._queue.put(waiting)
        return await waiting.future

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        try:
            journal = Journal(self.path, busy_timeout_secs=self.busy_timeout_secs)
        except BaseException as exc:  # handed to start()
            self._open_error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            stopping = False
            while not stopping:
                group: list[_Waiting] = []
                item = self._queue.get()
                while True:
                    if item is _STOP:
                        stopping = True
                    else:
                        assert isinstance(item, _Waiting)
                        group.append(item)
                    if stopping or len(group) >= MAX_GROUP:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if group:
                    self._commit(journal, group)
        finally:
            journal.close()

    def _commit(self, journal: Journal, group: list[_Waiting]) -> None:
        started = time.perf_counter()
        try:
            outcomes: list[bool | ConflictingDuplicate] | BaseException = journal.add_each([w.event for w in group])
        except Exception as exc:  # every request of the group fails with it; none was recorded
            outcomes = exc
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
        for n, waiting in enumerate(group):
            outcome = outcomes if isinstance(outcomes, BaseException) else outcomes[n]
            by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
        for loop, answers in by_loop.items():
            try:
                loop.call_soon_threadsafe(_answer, answers)
            except RuntimeError:  # that loop is closed: nobody waits for these answers
                pass
        if isinstance(outcomes, BaseException):
            logger.bind(job="journal-writer").warning("a group of {} events was not recorded: {}", len(group), outcomes)
        else:
            recorded = sum(outcome is True for outcome in outcomes)
            logger.bind(job="journal-writer").debug(
                "committed {} events ({} new) in {:.1f} ms", len(group), recorded, (time.perf_counter() - started) * 1000
            )


def _answer(answers: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, outcome in answers:
        if future.cancelled():  # the client went away; its event's fate stands
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
