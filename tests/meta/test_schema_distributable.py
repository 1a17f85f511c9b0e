"""The schema stays distributable by `workspace_id` (docs/scaling.md, "Citus").

Every table of `store/tables.py` is classified here, with its reason:

- TENANT: distributed by `workspace_id`, all in one colocation group. Its primary key
  starts with `workspace_id`; every foreign key to another tenant table carries
  `workspace_id` (a join or a cascade never leaves the shard); every unique key holds
  `workspace_id` (Citus enforces no other); foreign keys leave the group only to
  reference tables.
- REFERENCE: small, global, read everywhere: copied to every node. They refer only to
  each other (Citus has no foreign key from a reference table to a distributed one).
- GLOBAL: a person's identity data, not a workspace's: not distributed (kept on the
  coordinator), foreign keys only to reference tables.
- EXCEPTIONS: tables that break a rule of their class today, each with the rule it
  breaks, why it stays so and what Citus would need. The test fails when an exception
  no longer breaks its rule (delete it here and in docs/scaling.md).

A new table that is in no class fails the test; so does a class the docs do not show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, ForeignKeyConstraint, Index, MetaData, String, Table, UniqueConstraint

from rolegate.store.tables import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
WS = "workspace_id"

ROOT = "workspaces"
"""The tenant root: one row per workspace, distributed by its `id` (the workspace id),
colocated with the tenant tables."""

TENANT = {
    "roles": "a workspace's roles",
    "members": "a workspace's members (the person is a `users` row, a reference table)",
    "records": "the record index: the largest table with audit_events",
    "member_references": "where a workspace names a member (C6)",
    "audit_events": "the hash-chained audit log, chained per workspace",
    "audit_retention": "a workspace's retention setting and pruning point",
    "registry_objects": "a workspace's objects on top of its preset",
    "registry_fields": "a workspace's fields on top of its preset",
    "invitations": "invitations into a workspace",
    "webhook_cursors": "where webhook delivery stands per endpoint in a workspace",
    "webhook_deliveries": "attempts to deliver a workspace's changes to an endpoint",
    "sso_workspaces": "where a first SSO sign-in makes a member (just in time), with its role",
    "scim_users": "the SCIM Users a workspace's directory provisioned (issue 17)",
    "scim_groups": "a workspace's directory groups",
    "scim_group_members": "who is in which directory group",
    "scim_group_roles": "which directory group gives which role",
    "schema_upgrade_workspaces": "each workspace's outcome in a schema upgrade run",
    "upgrade_notice_dismissals": "who closed a workspace's schema upgrade notice",
}

REFERENCE = {
    "organizations": "few rows, read with every workspace and API key; the parent of workspaces",
    "users": "one row per person across workspaces and organizations (one login per email); members point to it",
    "site_administrators": "per organization, few rows, read on admin pages across the organization's workspaces",
    "webhook_endpoints": "an organization's few webhook endpoints, read by deliveries in each of its workspaces",
    "api_keys": "few rows, looked up by prefix on every request before any workspace is known; organization-wide keys have no workspace",
    "sso_providers": "one identity provider per organization, read at sign-in before any workspace is known",
    "sso_domains": "an organization's email domain claims, looked up by an email's domain at login",
    "product_schemas": "one row per version of a product schema, read when a workspace's schema is first loaded",
    "schema_upgrades": "one row per schema upgrade run of a product",
    "organization_portal": "one row per organization (frame origins, brand), read with its portal pages",
}

GLOBAL = {
    "web_sessions": "admin UI sessions of a person, found by the cookie's hash on every page",
    "password_resets": "a person's reset links, found by token hash",
    "email_changes": "a person's email-change links, found by token hash",
    "security_events": "login and account events of a person (or of an unknown email)",
    "sso_flows": "a sign-in under way, found by its state's hash at the callback",
    "outbox": "the mail queue, polled across workspaces by every sender; a password reset's mail has no workspace",
    "portal_links": "single-use portal links of a person, found by token hash, then by the session they opened",
}

EXCEPTIONS: dict[tuple[str, str], str] = {
    ("invitations", "unique key without workspace_id"): (
        "uq_invitations_token_hash: the accept link carries only the token, found across workspaces. "
        "Citus: put the workspace id in the link (unique (workspace_id, token_hash)), or keep a "
        "(token_hash -> workspace_id) reference table written with the invitation."
    ),
    ("api_keys", "reference table with a foreign key to a tenant table"): (
        "api_keys.workspace_id -> workspaces (ON DELETE CASCADE) for workspace-scoped keys. "
        "Citus: drop the foreign key; nothing deletes a workspace today, and the use case that will must delete its keys itself."
    ),
    ("outbox", "global table with a foreign key to a tenant table"): (
        "outbox.workspace_id -> workspaces (ON DELETE CASCADE). "
        "Citus: drop the foreign key; the use case that deletes a workspace (none yet) deletes its queued mail."
    ),
    ("portal_links", "global table with a foreign key to a tenant table"): (
        "portal_links.workspace_id -> workspaces (ON DELETE CASCADE): a link opens one workspace's pages. "
        "Citus: drop the foreign key; the use case that deletes a workspace (none yet) deletes its links."
    ),
}


def _violations(
    tables: Mapping[str, Table] = metadata.tables,
    tenants: Iterable[str] = TENANT,
    reference: Iterable[str] = REFERENCE,
    global_: Iterable[str] = GLOBAL,
) -> set[tuple[str, str]]:
    """(table, broken rule) for every rule of its class a table breaks."""
    reference = set(reference)
    tenant = {ROOT, *tenants}
    found: set[tuple[str, str]] = set()

    def foreign_keys(table: Table) -> list[ForeignKeyConstraint]:
        return [c for c in table.constraints if isinstance(c, ForeignKeyConstraint)]

    for name in tenant - {ROOT}:
        table = tables[name]
        if [c.name for c in table.primary_key.columns][:1] != [WS]:
            found.add((name, "primary key does not start with workspace_id"))
        for fk in foreign_keys(table):
            target = fk.referred_table.name
            if target in tenant:
                # The workspace's own column must be one of the key's pairs, pointing
                # at the target's workspace id (`workspace_id`, or the root's `id`).
                pairs = {(e.parent.name, e.column.name) for e in fk.elements}
                if (WS, WS if target != ROOT else "id") not in pairs:
                    found.add((name, f"foreign key to {target} without workspace_id"))
            elif target not in reference:
                found.add((name, f"foreign key to {target}, neither tenant nor reference"))
        uniques = [set(c.columns.keys()) for c in table.constraints if isinstance(c, UniqueConstraint)]
        uniques += [{col.name for col in ix.columns} for ix in table.indexes if isinstance(ix, Index) and ix.unique]
        uniques += [{col.name} for col in table.columns if col.unique]
        if any(WS not in cols for cols in uniques):
            found.add((name, "unique key without workspace_id"))
    for name in reference:
        for fk in foreign_keys(tables[name]):
            if fk.referred_table.name not in reference:
                found.add((name, "reference table with a foreign key to a tenant table"))
    for name in global_:
        for fk in foreign_keys(tables[name]):
            if fk.referred_table.name not in reference:
                found.add((name, "global table with a foreign key to a tenant table"))
    return found


def test_every_table_is_classified_once() -> None:
    classes = [{ROOT}, set(TENANT), set(REFERENCE), set(GLOBAL)]
    assert sum(len(c) for c in classes) == len(set().union(*classes)), "a table is in two classes"
    unclassified = set(metadata.tables) - set().union(*classes)
    assert unclassified == set(), f"classify the new table(s) {sorted(unclassified)} as TENANT, REFERENCE or GLOBAL here and in docs/scaling.md"
    assert set().union(*classes) <= set(metadata.tables), "a classified table no longer exists: remove it"


def test_tables_with_a_workspace_id_are_tenant_tables_or_explained() -> None:
    holding = {name for name, table in metadata.tables.items() if WS in table.columns}
    explained = {table for table, _ in EXCEPTIONS}
    assert holding - set(TENANT) - explained == set()
    assert ROOT not in holding  # the root is the workspace: its `id` is the workspace id


def test_the_root_is_keyed_by_the_workspace_id() -> None:
    root = metadata.tables[ROOT]
    assert [c.name for c in root.primary_key.columns] == ["id"]
    assert {fk.column.table.name for fk in root.foreign_keys} <= set(REFERENCE)


def test_tenant_tables_stay_distributable_by_workspace_id() -> None:
    unexplained = _violations() - set(EXCEPTIONS)
    assert unexplained == set(), "fix the table (with a migration) or add an exception with its reason and what Citus would need"


@pytest.mark.parametrize("exception", sorted(EXCEPTIONS))
def test_each_exception_is_still_needed(exception: tuple[str, str]) -> None:
    assert exception in _violations(), f"{exception} is no longer broken: remove it from EXCEPTIONS and docs/scaling.md"


def test_no_table_takes_ids_from_a_shared_sequence() -> None:
    """Ids are time-ordered UUIDs made by the application; a sequence shared by all
    tenants would be one more thing every node must ask one node for."""
    assert [name for name, table in metadata.tables.items() if table.autoincrement_column is not None] == []


def test_docs_scaling_shows_every_table_in_its_class() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for cls, names in (("tenant", {ROOT, *TENANT}), ("reference", set(REFERENCE)), ("global", set(GLOBAL))):
        for name in names:
            assert re.search(rf"^\| `{name}` \| {cls}\b", doc, re.MULTILINE), f"docs/scaling.md: a row `| `{name}` | {cls} ...`"
    for table, _ in EXCEPTIONS:
        assert re.search(rf"^\| `{table}` \|[^\n]*exception", doc, re.MULTILINE), f"docs/scaling.md: {table}'s row names its exception"


def test_the_violation_checks_catch_what_they_forbid() -> None:
    """The rules above, each shown failing on a table made for it."""
    probe = MetaData()
    Table("workspaces", probe, Column("id", String, primary_key=True))
    Table("roles", probe, Column("id", String, primary_key=True), Column(WS, String, ForeignKey("workspaces.id")))
    members = Table("members", probe, Column(WS, String, primary_key=True), Column("id", String, primary_key=True), Column("role_id", String), Column("code", String, unique=True))
    members.append_constraint(ForeignKeyConstraint(["role_id"], ["roles.id"]))
    Table("users", probe, Column("id", String, primary_key=True), Column(WS, String, ForeignKey("workspaces.id")))
    found = _violations(probe.tables, ["roles", "members"], ["users"], [])
    assert found == {
        ("roles", "primary key does not start with workspace_id"),
        ("members", "foreign key to roles without workspace_id"),
        ("members", "unique key without workspace_id"),
        ("users", "reference table with a foreign key to a tenant table"),
    }
