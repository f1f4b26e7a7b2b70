"""OAuth records: end users, their consents, and the OAuth 2 grants issued under them.

A consent is the source of truth (clause 3.3 a): every authorization code, refresh token and
access token belongs to a token family, and every live family to one live consent that covers
its scopes and debtors. Withdrawing the consent revokes its families, which every gateway node
learns through the change feed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, Environment, Status, UTCDateTime, new_id, stored_enum, utcnow


def split_debtors(listing: str) -> tuple[str, ...]:
    """The debtor ids of a stored listing: canonical strings, comma-separated (written so by
    `termgate.core.tenant_ids.debtor_listing`; a GUID never holds a comma)."""
    return tuple(part for part in listing.split(",") if part)


class EndUser(Base):
    """A login of the payroll product, who can see some debtors and consent to share them."""

    __tablename__ = "end_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The upstream's id of the account, sent as `X-Termgate-User`: canonical, 1-128 characters
    # (`termgate.core.user_ids`, applied by whatever sets it: the import, the demo seed).
    upstream_id: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    environment: Mapped[Environment] = mapped_column(
        stored_enum(Environment), default=Environment.SANDBOX, nullable=False
    )
    # Canonical debtor ids, comma-separated: "1001,1002" or lower-case GUIDs.
    debtor_ids: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[Status] = mapped_column(stored_enum(Status), default=Status.ACTIVE)
    # Raised to end every session of the account (sign-out, new password, suspension).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    @property
    def debtors(self) -> tuple[str, ...]:
        return split_debtors(self.debtor_ids)


class Consent(Base):
    """The consent ledger: who let which application read what, of which debtors, under which
    consent text, when and from where; and when it was withdrawn (GDPR Art. 7(1))."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    end_user_id: Mapped[str] = mapped_column(ForeignKey("end_users.id"), nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    scopes: Mapped[str] = mapped_column(Text, nullable=False)
    debtor_ids: Mapped[str] = mapped_column(Text, nullable=False)
    consent_text_version: Mapped[str] = mapped_column(String(32), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    user_agent: Mapped[str] = mapped_column(String(500), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_consents_end_user_application", "end_user_id", "application_id"),)

    @property
    def debtors(self) -> tuple[str, ...]:
        return split_debtors(self.debtor_ids)


class TokenFamily(Base):
    """One authorization: its code, its chain of rotated refresh tokens and its access tokens.

    Its scopes and debtors are those consented when it was authorised and never change: every
    token of the family carries them, refreshed ones too. A later consent of the same end user
    to the same application takes the family over while it covers them (`consent_id` then names
    the live consent), and revokes it otherwise.

    Revoking the family (refresh-token reuse, code replay, withdrawn or narrowed consent) ends
    all of them."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    end_user_id: Mapped[str] = mapped_column(ForeignKey("end_users.id"), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    debtor_ids: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_token_families_revoked_at", "revoked_at"),)

    @property
    def debtors(self) -> tuple[str, ...]:
        return split_debtors(self.debtor_ids)


class AuthorizationCode(Base):
    """A code of the authorization-code flow: five minutes, single use, PKCE-bound."""

    __tablename__ = "authorization_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    family_id: Mapped[str] = mapped_column(ForeignKey("token_families.id"), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """A refresh token (30 days), stored as its SHA-256; each use rotates it (RFC 9700 §4.14)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    family_id: Mapped[str] = mapped_column(ForeignKey("token_families.id"), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PushedRequest(Base):
    """A pushed authorization request (RFC 9126): its parameters, behind a one-time request_uri."""

    __tablename__ = "pushed_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    parameters: Mapped[str] = mapped_column(Text, nullable=False)  # JSON object
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SigningKey(Base):
    """A key that signs access tokens (JWT, RFC 9068); gateways verify with its public half.

    The private JWK is stored sealed (`termgate.db.key_seal`, under the secret key whose
    `seal_id` it names); the public JWK in the clear, so verifying needs no secret. A key signs
    from `activates_at` (after it has been published long enough for caches of the JWKS to
    hold it) until `retired_at`; it stays published for verification after that."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    public_jwk: Mapped[str] = mapped_column(Text, nullable=False)
    sealed_jwk: Mapped[str] = mapped_column(Text, nullable=False)
    seal_id: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
