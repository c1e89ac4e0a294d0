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
    # One jemalloc arena for every thread: the claim written in a background thread while
    # the run writes its files (``SqlLedger.claim``) left what it freed in an arena of its
    # own, out of the main thread's reach: 1.03-1.12 GB at the peak of a 1,000,000-row run,
    # 0.95-0.99 GB with one arena, in the same time.
    os.environ.setdefault("JE_ARROW_MALLOC_CONF", "narenas:1")
    try:
        from app.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("\neidflow: interrupted while starting: nothing was done.\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
