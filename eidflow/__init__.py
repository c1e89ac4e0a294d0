"""eidflow: from OEM eSIM shipment manifests to operator hand-off files and Entra groups."""

__version__ = "0.1.0"
