"""psycopg's cursor with a `description` built on demand (the engine's PostgreSQL connections use it).

psycopg builds one `Column` object per result column each time `description` is read, and SQLAlchemy
reads it after every statement. A command's joined task read returns about a hundred columns, so this
was a measurable share of a step's CPU time on PostgreSQL (not on SQLite, whose driver builds plain
tuples). SQLAlchemy needs only whether there is a description and its length once it has cached the
statement's result metadata; the columns are built when something actually indexes or iterates them.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.pq import ExecStatus

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class LazyDescriptionCursor(psycopg.Cursor[Any]):
    """A client-side psycopg cursor whose `description` is a lazy sequence of the usual `Column`s."""

    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        res = self.pgresult
        if res and (res.nfields or res.status in _ROWS):
            return _Columns(self, res)
        return None


class _Columns(Sequence[psycopg.Column]):
    """`len()` without building anything; the columns are built at the first item access.

    They are built from the result this description belongs to (kept here), as psycopg's own
    `Column(cursor, index)` reads them (`pgresult`, the connection encoding, the type registry), so a
    late access still describes the right result after the cursor has moved on.
    """

    __slots__ = ("_columns", "_encoding", "adapters", "pgresult")

    def __init__(self, cursor: LazyDescriptionCursor, res: Any) -> None:
        self.pgresult, self.adapters, self._encoding = res, cursor.adapters, cursor._encoding
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return self.pgresult.nfields

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __iter__(self) -> Iterator[psycopg.Column]:
        return iter(self._built())

    def _built(self) -> list[psycopg.Column]:
        if self._columns is None:
            self._columns = [psycopg.Column(self, i) for i in range(len(self))]  # type: ignore[arg-type]
        return self._columns
