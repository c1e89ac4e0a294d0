"""Alembic environment: eidflow passes the connection in (``config.attributes["connection"]``).

The caller already holds the ledger's migration lock inside an open transaction,
so the whole upgrade is one transaction (SQLite and PostgreSQL both have transactional DDL).
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
