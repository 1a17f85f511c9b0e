"""The SQL tables. Every table holding tenant data leads its key with `workspace_id`,
so a workspace's rows sit together and a distributed PostgreSQL can shard on it;
tests/meta/test_schema_distributable.py classifies every table (tenant, reference,
global, or an exception with its reason) and docs/scaling.md says what Citus makes of each."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

__all__ = [
    "api_keys",
    "audit_events",
    "email_changes",
    "invitations",
    "member_references",
    "members",
    "metadata",
    "organizations",
    "outbox",
    "password_resets",
    "records",
    "roles",
    "security_events",
    "users",
    "web_sessions",
    "workspaces",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

ID = String(36)
NOW = func.now()


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    ]


organizations = Table(
    "organizations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    *_timestamps(),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", ID, primary_key=True),
    Column("organization_id", ID, ForeignKey("organizations.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("preset", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("features", JSON, nullable=False),
    Column("seat_capacities", JSON, nullable=False),
    Column("revision", BigInteger, nullable=False),
    *_timestamps(),
)

roles = Table(
    "roles",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("system_key", String(64)),
    Column("level", String(64), nullable=False),
    Column("grants", JSON, nullable=False),
    Column("landing_page", String(64)),
    Column("description", Text, nullable=False, server_default=""),
    Column("field_access", JSON, nullable=False),
    Column("mirror_integration", Integer, nullable=False, server_default="0"),
    Column("editable", Integer, nullable=False, server_default="1"),
    Column("deletable", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    Index("uq_roles_workspace_name", "workspace_id", "name_key", unique=True),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", Text),
    *_timestamps(),
)

members = Table(
    "members",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("role_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("invited_at", DateTime(timezone=True)),
    Column("activated_at", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    *_timestamps(),
    ForeignKeyConstraint(["workspace_id", "role_id"], ["roles.workspace_id", "roles.id"]),
    Index("uq_members_workspace_user", "workspace_id", "user_id", unique=True),
    Index("ix_members_workspace_role", "workspace_id", "role_id"),
)

records = Table(
    "records",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("type", String(64), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("parent_type", String(64)),
    Column("parent_id", String(200)),
    Column("assignee_id", ID),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_records_parent", "workspace_id", "parent_type", "parent_id"),
)

member_references = Table(
    "member_references",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("member_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("label", String(300), nullable=False),
    Index("ix_member_references_member", "workspace_id", "member_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", ID, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(200), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("revision", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Unique within the workspace: a distributed PostgreSQL enforces only unique keys
    # that hold the distribution column (0010_distributable, docs/scaling.md).
    UniqueConstraint("workspace_id", "id"),
    Index("ix_audit_events_actor", "workspace_id", "actor"),
    Index("ix_audit_events_target", "workspace_id", "target_type", "target_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("organization_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE")),
    Column("rights", JSON, nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    *_timestamps(),
)

# -- fields: a workspace's objects and fields on top of its preset (K6, K8, K9, K10) -----

registry_objects = Table(
    "registry_objects",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("label", String(200), nullable=False),
    *_timestamps(),
)

registry_fields = Table(
    "registry_fields",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("object_type", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("label", String(200), nullable=False, server_default=""),
    # 1: the host added the field; 0: the row holds the host's changes to a preset field.
    Column("added", Integer, nullable=False),
    Column("synced_from", String(64)),
    Column("integration_access", String(16)),
    *_timestamps(),
)

__all__ += ["registry_fields", "registry_objects"]

# -- sites: organization-wide administrators and the audit retention setting ------------

site_administrators = Table(
    "site_administrators",
    metadata,
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_site_administrators_user", "user_id"),
)

audit_retention = Table(
    "audit_retention",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("days", Integer),
    # Where pruning stopped: the first kept event links to this hash, so the chain stays
    # verifiable from there on (the pruned events are gone, their last hash is kept).
    Column("pruned_through_seq", BigInteger, nullable=False, server_default="0"),
    Column("pruned_through_hash", String(64), nullable=False, server_default="0" * 64),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

__all__ += ["audit_retention", "site_administrators"]

# Lists of visible records (store/record_lists.py): one range scan per scope range,
# already in id order (keyset pages). Replaces ix_records_assignee, its prefix.
# Assigned records only (0008_bulk): every range it serves is of assigned records, and
# child records (never assigned) would be most of its entries, an index insert each.
_ASSIGNED = records.c.assignee_id.is_not(None)
Index("ix_records_scope", records.c.workspace_id, records.c.type, records.c.assignee_id, records.c.id, postgresql_where=_ASSIGNED, sqlite_where=_ASSIGNED)
# The unassigned records in id order: `assignee_id IS NULL` is no equality for
# PostgreSQL's planner, so ix_records_scope would not give that range in id order.
_UNASSIGNED = records.c.assignee_id.is_(None)
Index("ix_records_unassigned", records.c.workspace_id, records.c.type, records.c.id, postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)


# -- team: invitations, password resets, the outbox, security events --------------------

# C8: every session of a user ends when their password is reset. A session remembers
# the generation it was made in; the reset moves the generation on.
users.append_column(Column("session_version", Integer, nullable=False, server_default="0"))

invitations = Table(
    "invitations",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("member_id", ID, nullable=False),
    Column("email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("invited_by", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("sent_count", Integer, nullable=False, server_default="1"),
    Column("accepted_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    *_timestamps(),
    # The link carries only the token: it is found by its hash, across workspaces.
    Index("uq_invitations_token_hash", "token_hash", unique=True),
    Index("ix_invitations_member", "workspace_id", "member_id"),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("requested_by", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True),
    Column("kind", String(64), nullable=False),
    Column("to_addr", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_outbox_due", "sent_at", "next_attempt_at"),
)

security_events = Table(
    "security_events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("user_id", ID),
    Column("email", String(320), nullable=False, server_default=""),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("detail", String(300), nullable=False, server_default=""),
    Index("ix_security_events_user", "user_id", "at"),
    Index("ix_security_events_at", "at"),
)


# -- logins: server-side sessions, email changes ------------------------------------------

# A session cookie carries a random id; the row is the session. Logging out revokes the
# row, so a replayed cookie is refused; `last_seen_at` ends it after an idle period.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("revoked_at", DateTime(timezone=True)),
)

# A member's name as this workspace knows them (None: the name the person gave
# themselves). An administrator edits this copy, never the person's identity, which
# other workspaces and sites share.
members.append_column(Column("name", String(200)))
# The organization's own name for a site administrator (what the namer typed): the
# person's stored name is theirs, and naming someone shows the namer nothing of it.
site_administrators.append_column(Column("name", String(200), nullable=False, server_default=""))

# A person changes their own email through a link sent to the new address.
email_changes = Table(
    "email_changes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("new_email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

# The embeddable portal (issue 15): what an organization lets frame its pages and how
# they look there, and the single-use links a SaaS backend asks for. A link's row also
# names the server-side session its first use made (`session_hash`), which is how a
# page knows the session is a portal session and which workspace it is bound to.
organization_portal = Table(
    "organization_portal",
    metadata,
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("frame_origins", JSON, nullable=False),
    Column("brand_color", String(7)),
    Column("logo_url", String(500)),
    Column("font", String(200)),
    *_timestamps(),
)
portal_links = Table(
    "portal_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", ID, nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_origin", String(300)),
    Column("page", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("session_hash", String(64)),
    Index("uq_portal_links_session_hash", "session_hash", unique=True),
    Index("ix_portal_links_workspace_id", "workspace_id"),
)
