"""One change, one transaction.

``@transaction`` runs a service function and commits what it did; on any exception it rolls
everything back, so a refusal leaves nothing behind for a later commit. A lost race (the
row's version moved under us: ``StaleDataError``; SQLite's "database is locked"; a
PostgreSQL deadlock or serialization failure) becomes a ``Conflict`` the person can read.

A decorated function called from inside another one joins the outer transaction: only the
outermost commits, so two services can make one change together. ``with transaction():``
does the same for a block, for work that commits in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from types import TracebackType
from typing import Any, TypeVar, overload

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict, UserError
from .extensions import db

F = TypeVar("F", bound=Callable[..., Any])
# A message, or a function of the decorated function's arguments that returns the error.
ConflictSpec = Any

CONFLICT_MESSAGE = _l("Someone else changed this at the same moment. Reload to see it.")
_DEPTH = "portal.transaction_depth"
# PostgreSQL: serialization_failure, deadlock_detected.
_RACE_STATES = ("40001", "40P01")


def lost_race(exc: BaseException) -> bool:
    """Whether a database error means another writer got there first."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, OperationalError):
        return "locked" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) in _RACE_STATES
    return False


def _conflict(spec: ConflictSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> UserError:
    if spec is None:
        return Conflict(CONFLICT_MESSAGE)
    if callable(spec):
        return spec(*args, **kwargs)  # type: ignore[no-any-return]
    return Conflict(spec)


@contextmanager
def _atomic(conflict: Callable[[], UserError]) -> Iterator[None]:
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        if depth:  # inside another transaction: the outermost one commits or rolls back
            yield
            return
        try:
            yield
            session.commit()
        except BaseException as exc:
            session.rollback()
            if lost_race(exc):
                raise conflict() from None  # read after the rollback: what the winner committed
            raise
    finally:
        session.info[_DEPTH] = depth


class _Transaction:
    """Both a decorator and a context manager (a fresh transaction each time it is used)."""

    def __init__(self, conflict: ConflictSpec) -> None:
        self.conflict = conflict
        self._block: Any = None

    def __call__(self, change: F) -> F:
        @wraps(change)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _atomic(lambda: _conflict(self.conflict, args, kwargs)):
                return change(*args, **kwargs)

        return run  # type: ignore[return-value]

    def __enter__(self) -> None:
        self._block = _atomic(lambda: _conflict(self.conflict, (), {}))
        self._block.__enter__()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool | None:
        block, self._block = self._block, None
        return block.__exit__(kind, exc, traceback)  # type: ignore[no-any-return]


@overload
def transaction(change: F, /) -> F: ...
@overload
def transaction(*, conflict: ConflictSpec = None) -> _Transaction: ...


def transaction(change: Any = None, /, *, conflict: ConflictSpec = None) -> Any:
    """Run ``change`` as one transaction: commit on success, roll back on any exception.

    ``@transaction``, ``@transaction(conflict=...)`` or ``with transaction(): ...``.
    ``conflict`` is the message for a lost race (default: ``CONFLICT_MESSAGE``), or a
    function of the decorated function's arguments returning the ``UserError`` to raise."""
    if change is not None:
        return _Transaction(conflict)(change)
    return _Transaction(conflict)
