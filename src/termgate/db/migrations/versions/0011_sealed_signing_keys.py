"""token-signing private keys sealed at rest; keys published before they sign

`signing_keys.private_jwk` held each private JWK in the clear. It becomes `sealed_jwk` (AES-GCM
under a key derived from the secret key, `termgate.db.key_seal`) with `seal_id` naming that
secret key, and `public_jwk` (the public half in the clear, what the JWKS and the gateways
need). `activates_at` is when a key starts signing: existing keys signed from their creation.

The secret key is the one `termgate db upgrade` runs with (passed as the Alembic attribute
`secret_key`, else read from the settings); it is only needed when keys exist. Downgrade opens
the keys with the same secret key and writes them back in the clear; it refuses, changing
nothing, when one does not open.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:45:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from joserfc.jwk import ECKey

from termgate.db.key_seal import KeySeal, SealError

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seal() -> KeySeal:
    secret = context.config.attributes.get("secret_key")
    if not secret:
        from termgate.settings import get_settings

        secret = get_settings().session_secret()
    return KeySeal.from_secret(str(secret))


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("public_jwk", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sealed_jwk", sa.Text(), nullable=True))
        batch.add_column(sa.Column("seal_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("activates_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT kid, private_jwk FROM signing_keys")).all()
    seal = _seal() if rows else None
    for kid, private_jwk in rows:
        assert seal is not None
        public = ECKey.import_key(json.loads(private_jwk)).as_dict(private=False)
        bind.execute(
            sa.text(
                "UPDATE signing_keys SET public_jwk = :public, sealed_jwk = :sealed, "
                "seal_id = :seal_id WHERE kid = :kid"
            ),
            {
                "public": json.dumps(public),
                "sealed": seal.seal(kid, private_jwk),
                "seal_id": seal.seal_id,
                "kid": kid,
            },
        )
    bind.execute(sa.text("UPDATE signing_keys SET activates_at = created_at"))
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("public_jwk", existing_type=sa.Text(), nullable=False)
        batch.alter_column("sealed_jwk", existing_type=sa.Text(), nullable=False)
        batch.alter_column("seal_id", existing_type=sa.String(length=32), nullable=False)
        batch.alter_column("activates_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_column("private_jwk")


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT kid, sealed_jwk FROM signing_keys")).all()
    seal = _seal() if rows else None
    opened: list[tuple[str, str]] = []
    for kid, sealed in rows:
        assert seal is not None
        try:
            opened.append((kid, seal.open(kid, sealed)))
        except SealError as error:
            raise RuntimeError(
                f"cannot downgrade below 0011: {error}; run it with the secret key the signing "
                "keys were sealed with (TERMGATE_SECRET_KEY)"
            ) from None
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("private_jwk", sa.Text(), nullable=True))
    for kid, private_jwk in opened:
        bind.execute(
            sa.text("UPDATE signing_keys SET private_jwk = :private WHERE kid = :kid"),
            {"private": private_jwk, "kid": kid},
        )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_jwk", existing_type=sa.Text(), nullable=False)
        batch.drop_column("activates_at")
        batch.drop_column("seal_id")
        batch.drop_column("sealed_jwk")
        batch.drop_column("public_jwk")
