"""Prefect flows: scheduled inbox ingestion, daily re-reconciliation, and ``eidflow serve``.

The flows only wire the pipeline together and add retries, schedules, logs and artifacts.
"""
