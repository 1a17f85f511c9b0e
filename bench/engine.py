"""Decision-engine benchmark: Rolegate against pycasbin, cedarpy and a bare dict.

One workload, built from a fixed seed, is given to every engine in the same run:

* 200 permissions in 10 areas; each permission grants exactly one action of the same
  name (permission == action); one level `member` with ceiling `all`; no features.
* 40 custom roles granting 20-150 permissions each, 10,000 active members.
* 1,000,000 random (member, action) pairs.
* For the record check: object `account` (assignable, view_action `account.view`),
  100,000 accounts assigned to a random member or to no one, and (member, account)
  pairs; about half the roles may view/update the accounts assigned to them, a few
  may view/update every account.

Every timed loop starts from the same plain `(member, action)` strings and builds
the list of booleans the engine answers (`[check(m, a).allowed for m, a in pairs]`
and its equivalent per engine), single thread, garbage collector off during the
loop (as `timeit` does), median of 3 runs. The answers of every variant are compared
with the bare dict; any mismatch raises `VerificationError`.

    .venv/bin/python bench/engine.py                 # full run (a few minutes)
    .venv/bin/python bench/engine.py --quick         # smoke: same code paths, few pairs
    .venv/bin/python bench/engine.py --json out.json # also dump the results
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import random
import shlex
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

Pair = tuple[str, str]
Runner = Callable[[Sequence[Pair]], list[bool]]

__all__ = ["QUICK", "Config", "VerificationError", "Workload", "build_workload", "main", "run"]


# -- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    n_areas: int = 10
    perms_per_area: int = 20
    n_roles: int = 40
    grants_min: int = 20
    grants_max: int = 150
    n_members: int = 10_000
    n_pairs: int = 1_000_000
    """Pairs timed for Rolegate and the bare baseline."""
    n_peer_pairs: int = 100_000
    """Pairs timed for the fast casbin and cedarpy variants (a prefix of the pairs)."""
    n_slow_pairs: int = 300
    """Pairs timed for the variants that scan every policy on every call."""
    n_verify: int = 100_000
    """Pairs on which all four engines must give identical answers."""
    n_accounts: int = 100_000
    n_record_pairs: int = 1_000_000
    own_record_share: float = 0.5
    """Share of record pairs whose account is one assigned to the member."""
    assigned_share: float = 0.8
    """Share of accounts assigned to some member (the rest are unassigned)."""
    cedar_batch: int = 1_000
    repeats: int = 3
    seed: int = 20240917
    quick: bool = False


QUICK = Config(
    n_members=2_000,
    n_pairs=20_000,
    n_peer_pairs=1_000,
    n_slow_pairs=10,
    n_verify=1_000,
    n_accounts=5_000,
    n_record_pairs=20_000,
    cedar_batch=500,
    quick=True,
)


class VerificationError(AssertionError):
    """Two engines gave different answers for the same (member, action) pair."""


# -- workload -------------------------------------------------------------------------------


@dataclass
class Workload:
    config: Config
    areas: list[str]
    actions: list[str]
    role_grants: dict[str, frozenset[str]]
    member_role: dict[str, str]
    pairs: list[Pair]
    account_assignee: dict[str, str | None]
    record_scope: dict[str, str | None]
    """Role -> `all`, `assigned` or None: what it may do on accounts."""
    record_pairs: list[Pair]
    """Random (member, account) pairs over every member."""
    record_pairs_assigned: list[Pair]
    """The same, over the members whose role has scope `assigned` only: every check reads the record."""

    @property
    def members(self) -> list[str]:
        return list(self.member_role)

    def allowed_sets(self) -> dict[str, frozenset[str]]:
        return {m: self.role_grants[r] for m, r in self.member_role.items()}


ACCOUNT_ASSIGNED = "account.work_assigned"
ACCOUNT_ALL = "account.work_all"


def build_workload(config: Config) -> Workload:
    rng = random.Random(config.seed)
    areas = [f"area{i}" for i in range(config.n_areas)]
    actions = [f"{area}.p{j:02d}" for area in areas for j in range(config.perms_per_area)]
    role_grants: dict[str, frozenset[str]] = {}
    for i in range(config.n_roles):
        k = rng.randint(config.grants_min, config.grants_max)
        role_grants[f"r{i:02d}"] = frozenset(rng.sample(actions, k))
    role_ids = list(role_grants)
    member_role = {f"m{i:05d}": rng.choice(role_ids) for i in range(config.n_members)}
    members = list(member_role)
    choice = rng.choice
    pairs = [(choice(members), choice(actions)) for _ in range(config.n_pairs)]

    # Record workload: half the roles work on their assigned accounts, a tenth on all of them.
    shuffled = rng.sample(role_ids, len(role_ids))
    n_all, n_assigned = round(0.1 * len(role_ids)), round(0.5 * len(role_ids))
    record_scope: dict[str, str | None] = dict.fromkeys(role_ids)
    record_scope.update(dict.fromkeys(shuffled[:n_all], "all"))
    record_scope.update(dict.fromkeys(shuffled[n_all : n_all + n_assigned], "assigned"))
    account_assignee: dict[str, str | None] = {}
    owned: dict[str, list[str]] = {}
    for i in range(config.n_accounts):
        acc = f"acc{i:06d}"
        assignee = choice(members) if rng.random() < config.assigned_share else None
        account_assignee[acc] = assignee
        if assignee is not None:
            owned.setdefault(assignee, []).append(acc)
    accounts = list(account_assignee)

    def record_pairs_of(who: list[str]) -> list[Pair]:
        out: list[Pair] = []
        for _ in range(config.n_record_pairs):
            m = choice(who)
            mine = owned.get(m)
            if mine and rng.random() < config.own_record_share:
                out.append((m, choice(mine)))
            else:
                out.append((m, choice(accounts)))
        return out

    record_pairs = record_pairs_of(members)
    assigned_members = [m for m in members if record_scope[member_role[m]] == "assigned"]
    record_pairs_assigned = record_pairs_of(assigned_members)
    return Workload(
        config,
        areas,
        actions,
        role_grants,
        member_role,
        pairs,
        account_assignee,
        record_scope,
        record_pairs,
        record_pairs_assigned,
    )


def schema_data(w: Workload, *, with_accounts: bool) -> dict[str, Any]:
    """The product schema (the format of `rolegate.domain.schema_format`) as a dict."""
    actions: dict[str, Any] = {a: {"label": a} for a in w.actions}
    permissions: dict[str, Any] = {a: {"label": a, "area": a.split(".", 1)[0], "grants": [a]} for a in w.actions}
    objects: dict[str, Any] = {}
    if with_accounts:
        objects["account"] = {"label": "Account", "assignable": True, "view_action": "account.view"}
        actions["account.view"] = {"label": "View account", "object": "account"}
        actions["account.update"] = {"label": "Update account", "object": "account"}
        permissions[ACCOUNT_ASSIGNED] = {
            "label": "Work on assigned accounts",
            "area": w.areas[0],
            "grants": [
                {"action": "account.view", "scope": "assigned"},
                {"action": "account.update", "scope": "assigned"},
            ],
        }
        permissions[ACCOUNT_ALL] = {
            "label": "Work on every account",
            "area": w.areas[0],
            "grants": ["account.view", "account.update"],
        }
    a = w.actions
    return {
        "format": 1,
        "key": "bench",
        "name": "Engine benchmark",
        "objects": objects,
        "actions": actions,
        "areas": {area: {"label": area} for area in w.areas},
        "permissions": permissions,
        "levels": {"member": {"label": "Member", "rank": 1, "ceiling": "all"}},
        "roles": {"owner": {"name": "Owner", "level": "member", "grants": "all"}},
        "admin": {
            "view_roles": a[0],
            "manage_roles": a[1],
            "manage_members": a[2],
            "assign_roles": a[3],
            "assign_records": a[4],
            "view_audit": a[5],
        },
    }


# -- timing ---------------------------------------------------------------------------------


@dataclass
class Row:
    engine: str
    variant: str
    pairs: int
    seconds: list[float]
    note: str = ""
    kind: str = "action"
    """`action` (no record) or `record` (assigned-record check)."""
    reported: bool = True
    """False for informational variants not used for the peer's ratio."""

    @property
    def rate(self) -> float:
        return self.pairs / statistics.median(self.seconds)


_T0 = time.perf_counter()


def _log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def time_runner(run_fn: Runner, pairs: Sequence[Pair], repeats: int) -> tuple[list[float], list[bool]]:
    seconds: list[float] = []
    answers: list[bool] = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            answers = run_fn(pairs)
            seconds.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return seconds, answers


def verify(name: str, got: Sequence[bool], expected: Sequence[bool], pairs: Sequence[Pair]) -> int:
    """Compare a prefix of answers with the expected ones; raise on the first mismatches."""
    n = len(got)
    if n > len(expected):
        raise VerificationError(f"{name}: {n} answers but only {len(expected)} expected")
    bad = [i for i in range(n) if got[i] != expected[i]]
    if bad:
        sample = ", ".join(f"{pairs[i]} -> {got[i]} (expected {expected[i]})" for i in bad[:5])
        raise VerificationError(f"{name}: {len(bad)} of {n} answers differ from the bare baseline: {sample}")
    return n


# -- engines --------------------------------------------------------------------------------


def baseline_runner(w: Workload) -> Runner:
    allowed = w.allowed_sets()

    def run(pairs: Sequence[Pair]) -> list[bool]:
        return [a in allowed[m] for m, a in pairs]

    return run


def baseline_record_runner(w: Workload) -> Runner:
    every = {m for m, r in w.member_role.items() if w.record_scope[r] == "all"}
    own = {m for m, r in w.member_role.items() if w.record_scope[r] == "assigned"}
    assignee = w.account_assignee

    def run(pairs: Sequence[Pair]) -> list[bool]:
        return [m in every or (m in own and assignee[acc] == m) for m, acc in pairs]

    return run


CASBIN_MODEL = """
[request_definition]
r = sub, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = {matcher}
"""
MATCHER_G_FIRST = "g(r.sub, p.sub) && r.act == p.act"
MATCHER_ACT_FIRST = "r.act == p.act && g(r.sub, p.sub)"


def casbin_enforcer(w: Workload, kind: str, matcher: str) -> Any:
    """An RBAC enforcer: `g, member, role` links and `p, role, action` policies."""
    import casbin
    from casbin.model import FastModel, Model

    text = CASBIN_MODEL.format(matcher=matcher)
    e: Any
    if kind == "fast":
        # Index the policies by action (position 1 of both p and r), as FastEnforcer intends.
        model = FastModel([1])
        model.load_model_from_text(text)
        e = casbin.FastEnforcer(model, cache_key_order=[1])
    elif kind == "synced":
        model = Model()
        model.load_model_from_text(text)
        e = casbin.SyncedEnforcer(model)
    else:
        model = Model()
        model.load_model_from_text(text)
        e = casbin.Enforcer(model)
    e.enable_auto_build_role_links(True)
    e.add_policies([[f"role_{r}", a] for r, grants in w.role_grants.items() for a in sorted(grants)])
    e.add_grouping_policies([[m, f"role_{r}"] for m, r in w.member_role.items()])
    e.build_role_links()
    return e


def casbin_variants(w: Workload) -> list[tuple[str, Callable[[], Any], str, bool]]:
    """(variant, enforcer factory, `enforce` or `batch`, scans every policy?)."""
    return [
        (
            "FastEnforcer(cache_key_order=[1]).enforce",
            lambda: casbin_enforcer(w, "fast", MATCHER_G_FIRST),
            "enforce",
            False,
        ),
        (
            "FastEnforcer(cache_key_order=[1]).batch_enforce",
            lambda: casbin_enforcer(w, "fast", MATCHER_G_FIRST),
            "batch",
            False,
        ),
        ("FastEnforcer, matcher act first", lambda: casbin_enforcer(w, "fast", MATCHER_ACT_FIRST), "enforce", False),
        ("Enforcer.enforce", lambda: casbin_enforcer(w, "plain", MATCHER_G_FIRST), "enforce", True),
        (
            "Enforcer.enforce, matcher act first",
            lambda: casbin_enforcer(w, "plain", MATCHER_ACT_FIRST),
            "enforce",
            True,
        ),
        (
            "Enforcer.batch_enforce, matcher act first",
            lambda: casbin_enforcer(w, "plain", MATCHER_ACT_FIRST),
            "batch",
            True,
        ),
        (
            "SyncedEnforcer.enforce, matcher act first",
            lambda: casbin_enforcer(w, "synced", MATCHER_ACT_FIRST),
            "enforce",
            True,
        ),
    ]


def casbin_runner(e: Any, mode: str) -> Runner:
    if mode == "batch":
        batch = e.batch_enforce

        def run_batch(pairs: Sequence[Pair]) -> list[bool]:
            return [bool(x) for x in batch([[m, a] for m, a in pairs])]

        return run_batch
    enforce = e.enforce

    def run(pairs: Sequence[Pair]) -> list[bool]:
        return [enforce(m, a) for m, a in pairs]

    return run


def cedar_policies_and_entities(w: Workload) -> tuple[str, list[dict[str, Any]]]:
    """One policy per role over an action group; members are children of their role."""
    policies = "\n".join(
        f'permit(principal in Role::"{r}", action in Action::"role_{r}_actions", resource);' for r in w.role_grants
    )
    groups_of: dict[str, list[dict[str, str]]] = {a: [] for a in w.actions}
    for r, grants in w.role_grants.items():
        for a in grants:
            groups_of[a].append({"type": "Action", "id": f"role_{r}_actions"})
    entities: list[dict[str, Any]] = []
    entities += [{"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []} for r in w.role_grants]
    entities += [
        {"uid": {"type": "Action", "id": f"role_{r}_actions"}, "attrs": {}, "parents": []} for r in w.role_grants
    ]
    entities += [{"uid": {"type": "Action", "id": a}, "attrs": {}, "parents": groups_of[a]} for a in w.actions]
    entities += [
        {"uid": {"type": "Member", "id": m}, "attrs": {}, "parents": [{"type": "Role", "id": r}]}
        for m, r in w.member_role.items()
    ]
    return policies, entities


def cedar_variants(w: Workload, batch_size: int) -> tuple[list[tuple[str, Runner, bool]], dict[str, float]]:
    """(variant, runner, counts for the ratio?) with the policies and entities parsed once."""
    import cedarpy
    from cedarpy import _internal

    policies, entities = cedar_policies_and_entities(w)
    t0 = time.perf_counter()
    ps = cedarpy.PolicySet.from_str(policies)
    t1 = time.perf_counter()
    ents = cedarpy.Entities.from_json_str(json.dumps(entities))
    t2 = time.perf_counter()
    build = {"policy_set_ms": (t1 - t0) * 1e3, "entities_ms": (t2 - t1) * 1e3}
    is_authorized = cedarpy.is_authorized
    is_authorized_batch = cedarpy.is_authorized_batch
    resource = 'Resource::"any"'
    resource_d = {"type": "Resource", "id": "any"}

    def single_str(pairs: Sequence[Pair]) -> list[bool]:
        return [
            is_authorized(
                {"principal": f'Member::"{m}"', "action": f'Action::"{a}"', "resource": resource}, ps, ents
            ).allowed
            for m, a in pairs
        ]

    def single_dict(pairs: Sequence[Pair]) -> list[bool]:
        return [
            is_authorized(
                {
                    "principal": {"type": "Member", "id": m},
                    "action": {"type": "Action", "id": a},
                    "resource": resource_d,
                },
                ps,
                ents,
            ).allowed
            for m, a in pairs
        ]

    def batch_str(pairs: Sequence[Pair]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(pairs), batch_size):
            reqs = [
                {"principal": f'Member::"{m}"', "action": f'Action::"{a}"', "resource": resource}
                for m, a in pairs[i : i + batch_size]
            ]
            out += [r.allowed for r in is_authorized_batch(reqs, ps, ents)]
        return out

    def batch_dict(pairs: Sequence[Pair]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(pairs), batch_size):
            reqs = [
                {
                    "principal": {"type": "Member", "id": m},
                    "action": {"type": "Action", "id": a},
                    "resource": resource_d,
                }
                for m, a in pairs[i : i + batch_size]
            ]
            out += [r.allowed for r in is_authorized_batch(reqs, ps, ents)]
        return out

    inner = ents._inner
    internal_batch = _internal.is_authorized_batch

    def internal_batch_dict(pairs: Sequence[Pair]) -> list[bool]:
        # Bypasses the public wrapper (no AuthzResult objects); cedarpy asks users not to.
        out: list[bool] = []
        loads = json.loads
        for i in range(0, len(pairs), batch_size):
            reqs = [
                {
                    "principal": {"type": "Member", "id": m},
                    "action": {"type": "Action", "id": a},
                    "resource": resource_d,
                }
                for m, a in pairs[i : i + batch_size]
            ]
            out += [loads(s)["decision"] == "Allow" for s in internal_batch(reqs, ps, inner, None, False)]
        return out

    variants: list[tuple[str, Runner, bool]] = [
        ("is_authorized, PolicySet+Entities, str uids", single_str, True),
        ("is_authorized, PolicySet+Entities, dict uids", single_dict, True),
        (f"is_authorized_batch({batch_size}), str uids", batch_str, True),
        (f"is_authorized_batch({batch_size}), dict uids", batch_dict, True),
        (f"_internal.is_authorized_batch({batch_size}), dict uids (private API)", internal_batch_dict, False),
    ]
    return variants, build


# -- Rolegate --------------------------------------------------------------------------------


def rolegate_inputs(w: Workload, *, with_accounts: bool) -> tuple[Any, list[Any], list[Any], Any]:
    from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
    from rolegate.domain.schema_build import parse_schema

    schema = parse_schema(schema_data(w, with_accounts=with_accounts))
    roles = []
    for r, grants in w.role_grants.items():
        g = set(grants)
        if with_accounts and w.record_scope[r] == "assigned":
            g.add(ACCOUNT_ASSIGNED)
        elif with_accounts and w.record_scope[r] == "all":
            g.add(ACCOUNT_ALL)
        roles.append(Role(id=r, name=f"Role {r}", kind=RoleKind.CUSTOM, level="member", grants=frozenset(g)))
    members = [Member(m, r, MemberStatus.ACTIVE) for m, r in w.member_role.items()]
    records = None
    if with_accounts:
        from rolegate.engine import InMemoryRecordIndex, Record

        records = InMemoryRecordIndex(
            Record("account", acc, parent=None, assignee=assignee) for acc, assignee in w.account_assignee.items()
        )
    return schema, roles, members, records


def rolegate_compile(w: Workload, repeats: int, *, with_accounts: bool) -> tuple[Any, dict[str, float]]:
    """Compile `repeats` times (median time), then once more under tracemalloc (peak)."""
    from rolegate.engine import compile_snapshot

    t0 = time.perf_counter()
    schema, roles, members, records = rolegate_inputs(w, with_accounts=with_accounts)
    inputs_ms = (time.perf_counter() - t0) * 1e3
    times = []
    snap = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        snap = compile_snapshot(schema, features=frozenset(), roles=roles, members=members, records=records, revision=0)
        times.append(time.perf_counter() - t0)
        del snap
    gc.collect()
    tracemalloc.start()
    snap = compile_snapshot(schema, features=frozenset(), roles=roles, members=members, records=records, revision=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stats = {
        "compile_ms_median": statistics.median(times) * 1e3,
        "compile_ms_min": min(times) * 1e3,
        "compile_peak_mb": peak / 1e6,
        "inputs_ms": inputs_ms,
    }
    return snap, stats


def rolegate_runner(snap: Any) -> Runner:
    check = snap.check

    def run(pairs: Sequence[Pair]) -> list[bool]:
        return [check(m, a).allowed for m, a in pairs]

    return run


def rolegate_record_runner(snap: Any) -> Runner:
    from rolegate.engine import RecordRef

    check = snap.check

    def run(pairs: Sequence[Pair]) -> list[bool]:
        return [check(m, "account.update", RecordRef("account", acc)).allowed for m, acc in pairs]

    return run


def rolegate_available() -> str | None:
    """None when the engine can be imported, else why not."""
    try:
        from rolegate.engine import compile_snapshot  # noqa: F401
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# -- the run ---------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("rolegate", "casbin", "cedarpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": str(os.cpu_count()), "platform": platform.platform()}


def run(config: Config) -> dict[str, Any]:
    """Run every engine on the workload; return the results (see `--json`)."""
    rows: list[Row] = []
    info: dict[str, Any] = {}
    verified: dict[str, int] = {}
    t_start = time.perf_counter()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    _log(f"workload: seed {config.seed}, {config.n_members} members, {config.n_pairs} pairs ...")
    w = build_workload(config)
    n_verify = min(config.n_verify, config.n_pairs)
    n_peer = min(config.n_peer_pairs, config.n_pairs)
    n_slow = min(config.n_slow_pairs, n_peer)

    # 4. the bare baseline: the expected answers for every pair.
    _log("bare baseline ...")
    seconds, expected = time_runner(baseline_runner(w), w.pairs, config.repeats)
    rows.append(Row("bare dict", "`a in allowed[m]`", len(w.pairs), seconds, "floor: a set lookup"))
    info["allowed_share"] = sum(expected) / len(expected)

    # 1. Rolegate.
    why_not = rolegate_available()
    info["rolegate_missing"] = why_not
    if why_not is None:
        _log("rolegate: compile ...")
        snap, info["rolegate_compile"] = rolegate_compile(w, config.repeats, with_accounts=False)
        _log("rolegate: check ...")
        seconds, answers = time_runner(rolegate_runner(snap), w.pairs, config.repeats)
        verified["rolegate"] = verify("rolegate", answers, expected, w.pairs)
        rows.append(Row("Rolegate", "`snap.check(m, a)`", len(w.pairs), seconds))
        del snap, answers
    else:
        _log(f"rolegate: skipped ({why_not})")

    # 2. pycasbin.
    info["casbin_build_ms"] = {}
    for variant, factory, mode, scans_all in casbin_variants(w):
        _log(f"casbin: {variant} ...")
        t0 = time.perf_counter()
        e = factory()
        info["casbin_build_ms"][variant] = (time.perf_counter() - t0) * 1e3
        n = n_slow if scans_all else n_peer
        seconds, answers = time_runner(casbin_runner(e, mode), w.pairs[:n], config.repeats)
        verified[f"casbin: {variant}"] = verify(f"casbin {variant}", answers, expected, w.pairs)
        note = f"first {n:,} pairs" + (" (scans all policies per call)" if scans_all else "")
        rows.append(Row("pycasbin", variant, n, seconds, note))
        del e, answers

    # 3. cedarpy.
    _log("cedarpy: parse policies and entities ...")
    variants, info["cedar_build_ms"] = cedar_variants(w, config.cedar_batch)
    for variant, runner, counts in variants:
        _log(f"cedarpy: {variant} ...")
        seconds, answers = time_runner(runner, w.pairs[:n_peer], config.repeats)
        verified[f"cedarpy: {variant}"] = verify(f"cedarpy {variant}", answers, expected, w.pairs)
        note = f"first {n_peer:,} pairs" + ("" if counts else "; not public API, not used for the ratio")
        rows.append(Row("cedarpy", variant, n_peer, seconds, note, reported=counts))
    del variants

    # Rolegate with an assigned-record check, against a bare dict doing the same.
    _log("record check: bare baseline ...")
    seconds, rec_expected = time_runner(baseline_record_runner(w), w.record_pairs, config.repeats)
    rows.append(Row("bare dict", "scope + assignee dicts", len(w.record_pairs), seconds, "floor", kind="record"))

    seconds, rec_expected_assigned = time_runner(baseline_record_runner(w), w.record_pairs_assigned, config.repeats)
    rows.append(
        Row(
            "bare dict",
            "scope + assignee dicts",
            len(w.record_pairs_assigned),
            seconds,
            "floor",
            kind="record-assigned",
        )
    )
    info["record_allowed_share"] = sum(rec_expected) / max(1, len(rec_expected))
    info["record_assigned_allowed_share"] = sum(rec_expected_assigned) / max(1, len(rec_expected_assigned))
    if why_not is None:
        _log("record check: rolegate compile ...")
        snap, info["rolegate_compile_records"] = rolegate_compile(w, config.repeats, with_accounts=True)
        _log("record check: rolegate ...")
        record_runner = rolegate_record_runner(snap)
        seconds, answers = time_runner(record_runner, w.record_pairs, config.repeats)
        verified["rolegate record"] = verify("rolegate record", answers, rec_expected, w.record_pairs)
        variant = '`snap.check(m, "account.update", RecordRef("account", id))`'
        rows.append(Row("Rolegate", variant, len(w.record_pairs), seconds, kind="record"))
        seconds, answers = time_runner(record_runner, w.record_pairs_assigned, config.repeats)
        verified["rolegate record"] += verify(
            "rolegate record (assigned-scope members)", answers, rec_expected_assigned, w.record_pairs_assigned
        )
        rows.append(Row("Rolegate", variant, len(w.record_pairs_assigned), seconds, kind="record-assigned"))
        del snap, answers

    # All four engines on the same prefix of pairs: everything above is checked against the
    # baseline, so they agree with each other; the prefix each covered is recorded here.
    engines_on_verify = {"bare dict": n_verify}
    for name, n in verified.items():
        engine = name.split(":", 1)[0]
        engines_on_verify[engine] = max(engines_on_verify.get(engine, 0), n)
    missing = [e for e in ("rolegate", "casbin", "cedarpy") if engines_on_verify.get(e, 0) < n_verify]
    if missing and not (missing == ["rolegate"] and why_not is not None):
        raise VerificationError(f"engines not verified on {n_verify:,} pairs: {missing}")

    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "config": asdict(config),
        "machine": _machine(),
        "versions": _versions(),
        "rows": [{**asdict(r), "rate": r.rate, "median_s": statistics.median(r.seconds)} for r in rows],
        "info": info,
        "verification": {
            "passed": True,
            "pairs_required": n_verify,
            "pairs_per_engine": engines_on_verify,
            "variants_checked": verified,
            "rolegate_included": why_not is None,
        },
        "elapsed_s": time.perf_counter() - t_start,
        "load_average_1min": {
            "start": load_start,
            "end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        },
    }
    result["targets"] = targets(rows, info)
    return result


# -- report ----------------------------------------------------------------------------------


KIND_LABELS = {
    "action": "",
    "record": "; record check, random members",
    "record-assigned": "; record check, only members whose role has scope `assigned`",
}


def _fastest(rows: Sequence[Row], engine: str, kind: str = "action") -> Row | None:
    cands = [r for r in rows if r.engine == engine and r.kind == kind and r.reported]
    return max(cands, key=lambda r: r.rate) if cands else None


def targets(rows: Sequence[Row], info: dict[str, Any]) -> list[dict[str, Any]]:
    rg = _fastest(rows, "Rolegate")
    rg_rec = _fastest(rows, "Rolegate", "record")
    rg_rec_assigned = _fastest(rows, "Rolegate", "record-assigned")
    casbin = _fastest(rows, "pycasbin")
    cedar = _fastest(rows, "cedarpy")
    base = _fastest(rows, "bare dict")
    comp = info.get("rolegate_compile")
    out: list[dict[str, Any]] = []

    def add(name: str, measured: float | None, goal: float, higher_is_better: bool, fmt: str) -> None:
        if measured is None:
            out.append({"target": name, "measured": None, "text": "n/a", "status": "NOT RUN"})
            return
        ok = measured >= goal if higher_is_better else measured <= goal
        out.append(
            {"target": name, "measured": measured, "text": fmt.format(measured), "status": "PASS" if ok else "SHORT"}
        )

    add("Rolegate checks/s without a record >= 2,000,000", rg.rate if rg else None, 2e6, True, "{:,.0f}/s")
    add(
        "Rolegate / pycasbin (fastest) >= 100x",
        rg.rate / casbin.rate if rg and casbin else None,
        100,
        True,
        "{:,.0f}x",
    )
    add("Rolegate / cedarpy (fastest) >= 50x", rg.rate / cedar.rate if rg and cedar else None, 50, True, "{:,.1f}x")
    add("bare baseline / Rolegate <= 4", base.rate / rg.rate if rg and base else None, 4, False, "{:,.2f}x")
    add("Rolegate record checks/s >= 300,000 (random members)", rg_rec.rate if rg_rec else None, 3e5, True, "{:,.0f}/s")
    add(
        "Rolegate record checks/s >= 300,000 (only members with scope `assigned`: every check reads the record)",
        rg_rec_assigned.rate if rg_rec_assigned else None,
        3e5,
        True,
        "{:,.0f}/s",
    )
    add("compile < 250 ms", comp["compile_ms_median"] if comp else None, 250, False, "{:,.1f} ms")
    add("compile peak memory < 100 MB", comp["compile_peak_mb"] if comp else None, 100, False, "{:,.1f} MB")
    return out


def markdown(result: dict[str, Any]) -> str:
    rows = [Row(**{k: v for k, v in r.items() if k not in ("rate", "median_s")}) for r in result["rows"]]
    best = {kind: _fastest(rows, "Rolegate", kind) for kind in KIND_LABELS}
    lines = [
        "| engine | variant | pairs timed | checks/s (median of 3) | Rolegate/peer | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ref = best.get(r.kind)
        ratio = f"{ref.rate / r.rate:,.2f}x" if ref else "n/a"
        variant = r.variant + KIND_LABELS[r.kind]
        lines.append(f"| {r.engine} | {variant} | {r.pairs:,} | {r.rate:,.0f} | {ratio} | {r.note} |")
    lines += ["", "| target | measured | status |", "|---|---:|---|"]
    lines += [f"| {t['target']} | {t['text']} | {t['status']} |" for t in result["targets"]]
    info = result["info"]
    extra = []
    for key, label in (
        ("rolegate_compile", "Rolegate compile (no records)"),
        (
            "rolegate_compile_records",
            f"Rolegate compile (schema with `account`, index of {result['config']['n_accounts']:,} records given)",
        ),
    ):
        c = info.get(key)
        if c:
            extra.append(
                f"- {label}: {c['compile_ms_median']:.1f} ms median of {result['config']['repeats']} (min {c['compile_ms_min']:.1f} ms), peak {c['compile_peak_mb']:.1f} MB (tracemalloc); building its inputs (parse_schema, roles, members, record index) {c['inputs_ms']:.0f} ms, not counted"
            )
    if info.get("rolegate_missing"):
        extra.append(f"- Rolegate not run: {info['rolegate_missing']}")
    cb = info.get("cedar_build_ms", {})
    if cb:
        extra.append(
            f"- cedarpy parse once: PolicySet {cb['policy_set_ms']:.1f} ms, Entities {cb['entities_ms']:.1f} ms"
        )
    fast_build = [v for k, v in info.get("casbin_build_ms", {}).items() if k.startswith("FastEnforcer")]
    if fast_build:
        extra.append(f"- pycasbin FastEnforcer build (policies + role links): {min(fast_build):,.0f} ms")
    extra.append(
        f"- allowed share: {info['allowed_share']:.1%} of action pairs, {info['record_allowed_share']:.1%} of record pairs, {info['record_assigned_allowed_share']:.1%} of assigned-scope record pairs"
    )
    v = result["verification"]
    extra.append(
        f"- verification: identical answers on the first {v['pairs_required']:,} pairs for "
        + ", ".join(f"{e} ({n:,})" for e, n in v["pairs_per_engine"].items())
        + f"; {len(v['variants_checked'])} variants checked against the bare dict: {'PASSED' if v['passed'] else 'FAILED'}"
    )
    return "\n".join([*lines, "", *extra])


DOCS_START = "<!-- bench:engine:start (generated by bench/engine.py --docs; edits inside are overwritten) -->"
DOCS_END = "<!-- bench:engine:end -->"


def docs_section(result: dict[str, Any]) -> str:
    m, v, c = result["machine"], result["versions"], result["config"]
    return "\n".join(
        [
            DOCS_START,
            "## Decision engine (bench/engine.py)",
            "",
            f"- Command: `{result['command']}`",
            f"- Date: {result['date']}; run took {result['elapsed_s']:,.0f} s; 1-minute load average "
            f"{result['load_average_1min']['start']:.2f} at the start, {result['load_average_1min']['end']:.2f} at the end",
            f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['platform']}",
            f"- Versions: Python {v['python']}, rolegate {v['rolegate']}, casbin {v['casbin']}, cedarpy {v['cedarpy']}",
            f"- Workload (seed {c['seed']}): {c['n_areas'] * c['perms_per_area']} permissions in {c['n_areas']} areas "
            f"(one action each, same name), one level `member` with ceiling `all`, no features; {c['n_roles']} custom "
            f"roles granting {c['grants_min']}-{c['grants_max']} permissions; {c['n_members']:,} active members; "
            f"{c['n_pairs']:,} random (member, action) pairs. Record check: {c['n_accounts']:,} `account` records "
            f"({c['assigned_share']:.0%} assigned to a random member), {c['n_record_pairs']:,} (member, account) pairs, "
            f"{c['own_record_share']:.0%} of them on an account assigned to the member.",
            "- Method: one thread; each timed loop turns the same `(member, action)` strings into a list of booleans "
            "(request building included); garbage collector off during a loop (as `timeit`); median of "
            f"{c['repeats']} runs. Slow peers are timed on a prefix of the pairs (column *pairs timed*). Every "
            "variant's answers are compared with the bare dict; a mismatch aborts the run.",
            "",
            markdown(result),
            DOCS_END,
        ]
    )


def update_docs(path: Path, result: dict[str, Any]) -> None:
    """Replace the marked section of `path` (append it, or create the file, if missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = docs_section(result)
    start, end = text.find(DOCS_START[:24]), text.find(DOCS_END)
    if start != -1 and end != -1:
        text = text[:start] + section + text[end + len(DOCS_END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: same code paths, few pairs")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--docs", metavar="PATH", help="write the results into the marked section of PATH")
    parser.add_argument("--seed", type=int, help="override the fixed seed")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    config = QUICK if args.quick else Config()
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    result = run(config)
    result["command"] = shlex.join([os.path.relpath(sys.executable), "bench/engine.py", *args_list])
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.docs:
        update_docs(Path(args.docs), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
