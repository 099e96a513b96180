"""Progress of long work, told to whoever shows it.

The pipeline says where it is (``report``): which author of how many, each
page of a profile read, each wait between requests; the command line listens
(``listening``) and shows it: a bar on a terminal, a line now and then in a log
(``crawler.commands.run``).  With no listener a report costs a function call,
so the library, the scheduler and the tests run exactly as before.

    author   index, total, scholar_id      a new author starts (index from 1)
    page     scholar_id, page, publications a page of the profile was read
    wait     seconds, why                   the client is about to wait this long
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def report(kind: str, **fields: Any) -> None:
    """Tell every listener; a listener that fails never fails the work it watches."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        with contextlib.suppress(Exception):
            listener(Event(kind, fields))


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every event reported inside the ``with`` block."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
