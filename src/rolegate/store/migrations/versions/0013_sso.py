"""Single sign-on (OpenID Connect) per organization: its identity provider, its claims on
email domains, the workspaces a first sign-in joins, and the sign-ins under way.

Revision ID: 0013_sso
Revises: 0010_distributable
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_sso"
down_revision: str | None = "0011_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=36)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sso_providers",
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("sso_required", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_sso_providers_organization_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_sso_providers")),
    )
    op.create_table(
        "sso_domains",
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("verified_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_sso_domains_organization_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organization_id", "domain", name=op.f("pk_sso_domains")),
    )
    verified = sa.text("verified_at IS NOT NULL")
    op.create_index("uq_sso_domains_verified", "sso_domains", ["domain"], unique=True, postgresql_where=verified, sqlite_where=verified)
    op.create_table(
        "sso_workspaces",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("role_id", ID, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_sso_workspaces_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_sso_workspaces")),
    )
    op.create_table(
        "sso_flows",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=200), nullable=False),
        sa.Column("next_path", sa.String(length=500), server_default="/", nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_sso_flows_organization_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_sso_flows")),
    )
    op.create_index("ix_sso_flows_expires", "sso_flows", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sso_flows_expires", table_name="sso_flows")
    op.drop_table("sso_flows")
    op.drop_table("sso_workspaces")
    op.drop_index("uq_sso_domains_verified", table_name="sso_domains")
    op.drop_table("sso_domains")
    op.drop_table("sso_providers")
