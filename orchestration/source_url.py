"""What CRM_SOURCE_URL may be: a SQLite file, PostgreSQL or MySQL/MariaDB, read with the drivers the project installs.

Checked when the settings are read, so a URL that cannot work is refused before any run starts, with one
message instead of an error in every landing step.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

# The driver each source database is read with when the URL names none. SQLAlchemy's own default for mysql://
# and mariadb:// is mysqlclient (MySQLdb), which needs C headers to install; the project installs PyMySQL.
# `postgres://` is a spelling SQLAlchemy 2 no longer accepts.
_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
URL_FORMS = (
    "sqlite:////absolute/path/crm.sqlite, postgresql://user:password@host:5432/crm "
    "or mysql://user:password@host:3306/crm"
)


class SourceUrlError(ValueError):
    """CRM_SOURCE_URL cannot be read; the message names the URL (password hidden) and the forms that work."""


def parse_source_url(value: str) -> sa.engine.URL:
    """The URL with the driver the project installs for its database; SourceUrlError when it cannot work."""
    try:
        url = sa.engine.make_url(value)
    except (sa.exc.ArgumentError, ValueError):
        raise SourceUrlError(f"CRM_SOURCE_URL={masked(value)!r} is not a database URL: use {URL_FORMS}") from None
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise SourceUrlError(
            f"CRM_SOURCE_URL={masked(value)!r}: {backend!r} is not a source database this project "
            f"reads: use {URL_FORMS}"
        )
    if url.drivername == backend:
        url = url.set(drivername=_DRIVERS[backend])
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise SourceUrlError(f"CRM_SOURCE_URL={masked(value)!r} names no SQLite file: use {URL_FORMS}")
    try:
        url.get_dialect().import_dbapi()
    except ImportError as error:
        raise SourceUrlError(
            f"CRM_SOURCE_URL={masked(value)!r}: driver {url.get_driver_name()!r} is not installed ({error}); leave the "
            f"driver out ({backend}://…) to read with the one this project installs"
        ) from None
    return url


def masked(value: str) -> str:
    """The URL with its password replaced by ***, also when it does not parse (it may still hold one), and also
    when it is a query parameter (`?password=`), which SQLAlchemy does not hide."""
    try:
        text = sa.engine.make_url(value).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        text = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)
    return re.sub(r"(password=)[^&]*", r"\1***", text, flags=re.IGNORECASE)
