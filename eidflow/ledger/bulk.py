"""Moving whole columns in and out of the ledger without a round trip per row.

PostgreSQL: COPY (CSV through pyarrow). SQLite: ``executemany`` in one transaction, in
slices, with every column that holds one value throughout written into the statement
as a literal (binding a value costs more than SQLite's whole insert of it).
Columns are pyarrow arrays (or pandas Series, or one Python value for the whole column).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from eidflow.ledger.db import Connection, as_datetime, pg_sql, translate_errors

__all__ = ["as_datetime", "create_temp", "drop_temp", "fetch", "insert"]

SQLITE_SLICE_ROWS = 100_000
PACK_FROM_ROWS = 5_000  # fewer rows than this go through executemany
PACK_SLICE_ROWS = 50_000  # rows per packed statement (a few MB of text)
JSON_ESCAPED = (ord('"'), ord("\\"))  # a JSON string cannot hold these, nor control characters
# A column: an Arrow array, a pandas Series, or one value for every row.
Column = Any


def create_temp(connection: Connection, name: str, columns: Mapping[str, str]) -> None:
    """A temporary table dropped at the end of the transaction (SQLite: by ``drop_temp``)."""
    spec = ", ".join(f"{column} {kind}" for column, kind in columns.items())
    if connection.postgres:  # made twice in one transaction (claims, then held-back rows)
        connection.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        connection.execute(f"CREATE TEMP TABLE {name} ({spec}) ON COMMIT DROP")
    else:
        connection.execute(f"DROP TABLE IF EXISTS temp.{name}")
        connection.execute(f"CREATE TEMP TABLE {name} ({spec})")


def drop_temp(connection: Connection, *names: str) -> None:
    if not connection.postgres:
        for name in names:
            connection.execute(f"DROP TABLE IF EXISTS temp.{name}")


def insert(
    connection: Connection, table: str, columns: Mapping[str, Column], *, suffix: str = ""
) -> int:
    """Append a line per row of ``columns`` to ``table``; returns the number of rows.

    ``suffix`` (e.g. ``ON CONFLICT DO NOTHING``) ends the statement; on PostgreSQL it
    means going through a temporary table, as COPY takes none.
    """
    arrays = {name: values for name, values in columns.items() if not _is_scalar(values)}
    rows = len(next(iter(arrays.values()))) if arrays else 0
    if rows == 0:
        return 0
    if connection.postgres:
        if suffix:
            _pg_insert_via_temp(connection, table, columns, rows, suffix)
        else:
            _pg_copy(connection, table, columns, rows)
        return rows
    _sqlite_insert(connection, table, columns, rows, suffix)
    return rows


def _is_scalar(values: Any) -> bool:
    return not hasattr(values, "__len__") or isinstance(values, str | bytes)


def _arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow: arrays as they are, pandas Series without a Python copy."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    if hasattr(values, "iloc"):  # a pandas Series
        return pa.Array.from_pandas(values)
    return pa.array(list(values))


def _as_list(values: Any) -> list[Any]:
    return _arrow(values).to_pylist()


def _sqlite_insert(
    connection: Connection, table: str, columns: Mapping[str, Column], rows: int, suffix: str
) -> None:
    """Packed a slice at a time (each slice's packing let go before the next is made: a
    claim's packed rows, whole, were a few hundred MB at the run's peak); a slice the
    packing does not suit, and any small insert, through ``executemany``."""
    if rows < PACK_FROM_ROWS:
        _sqlite_executemany(connection, table, columns, rows, suffix)
        return
    for start in range(0, rows, PACK_SLICE_ROWS):
        stop = min(start + PACK_SLICE_ROWS, rows)
        part = {
            name: values if _is_scalar(values) else _slice(values, start, stop)
            for name, values in columns.items()
        }
        if not _sqlite_insert_packed(connection, table, part, suffix):
            _sqlite_executemany(connection, table, part, stop - start, suffix)


def _sqlite_executemany(
    connection: Connection, table: str, columns: Mapping[str, Column], rows: int, suffix: str
) -> None:
    names = ", ".join(columns)
    for start in range(0, rows, SQLITE_SLICE_ROWS):
        stop = min(start + SQLITE_SLICE_ROWS, rows)
        part = {
            name: values if _is_scalar(values) else _slice(values, start, stop)
            for name, values in columns.items()
        }
        fixed = {name: _literal(values) for name, values in part.items()}
        varying = [_as_list(part[name]) for name, literal in fixed.items() if literal is None]
        placeholders = ", ".join(literal or "?" for literal in fixed.values())
        statement = f"INSERT INTO {table} ({names}) VALUES ({placeholders}) {suffix}"
        lines: Iterable[tuple[Any, ...]] = (
            zip(*varying, strict=True) if varying else itertools.repeat((), stop - start)
        )
        connection.executemany(statement, lines)


def _sqlite_insert_packed(
    connection: Connection, table: str, columns: Mapping[str, Column], suffix: str
) -> bool:
    """The rows in one statement: each row packed into one string, fixed-width fields
    first and one free field last, sent as a JSON array and cut apart by SQLite's
    ``json_each`` and ``substr``. Half the time of ``executemany``, which binds every value
    through Python. False (nothing written) when the columns do not lend themselves."""
    layout = _layout({name: values for name, values in columns.items()})
    if layout is None:
        return False
    fields, packed = layout
    names = ", ".join(columns)
    selected = ", ".join(fields[name] for name in columns)
    statement = (
        f"INSERT INTO {table} ({names}) SELECT {selected} FROM json_each(?) WHERE true {suffix}"
    )
    plain = not _json_escapes(_bytes(packed))
    connection.execute(
        statement, (_json_array(packed) if plain else json.dumps(packed.to_pylist()),)
    )
    return True


def json_safe(texts: pa.Array | pa.ChunkedArray) -> bool:
    """Whether text goes into JSON as it is and comes out of json_each the same (no NUL)."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    data = _bytes(texts.cast(pa.string()))
    return bool(data.all()) and not _json_escapes(data)


def json_array(texts: pa.Array | pa.ChunkedArray) -> str:
    """``texts`` (``json_safe``) as a JSON array of strings, for SQLite's json_each."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    return _json_array(texts.cast(pa.string())) if len(texts) else "[]"


def _json_array(texts: pa.Array) -> str:
    """``texts`` as a JSON array, built by Arrow (they hold nothing JSON escapes)."""
    quoted = pc.binary_join_element_wise(pa.scalar('"'), texts, pa.scalar('"'), "")
    whole = pa.ListArray.from_arrays(pa.array([0, len(quoted)], pa.int32()), quoted)
    return "[" + pc.binary_join(whole, ",")[0].as_py() + "]"


def _layout(columns: dict[str, Column]) -> tuple[dict[str, str], pa.Array] | None:
    """The SQL expression of each column over ``value`` (the packed row), and the packed rows.

    Integers and text that never ends in a space are padded to their widest value; one
    text column (the widest) goes last, unpadded. Any column of another kind, or a second
    column that cannot be padded: None.
    """
    fields: dict[str, str] = {}
    padded: list[tuple[str, pa.Array, int, bool]] = []
    free: list[tuple[str, pa.Array]] = []
    for name, values in columns.items():
        literal = _literal(values)
        if literal is not None:
            fields[name] = literal
            continue
        array = _arrow(values)
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        if array.null_count:
            return None
        if pa.types.is_integer(array.type):
            text = pc.cast(array, pa.string())
            padded.append((name, text, int(pc.max(pc.utf8_length(text)).as_py()), True))
        elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            text = array.cast(pa.string())
            if pc.any(pc.ends_with(text, " ")).as_py():
                free.append((name, text))
            else:
                padded.append((name, text, int(pc.max(pc.utf8_length(text)).as_py() or 0), False))
        else:
            return None
    if len(free) > 1:
        return None
    if not free and padded:  # the widest text goes last, unpadded
        texts = [entry for entry in padded if not entry[3]]
        if texts:
            last = max(texts, key=lambda entry: entry[2])
            padded.remove(last)
            free.append((last[0], last[1]))
        del texts
    parts: list[pa.Array] = []
    position = 1
    padded.reverse()
    while padded:  # each column's text is let go once padded: a million rows' worth each
        name, text, width, number = padded.pop()
        if width == 0:
            fields[name] = "''"
            continue
        parts.append(pc.utf8_lpad(text, width, " ") if number else pc.utf8_rpad(text, width, " "))
        cut = f"substr(value, {position}, {width})"
        fields[name] = f"CAST({cut} AS INTEGER)" if number else f"rtrim({cut}, ' ')"
        position += width
    for name, text in free:
        parts.append(text)
        fields[name] = f"substr(value, {position})"
    if not parts:
        return None
    packed = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
    if not _bytes(packed).all():  # a NUL byte: SQLite's text functions stop there
        return None
    return fields, packed


def _json_escapes(data: np.ndarray) -> bool:
    """Whether these bytes hold what a JSON string escapes (a pass per kind: no regex)."""
    return bool((data < 0x20).any()) or any(bool((data == byte).any()) for byte in JSON_ESCAPED)


def _bytes(texts: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of a string array's values, end to end (a view, not a copy)."""
    offsets = np.frombuffer(
        texts.buffers()[1], dtype=np.int32, count=len(texts) + 1, offset=texts.offset * 4
    )
    data = texts.buffers()[2]
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def _slice(values: Any, start: int, stop: int) -> Any:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.slice(start, stop - start)
    if hasattr(values, "iloc"):
        return values.iloc[start:stop]
    return values[start:stop]


def _literal(values: Any) -> str | None:
    """``values`` as one SQL literal if they are one value throughout, else None."""
    if _is_scalar(values):
        return _sql_literal(values)
    values = _arrow(values)
    kind = values.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if values.null_count or not (text or pa.types.is_integer(kind)):
        return None
    first = values[0].as_py()
    if not pc.all(pc.equal(values, pa.scalar(first, kind))).as_py():
        return None
    return _sql_literal(first)


def _sql_literal(value: Any) -> str | None:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _table(columns: Mapping[str, Column], rows: int) -> pa.Table:
    arrays = {}
    for name, values in columns.items():
        if _is_scalar(values):
            arrays[name] = (
                pa.repeat(pa.scalar(values), rows) if values is not None else pa.nulls(rows)
            )
        else:
            arrays[name] = _arrow(values)
    return pa.table(arrays)


def _pg_copy(connection: Connection, table: str, columns: Mapping[str, Column], rows: int) -> None:
    data = _csv_bytes(_table(columns, rows))
    names = ", ".join(columns)
    with (
        translate_errors(connection.url),
        connection.raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(data)
    if table.startswith("tmp_"):
        connection.execute(f"ANALYZE {table}")


def _pg_insert_via_temp(
    connection: Connection, table: str, columns: Mapping[str, Column], rows: int, suffix: str
) -> None:
    kinds = connection.all(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = :table AND table_schema = current_schema()",
        {"table": table},
    )
    types = dict(kinds)
    staging = f"tmp_into_{table}"
    create_temp(connection, staging, {name: types.get(name, "TEXT") for name in columns})
    _pg_copy(connection, staging, columns, rows)
    names = ", ".join(columns)
    connection.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} {suffix}")
    connection.execute(f"DROP TABLE {staging}")


def _csv_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    # Every value quoted: PostgreSQL reads a quoted empty field as "", an unquoted one as NULL.
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(table, buffer, write_options=options)
    return buffer.getvalue()


def fetch(connection: Connection, sql: str, names: Sequence[str], params: Any = None) -> pa.Table:
    """The result of ``sql`` as a table of text columns (``""`` for NULL)."""
    if connection.postgres:
        buffer = io.BytesIO()
        with (
            translate_errors(connection.url),
            connection.raw.cursor() as cursor,
            cursor.copy(f"COPY ({pg_sql(sql)}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            for block in copy:
                buffer.write(block)
        return _read_csv(buffer.getvalue(), names)
    cursor = connection.execute(sql, params)
    columns: list[list[Any]] = [[] for _ in names]
    while block := cursor.fetchmany(100_000):  # column lists, not a list of row tuples
        for values, column in zip(zip(*block, strict=True), columns, strict=True):
            column.extend(values)
    return pa.table({name: _as_text(values) for name, values in zip(names, columns, strict=True)})


def _as_text(values: list[Any]) -> pa.Array:
    """SQLite's values of one column (text, numbers, NULL) as text, NULL as ``""``."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds in one column
        array = pa.array([None if value is None else str(value) for value in values], pa.string())
    if not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    return pc.fill_null(array, "") if array.null_count else array


def _read_csv(data: bytes, names: Sequence[str]) -> pa.Table:
    if not data:
        return _empty(names)
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(names)),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _empty(names: Sequence[str]) -> pa.Table:
    return pa.table({name: pa.array([], pa.string()) for name in names})
