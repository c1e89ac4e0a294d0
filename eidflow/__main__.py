"""``python -m eidflow`` and the ``eidflow`` command.

The command line is the application's (``app/cli``); this module only enters it. Ctrl-C
while a command imports its libraries (pandas, Prefect) ends with one line, not a
traceback, like Ctrl-C later on.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from app.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("\neidflow: interrupted while starting: nothing was done.\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
