"""Create the PostgreSQL database named in a URL if it does not exist yet (for `make serve` and
`make bench` on a developer's machine; a real deployment's database is provisioned separately)."""

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, ".")
from config import normalize_database_url

url = make_url(normalize_database_url(sys.argv[1]))
if url.get_backend_name() == "postgresql":
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()
