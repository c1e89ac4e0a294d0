"""Small builders for ledger tests: valid EIDs and device frames."""

from __future__ import annotations

import pandas as pd

from eidflow.identifiers.eid import calc_check_digits


def eid(number: int) -> str:
    """A valid EID whose individual number is ``number``."""
    first30 = f"890490321234512345{number:012d}"
    return first30 + calc_check_digits(first30)


def devices(*pairs: tuple[int, str], source_file: str = "manifest.csv") -> pd.DataFrame:
    """Claim rows from (EID number, serial) pairs, row numbers from 2 like a CSV."""
    return pd.DataFrame(
        {
            "eid": [eid(number) for number, _ in pairs],
            "serial_number": [serial for _, serial in pairs],
            "imei": ["" for _ in pairs],
            "source_file": [source_file for _ in pairs],
            "row": list(range(2, len(pairs) + 2)),
        }
    )
