"""Driving the app headless (tests, screenshots, soak runs): wait until it is quiet.

"Quiet" means no worker is running and no one-shot timer (a debounce, a retry) is pending. A
fixed pause is not enough on a loaded machine: a list read that takes longer than the pause
starts the highlight's debounce timer only after it, and the pause has already ended.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.timer import Timer
from textual.worker import WorkerCancelled, WorkerFailed

SHORT_TIMER_S = 1.0  # debounces and retries; a notification's expiry (seconds) is not waited for


def _one_shot_pending(timer: Timer) -> bool:
    # set_timer() makes timers with repeat=0; intervals (blink, live polling) repeat forever.
    task = timer._task
    return timer._repeat == 0 and timer._interval <= SHORT_TIMER_S and task is not None and not task.done()


def pending_timers(app: App[Any]) -> int:
    """How many short one-shot timers (debounces, retries) are still to fire, on every screen."""
    nodes: list[DOMNode] = [app]
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(with_self=True))
    return sum(_one_shot_pending(timer) for node in nodes for timer in list(node._timers))


def busy_workers(app: App[Any]) -> int:
    return sum(not worker.is_finished for worker in app.workers)


async def quiesce(pilot: Pilot[Any], first_pause: float = 0.2, timeout: float = 10.0) -> bool:
    """Pause ``first_pause``, then until no worker runs and no one-shot timer is pending (at most
    ``timeout`` seconds). Returns whether the app went quiet."""
    app = pilot.app
    await pilot.pause(first_pause)
    deadline = time.monotonic() + timeout
    while True:
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not busy_workers(app) and not pending_timers(app):
            return True
        if time.monotonic() >= deadline:
            return False
        await pilot.pause(0.05)


class StallMeter:
    """Measures how long the event loop goes without running a task: a coroutine asks to wake up
    every ``tick`` seconds and records how late it woke. A late wake-up is a stall: a handler,
    a render or a layout held the loop. Use as ``async with StallMeter() as meter: ...``; then
    ``meter.longest`` (seconds), ``meter.over(0.1)`` (count of stalls longer than 100 ms)."""

    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.delays: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.tick)
            self.delays.append(max(0.0, loop.time() - asked - self.tick))

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    @property
    def longest(self) -> float:
        return max(self.delays, default=0.0)

    def over(self, seconds: float) -> int:
        return sum(delay > seconds for delay in self.delays)

    def percentile(self, q: float) -> float:
        if not self.delays:
            return 0.0
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
