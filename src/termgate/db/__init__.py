"""Storage: SQLAlchemy 2 models, async engine and sessions, Alembic migrations."""
