"""upstream user ids are opaque strings: end_users.upstream_id becomes a string column

The published contract names its users by GUID; termgate stored the upstream's id of an end
user as an integer. Existing integers become their decimal strings (`7` -> `"7"`), which is how
a token issued before this revision, whose `uid` claim is an integer, is read as well.

Downgrade converts back only when every stored id is a decimal integer that fits the old
column; otherwise it refuses, naming how many ids it cannot keep: an upstream id that is not an
integer (a GUID) has no integer form, and dropping or renumbering it would send another
account's id to the upstream.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:00:00

"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_USER_ID_LENGTH = 128  # termgate.core.user_ids.MAX_USER_ID_LENGTH when this was written
INT32 = range(-(2**31), 2**31)
_INTEGER = re.compile(r"-?[0-9]{1,10}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_retype("INTEGER", f"VARCHAR({MAX_USER_ID_LENGTH})", "CAST(upstream_id AS TEXT)")
        return
    op.alter_column(
        "end_users",
        "upstream_id",
        existing_type=sa.Integer(),
        type_=sa.String(length=MAX_USER_ID_LENGTH),
        existing_nullable=False,
        postgresql_using="upstream_id::varchar",
    )


def downgrade() -> None:
    ids = op.get_bind().execute(sa.text("SELECT upstream_id FROM end_users")).scalars().all()
    kept = [value for value in ids if _fits_integer(str(value))]
    if len(kept) != len(ids):
        raise RuntimeError(
            f"cannot downgrade below 0010: {len(ids) - len(kept)} end user(s) have an upstream id "
            "that is not an integer (such as a GUID); an integer column cannot hold them"
        )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_retype(f"VARCHAR({MAX_USER_ID_LENGTH})", "INTEGER", "CAST(upstream_id AS INTEGER)")
        return
    op.alter_column(
        "end_users",
        "upstream_id",
        existing_type=sa.String(length=MAX_USER_ID_LENGTH),
        type_=sa.Integer(),
        existing_nullable=False,
        postgresql_using="upstream_id::integer",
    )


def _fits_integer(text: str) -> bool:
    return bool(_INTEGER.fullmatch(text)) and int(text) in INT32 and str(int(text)) == text


def _sqlite_retype(old: str, new: str, cast: str) -> None:
    """SQLite cannot change a column's type: the table is made again from its own schema with
    the column's type replaced, and its rows copied back with `cast`.

    Not Alembic's batch mode: it drops the table and renames a copy into its place, and with
    foreign keys on (termgate's engine turns them on) dropping `end_users`, which consents and
    token families refer to, fails. Here the references are deferred to the commit, and the rows
    put back under the same ids satisfy them again before it."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'end_users' AND sql IS NOT NULL"
        )
    ).all()
    (table_sql,) = [sql for kind, sql in rows if kind == "table"]
    indexes = [sql for kind, sql in rows if kind == "index"]
    declaration = f"upstream_id {old} NOT NULL"
    if table_sql.count(declaration) != 1:
        raise RuntimeError(f"end_users does not declare `{declaration}` once: {table_sql}")
    columns = [row[1] for row in bind.execute(sa.text("PRAGMA table_info(end_users)"))]
    listed = ", ".join(columns)
    copied = ", ".join(cast if name == "upstream_id" else name for name in columns)
    # A statement that writes starts the transaction the deferral belongs to (pysqlite begins
    # one only before the first write; a pragma outside one would end with its own statement).
    bind.execute(sa.text("UPDATE end_users SET upstream_id = upstream_id WHERE 0"))
    bind.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
    bind.execute(sa.text("CREATE TEMP TABLE end_users_0010 AS SELECT * FROM end_users"))
    bind.execute(sa.text("DROP TABLE end_users"))
    bind.execute(sa.text(table_sql.replace(declaration, f"upstream_id {new} NOT NULL")))
    for index_sql in indexes:
        bind.execute(sa.text(index_sql))
    bind.execute(sa.text(f"INSERT INTO end_users ({listed}) SELECT {copied} FROM end_users_0010"))
    bind.execute(sa.text("DROP TABLE end_users_0010"))
