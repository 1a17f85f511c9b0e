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
    Index("ix_audit_events_revision", "workspace_id", "revision", "seq"),  # the change feed (0014_changes)
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


# -- webhooks: an organization's endpoints, a cursor per endpoint and workspace, attempts --

# An organization's endpoint. Its secrets sign every delivery, so they are stored as
# they are (a hash could not sign); `previous_secret` signs too until
# `previous_secret_until`, so a receiver never sees a delivery it cannot verify while it
# swaps secrets. `failing_since`: the first failure with no success after it; an endpoint
# failing for the configured window is disabled (`disabled_reason`) and its owners emailed.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", ID, primary_key=True),
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("event_types", JSON, nullable=False),
    Column("enabled", Integer, nullable=False, server_default="1"),
    Column("secret", String(200), nullable=False),
    Column("previous_secret", String(200)),
    Column("previous_secret_until", DateTime(timezone=True)),
    Column("failing_since", DateTime(timezone=True)),
    Column("disabled_reason", String(300)),
    *_timestamps(),
)

# Where delivery stands for one endpoint in one workspace: every audit event up to
# `last_seq` is delivered (or filtered out). Events go one at a time in `seq` order, so
# a receiver sees a workspace's changes in revision order; a failure holds the cursor
# until `next_attempt_at` (backoff). `claimed_until`: a sender at work on it (several
# processes may deliver; a claim expires, so a sender that died hands it on).
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_webhook_cursors_endpoint", "endpoint_id"),
)

# One attempt to deliver one event to one endpoint: what the API and the admin UI list.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(100), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
    Column("duration_ms", Integer, nullable=False, server_default="0"),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "at"),
)

__all__ += ["webhook_cursors", "webhook_deliveries", "webhook_endpoints"]
# -- single sign-on (OpenID Connect) per organization ---------------------------------------

# One identity provider per organization. The client secret is stored encrypted
# (`services/sso_secrets.py`) and never shown again.
sso_providers = Table(
    "sso_providers",
    metadata,
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("issuer", String(500), nullable=False),
    Column("client_id", String(300), nullable=False),
    Column("client_secret", Text, nullable=False),
    Column("sso_required", Integer, nullable=False, server_default="0"),
    *_timestamps(),
)

# An organization's claims on email domains. Several organizations may claim a domain;
# only one may prove it (the partial unique index settles a race on both databases).
sso_domains = Table(
    "sso_domains",
    metadata,
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("domain", String(253), primary_key=True),
    Column("token", String(100), nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)
_VERIFIED = sso_domains.c.verified_at.is_not(None)
Index("uq_sso_domains_verified", sso_domains.c.domain, unique=True, postgresql_where=_VERIFIED, sqlite_where=_VERIFIED)

# The workspaces where a first sign-in makes a member (just in time), with the role
# (NULL: the workspace's default role, E7). No foreign key to the role: deleting it
# must not be blocked by this setting; a sign-in then gives the default role.
sso_workspaces = Table(
    "sso_workspaces",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ID),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

# A sign-in under way: found at the callback by the state's hash, spent once. Holds the
# nonce and the PKCE verifier the browser never sees.
sso_flows = Table(
    "sso_flows",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(200), nullable=False),
    Column("next_path", String(500), nullable=False, server_default="/"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_sso_flows_expires", "expires_at"),
)

__all__ += ["sso_domains", "sso_flows", "sso_providers", "sso_workspaces"]
# -- SCIM provisioning (issue 17): what a workspace's identity provider manages ----------

# A member the directory provisioned: the SCIM User it sent (`resource`, write-only
# attributes dropped), its userName and externalId for filters. `deleted_at`: the
# directory deleted the User but the member stays, suspended, until their records are
# moved (C6, N9). `suspended`: disabled by the directory where disabling was refused.
scim_users = Table(
    "scim_users",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("user_name", String(320), nullable=False),
    Column("user_name_key", String(320), nullable=False),
    Column("external_id", String(200)),
    Column("resource", JSON, nullable=False),
    Column("suspended", Integer, nullable=False, server_default="0"),
    Column("deleted_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    ForeignKeyConstraint(["workspace_id", "member_id"], ["members.workspace_id", "members.id"], ondelete="CASCADE"),
    Index("uq_scim_users_workspace_user_name", "workspace_id", "user_name_key", unique=True),
    Index("ix_scim_users_external_id", "workspace_id", "external_id"),
)

scim_groups = Table(
    "scim_groups",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("external_id", String(200)),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    Index("uq_scim_groups_workspace_name", "workspace_id", "name_key", unique=True),
)

scim_group_members = Table(
    "scim_group_members",
    metadata,
    Column("workspace_id", ID, primary_key=True),
    Column("group_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("display", String(320)),  # as the directory names the member in the group
    ForeignKeyConstraint(["workspace_id", "group_id"], ["scim_groups.workspace_id", "scim_groups.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["workspace_id", "member_id"], ["members.workspace_id", "members.id"], ondelete="CASCADE"),
    Index("ix_scim_group_members_member", "workspace_id", "member_id"),
)

# A directory group (by its display name, case-insensitive, so it can be mapped before
# the directory pushes it) -> the role its members get, with a priority among groups
# whose roles have the same level rank (domain/rules/directory_rules.py).
scim_group_roles = Table(
    "scim_group_roles",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("group_key", String(200), primary_key=True),
    Column("group_name", String(200), nullable=False),
    Column("role_id", ID, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    *_timestamps(),
    ForeignKeyConstraint(["workspace_id", "role_id"], ["roles.workspace_id", "roles.id"], ondelete="CASCADE"),
)

__all__ += ["scim_group_members", "scim_group_roles", "scim_groups", "scim_users"]
# -- schema upgrades: the versions of each product schema, upgrade runs, notices --------

product_schemas = Table(
    "product_schemas",
    metadata,
    # The product's key (a workspace's `preset`) and the version; the shipped preset is
    # its version 1 and has no row. A stored version never changes (its digest says so).
    Column("product", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

schema_upgrades = Table(
    "schema_upgrades",
    metadata,
    Column("id", ID, primary_key=True),
    Column("product", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_schema_upgrades_product", "product", "version"),
)

schema_upgrade_workspaces = Table(
    "schema_upgrade_workspaces",
    metadata,
    # One row per workspace and run: `migrated` (written in the workspace's own
    # transaction, with its roles) or `blocked` (with what blocks it).
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("upgrade_id", ID, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Index("ix_schema_upgrade_workspaces_upgrade", "workspace_id", "upgrade_id", "status"),
)

upgrade_notice_dismissals = Table(
    "upgrade_notice_dismissals",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

__all__ += ["product_schemas", "schema_upgrade_workspaces", "schema_upgrades", "upgrade_notice_dismissals"]
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
