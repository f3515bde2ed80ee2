"""Target postgres: a PostgreSQL database (CRM_PG_*) holds landing, raw and every model. dbt builds the published
models in `marts_next`; publish renames it to `marts`, which BI tools read as CRM_READER_ROLE."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.incremental_load import RawLoader
from orchestration.names import MARTS_SCHEMA, POSTGRES_MARTS_BUILD_SCHEMA
from orchestration.postgres_raw import PostgresRawLoader
from orchestration.quality.validation import GeConnection
from orchestration.warehouse_sql import PostgresSession, SqlSession
from orchestration.warehouses import TargetDefaults


class PostgresWarehouse(TargetDefaults):
    target = "postgres"
    build_schema = POSTGRES_MARTS_BUILD_SCHEMA
    has_duckdb_file = False
    keeps_snapshots = True
    dbt_reads_raw_parquet = False

    def url(self) -> str:
        """SQLAlchemy URL of the Postgres warehouse, with the password read from CRM_PG_PASSWORD now."""
        import sqlalchemy as sa

        url = sa.engine.URL.create(
            "postgresql+psycopg2",
            username=self.config.pg_user,
            password=os.environ.get("CRM_PG_PASSWORD") or None,
            host=self.config.pg_host,
            port=self.config.pg_port,
            database=self.config.pg_dbname,
        )
        return url.render_as_string(hide_password=False)

    def raw_loader(self) -> RawLoader:
        return PostgresRawLoader(self.url())

    @contextmanager
    def session(self) -> Iterator[SqlSession]:
        import psycopg2

        con = psycopg2.connect(
            host=self.config.pg_host,
            port=self.config.pg_port,
            user=self.config.pg_user,
            dbname=self.config.pg_dbname,
            password=os.environ.get("CRM_PG_PASSWORD"),
        )
        try:
            yield PostgresSession(con)
        finally:
            con.close()

    def ge_connection(self) -> GeConnection:
        return GeConnection(url=self.url(), connect_args={"options": "-c timezone=UTC"})

    def dbt_build_args(self) -> list[str]:
        """The published models are built aside, then swapped in (orchestration/publish.py)."""
        return ["--vars", json.dumps({"marts_schema": self.marts_schema})]

    def publish(
        self, context: dg.AssetExecutionContext, models: list[tuple[str, str]], *, with_dashboard: bool
    ) -> Iterator[dg.MaterializeResult]:
        from orchestration.publish import publish_postgres_schema  # publish builds on the dbt assets' manifest

        with self.session() as session:
            yield publish_postgres_schema(
                context, session, [name for _, name in models], self.marts_schema, self.config.reader_role
            )

    def published_where(self) -> str:
        config = self.config
        return (
            f"schema {MARTS_SCHEMA} of postgresql://{config.pg_host}:{config.pg_port}/{config.pg_dbname} "
            f"(read it as {config.reader_role})"
        )


WAREHOUSE = PostgresWarehouse
