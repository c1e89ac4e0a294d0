"""Column helpers the pipeline relies on for its frames."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from eidflow.identifiers import columns


def test_one_chunk_keeps_every_value_type_and_index() -> None:
    """Columns read in blocks come in chunks; made whole, they hold the same values (missing
    ones stay missing), the same dtype and index, and the other columns are left as they are."""
    chunks = pa.chunked_array(
        [pa.array(["a", None], pa.large_string()), pa.array(["", "d"], pa.large_string())]
    )
    frame = pd.DataFrame(
        {
            "eid": pd.Series(pd.array(chunks, dtype="str"), index=[5, 6, 7, 8]),
            "serial_number": pd.Series(pd.array(chunks, dtype="str"), index=[5, 6, 7, 8]),
            "row": [1, 2, 3, 4],
        },
        index=[5, 6, 7, 8],
    )
    before = frame.copy()
    columns.one_chunk(frame, ["eid", "imei", "row"])  # imei absent, row not text: untouched
    whole = pa.Array.from_pandas(frame["eid"])
    assert not isinstance(whole, pa.ChunkedArray) or whole.num_chunks == 1
    assert pa.Array.from_pandas(frame["serial_number"]).num_chunks == 2  # not asked for
    pd.testing.assert_frame_equal(frame, before)
