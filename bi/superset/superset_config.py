"""Superset's configuration for the CRM warehouse: everything that varies comes from the environment.

Superset reads this file through SUPERSET_CONFIG_PATH (bi/superset/run sets it). Its metadata database
lives in the data folder, not in the repository; the secret key and the admin password are never written here.
"""

import os
from pathlib import Path

SUPERSET_HOME = Path(os.environ["CRM_SUPERSET_HOME"])

# Signs session cookies: generated once per installation by bi/superset/run, or given by the environment.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME / 'superset.db'}"
DATA_DIR = str(SUPERSET_HOME)

# One person's local BI: no Celery, no Redis; caches stay in this process.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache"}
RATELIMIT_STORAGE_URI = "memory://"

# PREVENT_UNSAFE_DB_CONNECTIONS stays on (the default): it refuses SQLite and shillelagh databases, which could
# read the server's files (Superset's own metadata among them), and lets DuckDB through, whose file access
# provision.py turns off on the connection itself (warehouse_uri).
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120
WTF_CSRF_ENABLED = True
WTF_CSRF_EXEMPT_LIST = ["superset.views.core.log", "superset.charts.data.api.data"]
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
# No calls to the outside world from a machine that may have none.
SUPERSET_LOG_VIEW = False
