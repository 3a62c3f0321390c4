"""Progress of long command-line work, on stderr so that stdout stays the answer.

On a terminal: a spinner with the current step and the time elapsed, gone when the work
ends. Elsewhere (a pipe, a log, CI): one plain line per finished step and one for the
whole, and none for work that names no steps, so a command whose answer is a verdict
(a verification that fails) still answers in one line.
"""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Step = Callable[[str], None]


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def working(task: str) -> Iterator[Step]:
    """Report ``task`` while the block runs; call the yielded function as each step begins."""
    if _on_terminal():
        with _spinner(task) as step:
            yield step
        return
    with _plain(task) as step:
        yield step


@contextmanager
def _plain(task: str) -> Iterator[Step]:
    started = time.monotonic()
    current: list[tuple[str, float]] = []

    def finish_current() -> None:
        if current:
            name, since = current.pop()
            print(f"{task}: {name} done ({time.monotonic() - since:.1f} s)", file=sys.stderr, flush=True)

    def step(name: str) -> None:
        finish_current()
        current.append((name, time.monotonic()))

    yield step
    stepped = bool(current)
    finish_current()
    if stepped:
        print(f"{task}: finished in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


@contextmanager
def _spinner(task: str) -> Iterator[Step]:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        handle = progress.add_task(task, total=None)

        def step(name: str) -> None:
            progress.update(handle, description=f"{task}: {name}")

        yield step
