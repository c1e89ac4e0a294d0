"""``python -m eidflow`` and the ``eidflow`` command.

The command line is the application's (``app/cli``); this module only enters it. Ctrl-C
while a command imports its libraries (pandas, Prefect) ends with one line, not a
traceback, like Ctrl-C later on.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    # Arrow's jemalloc pool gives back what its string builders outgrew; its default
    # (mimalloc) kept it: a 1,000,000-row ingest peaked at 1.2-1.25 GB, with jemalloc at
    # 0.98-0.99 GB. Read when pyarrow loads, so set before; a value already set wins.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    try:
        from app.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("\neidflow: interrupted while starting: nothing was done.\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
