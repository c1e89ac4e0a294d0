"""``python -m eidflow`` and the ``eidflow`` command.

Importing the command line takes about a second (SQLAlchemy, Prefect's CLI parts): Ctrl-C
in that second ends with one line, not a traceback, like Ctrl-C later on.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from eidflow.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("\neidflow: interrupted while starting: nothing was done.\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
