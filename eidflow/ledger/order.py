"""Sorting text as SQLite and PostgreSQL's C collation do (by bytes), fast.

A claim's lines go into each B-tree in key order, so that the B-tree is filled front to
back: EIDs for ``claims``, serial numbers for ``serials``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Digits packed into one 64-bit key: 10**19 fits in an unsigned 64-bit integer.
MAX_PACKED_DIGITS = 19


def byte_order(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Positions that sort ``values`` by their bytes.

    Each value is zero-padded into 8-byte words, sorted as big-endian integers with
    ``numpy.lexsort``: half the time of Arrow's string sort on EIDs and serial numbers.
    Words the same on every value order nothing and are left out (a shipment's EIDs share
    their first 16 digits: EUM and issuer); values of one length whose other words are all
    digits are sorted as one number. Values longer than 64 bytes are sorted by Arrow.
    """
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    count = len(values)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    values = values.cast(pa.string())
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=count + 1, offset=values.offset * 4
    )
    lengths = np.diff(offsets)
    width = int(lengths.max())
    if values.null_count or width > 64:
        return np.asarray(pc.sort_indices(values))
    matrix = _padded(values, offsets, lengths, width)
    keys = matrix.view(">u8")
    words = [word for word in range(keys.shape[1]) if not _constant(keys[:, word])]
    # The length breaks ties last: "a" before "a\x00", which pads alike.
    tie = [] if _constant(lengths) else [lengths]
    if not tie and 1 < len(words) <= MAX_PACKED_DIGITS // 8:
        number = _digits(matrix, words)
        if number is not None:
            return np.argsort(number, kind="stable")
    varying = [keys[:, word] for word in words] + tie
    if len(varying) <= 1:
        return np.argsort(varying[0], kind="stable") if varying else np.arange(count)
    return np.lexsort(varying[::-1])


def _padded(values: pa.Array, offsets: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    """The values' bytes, a row each, zero-padded to whole 8-byte words."""
    count = len(values)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    matrix = np.zeros((count, max(1, -(-width // 8)) * 8), dtype=np.uint8)
    if width and bool((lengths == width).all()):
        matrix[:, :width] = data.reshape(count, width)
    elif width:
        rows = np.repeat(np.arange(count), lengths)
        columns = np.arange(len(rows)) - np.repeat(offsets[:-1] - offsets[0], lengths)
        matrix[rows, columns] = data
    return matrix


def _digits(matrix: np.ndarray, words: list[int]) -> np.ndarray | None:
    """The words as one number when every byte in them is a digit (None otherwise): for
    digits, byte order is numeric order."""
    for word in words:
        if not bool((matrix[:, 8 * word : 8 * word + 8] - np.uint8(48) <= 9).all()):
            return None
    keys = matrix.view(">u8")
    number = np.zeros(len(matrix), dtype=np.uint64)
    for word in words:
        key = keys[:, word].astype(np.uint64)  # native byte order, for the arithmetic
        for digit in range(8):  # the first byte is the highest
            value = (key >> np.uint64(8 * (7 - digit))) & np.uint64(0xFF)
            number = number * np.uint64(10) + (value - np.uint64(48))
    return number


def _constant(key: np.ndarray) -> bool:
    return bool((key == key[0]).all())
