"""Moving whole frames in and out of the ledger without a round trip per row.

PostgreSQL: COPY (CSV through pyarrow). SQLite: executemany in one transaction.
Temporary tables live for one transaction.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

SQLITE_SLICE_ROWS = 100_000


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def create_temp(connection: Connection, name: str, columns: Mapping[str, str]) -> None:
    """A temporary table dropped at the end of the transaction (SQLite: by ``drop_temp``)."""
    spec = ", ".join(f"{column} {kind}" for column, kind in columns.items())
    if is_postgres(connection):
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({spec}) ON COMMIT DROP")
    else:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({spec})")


def drop_temp(connection: Connection, *names: str) -> None:
    if not is_postgres(connection):
        for name in names:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


def insert_frame(
    connection: Connection, table: str, frame: pd.DataFrame, *, suffix: str = ""
) -> None:
    """Append every line of ``frame`` to ``table`` (columns by name).

    ``suffix`` (SQLite only, e.g. an ``ON CONFLICT`` clause) ends each INSERT.
    """
    if frame.empty:
        return
    columns = ", ".join(frame.columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    if is_postgres(connection):
        data = _csv_bytes(frame)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(data)
        if table.startswith("tmp_"):
            connection.exec_driver_sql(f"ANALYZE {table}")
        return
    cursor = driver.cursor()
    try:
        # In slices: a million rows as Python tuples at once would cost a gigabyte.
        for start in range(0, len(frame), SQLITE_SLICE_ROWS):
            part = frame.iloc[start : start + SQLITE_SLICE_ROWS]
            # A text column with one value throughout (the run, the operator, the time, a
            # manifest's name, an empty field) goes into the statement as a literal:
            # binding a value costs more than SQLite's whole insert of it.
            fixed = {column: _literal(part[column]) for column in part.columns}
            varying = [column for column, literal in fixed.items() if literal is None]
            values = ", ".join(fixed[column] or "?" for column in part.columns)
            statement = f"INSERT INTO {table} ({columns}) VALUES ({values}) {suffix}"
            # Column lists, not itertuples: iterating an Arrow-backed string column is slow.
            rows: Iterable[tuple[Any, ...]] = (
                zip(*(part[column].tolist() for column in varying), strict=True)
                if varying
                else itertools.repeat((), len(part))
            )
            cursor.executemany(statement, rows)
    finally:
        cursor.close()


def _literal(values: pd.Series) -> str | None:
    """``values`` as one SQL text literal if they are all the same text, else None."""
    first = values.iloc[0]
    if not isinstance(first, str) or "\x00" in first:
        return None
    same = (values == first).fillna(False)
    if not bool(same.all()):
        return None
    return "'" + first.replace("'", "''") + "'"


def fetch_frame(
    connection: Connection, sql: str, columns: Sequence[str], params: Sequence[Any] = ()
) -> pd.DataFrame:
    """The result of ``sql`` as a frame of text columns (``""`` for NULL)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    if is_postgres(connection):
        buffer = io.BytesIO()
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params or None) as copy,
        ):
            for block in copy:
                buffer.write(block)
        return _read_csv(buffer.getvalue(), columns)
    cursor = driver.cursor()
    try:
        rows = cursor.execute(sql.replace("%s", "?"), tuple(params)).fetchall()
    finally:
        cursor.close()
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    return frame.fillna("").astype("str") if len(frame) else _empty(columns)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(_times_as_text(frame), preserve_index=False)
    buffer = io.BytesIO()
    # Every value quoted: PostgreSQL reads a quoted empty field as "", an unquoted one as NULL.
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(table, buffer, write_options=options)
    return buffer.getvalue()


def _times_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A time column with one value throughout (the run's "now") as ISO 8601 text: Arrow's
    CSV writer formats a million timestamps in a second, PostgreSQL parses the text alike."""
    constant = {
        column: values.iloc[0].isoformat()
        for column, values in frame.items()
        if isinstance(values.dtype, pd.DatetimeTZDtype)
        and len(values)
        and bool((values == values.iloc[0]).all())
    }
    return frame.assign(**constant) if constant else frame


def _read_csv(data: bytes, columns: Sequence[str]) -> pd.DataFrame:
    if not data:
        return _empty(columns)
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(columns)),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas().astype("str")


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="str") for column in columns})


def execute(connection: Connection, sql: str, **values: Any) -> None:
    connection.execute(text(sql), values)


def as_datetime(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives text, PostgreSQL a datetime)."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
