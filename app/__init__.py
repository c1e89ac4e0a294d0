"""The application: the ingest pipeline that wires parsers, the core, the ledger and the
exporters (``pipeline``), the run folder (``runfolder``), the one place that assembles
every setting (``settings``) and the command line (``cli``, a module per command group).

Above ``parsers/`` and ``exporters/``, beside ``flows/``, which wires the same steps for
Prefect. The domain (``eidflow/``) never imports it.
"""
