"""A progress bar on stderr for long manual runs: one tick per pipeline step, with its timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")

STEPS = ("read-references", "read", "validate", "reconcile", "dedupe", "emit", "deliver", "finish")


class ProgressSteps:
    """A step runner (see ``app.pipeline.StepRunner``) that shows each step as it runs."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("eidflow ingest", total=len(STEPS))

    def __enter__(self) -> ProgressSteps:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
        self._progress.update(self._task, description=f"ingest: {name}")
        started = time.perf_counter()
        result = fn(*args)
        self._progress.console.print(f"  {name:<16} {time.perf_counter() - started:7.2f} s")
        self._progress.advance(self._task)
        return result
