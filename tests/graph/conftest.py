from __future__ import annotations

from tests.entra_emulator import entra_emulator
from tests.graph_emulator import graph_emulator

__all__ = ["entra_emulator", "graph_emulator"]
