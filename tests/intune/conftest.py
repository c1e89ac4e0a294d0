from __future__ import annotations

from tests.graph_emulator import graph_emulator

__all__ = ["graph_emulator"]
