"""The maintenance loop: gauges and credential refresh each round; a failure never ends it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from enrichment_server.store import Store
from enrichment_server.workers.maintenance import Maintenance


@dataclass
class Gauges:
    """Records what the loop reports."""

    reported: list[tuple[int, int]] = field(default_factory=list)

    def dlq(self, due: int, parked: int) -> None:
        """Keep the reported depth."""
        self.reported.append((due, parked))


@dataclass
class Refresher:
    """Counts refreshes; the first ``fail`` of them raise; sets ``done`` after ``until``."""

    fail: int = 0
    until: int = 3
    calls: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def refresh(self) -> None:
        """Count, maybe fail."""
        self.calls += 1
        if self.calls >= self.until:
            self.done.set()
        if self.calls <= self.fail:
            raise OSError("database blip")


async def test_one_round_reports_depth_and_refreshes(tmp_path: object) -> None:
    """run_once sets the gauges from the store's stats and refreshes the credentials once."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        gauges, refresher = Gauges(), Refresher()
        await Maintenance(store, gauges, refresher).run_once()
        assert gauges.reported == [(0, 0)]
        assert refresher.calls == 1
    finally:
        await store.close()


async def test_a_failing_round_does_not_end_the_loop(tmp_path: object) -> None:
    """Two failing refreshes are logged and the loop keeps going until it is stopped."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        refresher = Refresher(fail=2, until=3)
        stop = asyncio.Event()
        loop = asyncio.create_task(
            Maintenance(store, Gauges(), refresher, interval_s=0.001).run_forever(stop)
        )
        await asyncio.wait_for(refresher.done.wait(), 30)
        stop.set()
        await asyncio.wait_for(loop, 30)
        assert refresher.calls >= 3
        assert loop.exception() is None
    finally:
        await store.close()
