"""Turn raw schema data into a frozen `ProductSchema`, listing every problem.

Two passes: Pydantic checks the shape (`schema_format`), then `_Checker` checks every
cross reference. Problems are collected, never raised one at a time, so an author
sees the whole list with a path and a hint for each.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from rolegate.domain.errors import SchemaError, SchemaProblem
from rolegate.domain.schema import (
    Action,
    AdminRight,
    Area,
    Feature,
    FieldAccess,
    FieldDef,
    Grant,
    Guardian,
    Integration,
    LandingPage,
    Level,
    LevelMode,
    Lineage,
    ObjectType,
    Permission,
    ProductSchema,
    Scope,
    Seat,
    SystemRole,
    Words,
    frozen_map,
)
from rolegate.domain.schema_format import (
    CeilingExceptSpec,
    GrantSpec,
    ProductSchemaSpec,
)

__all__ = ["build_schema", "parse_schema"]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _spec_field_names() -> set[str]:
    import rolegate.domain.schema_format as fmt

    names: set[str] = set()
    for obj in vars(fmt).values():
        if isinstance(obj, type) and issubclass(obj, fmt._Spec):
            names.update(obj.model_fields)
    return names


def _is_branch_tag(part: int | str) -> bool:
    # Pydantic names the union branch it tried ("str", "GrantSpec", "literal['all']");
    # those are not keys of the file, so they are left out of the path.
    return isinstance(part, str) and (
        part in {"str", "int", "bool"}
        or part.endswith("Spec")
        or "[" in part
        or part.startswith(("literal", "function", "list", "dict"))
    )


def _pydantic_problems(error: ValidationError) -> list[SchemaProblem]:
    fields = _spec_field_names()
    seen: set[str] = set()
    problems: list[SchemaProblem] = []
    for e in error.errors():
        loc = tuple(p for p in e["loc"] if not _is_branch_tag(p))
        path = _format_loc(loc)
        if e["type"] == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            problem = SchemaProblem(path, "unknown key", did_you_mean(key, fields) or "remove it")
        elif e["type"] == "missing":
            problem = SchemaProblem(path, "required key is missing", "add it")
        else:
            problem = SchemaProblem(path, e["msg"].lower(), f"got {e.get('input')!r}"[:120])
        if path in seen:
            continue  # a union reports once per branch; the first says enough
        seen.add(path)
        problems.append(problem)
    # A union (a grant written as a string or as a mapping) fails once per branch; the
    # branch that got deeper into the data says what is really wrong.
    paths = [p.path for p in problems]
    return [p for p in problems if not any(q != p.path and q.startswith((p.path + ".", p.path + "[")) for q in paths)]


def parse_schema(data: Any, *, source: str = "") -> ProductSchema:
    """Validate raw data (as read from YAML) and build the schema, or raise SchemaError."""
    if not isinstance(data, Mapping):
        raise SchemaError([SchemaProblem("", "a product schema must be a mapping", "see docs")], source=source)
    try:
        spec = ProductSchemaSpec.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(_pydantic_problems(exc), source=source) from None
    return build_schema(spec, source=source)


def build_schema(spec: ProductSchemaSpec, *, source: str = "") -> ProductSchema:
    checker = _Checker(spec)
    schema = checker.build()
    if checker.problems:
        raise SchemaError(checker.problems, source=source)
    assert schema is not None
    from rolegate.domain.rules.role_rules import system_role_violations

    problems = [
        SchemaProblem(f"roles.{v_role}", v.message, v.fix)
        for v_role, v in system_role_violations(schema)
    ]
    if problems:
        raise SchemaError(problems, source=source)
    return schema


class _Checker:
    def __init__(self, spec: ProductSchemaSpec) -> None:
        self.spec = spec
        self.problems: list[SchemaProblem] = []

    def problem(self, path: str, message: str, hint: str = "") -> None:
        self.problems.append(SchemaProblem(path, message, hint))

    def ref(self, path: str, kind: str, key: str | None, known: Mapping[str, object]) -> bool:
        if key is None or key in known:
            return True
        self.problem(path, f"unknown {kind} {key!r}", did_you_mean(key, known) or "declare it first")
        return False

    def perm_refs(self, path: str, keys: Iterable[str]) -> frozenset[str]:
        ok = set()
        for i, key in enumerate(keys):
            if self.ref(f"{path}[{i}]", "permission", key, self.spec.permissions):
                ok.add(key)
        return frozenset(ok)

    def build(self) -> ProductSchema | None:
        s = self.spec
        objects = self._objects()
        actions = self._actions()
        permissions = self._permissions(objects)
        levels = self._levels()
        self._level_policy()
        landing = self._landing_pages()
        system_roles = self._system_roles(objects)
        self.ref("default_role", "role", s.default_role, s.roles)
        admin = self._admin()
        guardian = self._guardian()
        lineage = self._lineage()
        if self.problems:
            return None
        by_action: dict[str, list[str]] = {a: [] for a in actions}
        for p in permissions.values():
            for g in p.grants:
                by_action[g.action].append(p.key)
        marker = s.level_policy.marker
        return ProductSchema(
            key=s.key,
            name=s.name,
            description=s.description,
            source=s.source,
            seats=frozen_map({k: Seat(k, v.label, v.description, v.rule) for k, v in s.seats.items()}),
            features=frozen_map(
                {k: Feature(k, v.label, v.description, v.default) for k, v in s.features.items()}
            ),
            integrations=frozen_map(
                {
                    k: Integration(
                        k,
                        v.label,
                        FieldAccess.parse(v.default_cap),
                        frozen_map({f: FieldAccess.parse(a) for f, a in v.field_caps.items()}),
                    )
                    for k, v in s.integrations.items()
                }
            ),
            objects=frozen_map(objects),
            actions=frozen_map(actions),
            areas=frozen_map({k: Area(k, v.label, v.description) for k, v in s.areas.items()}),
            permissions=frozen_map(permissions),
            levels=frozen_map(levels),
            level_mode=LevelMode(s.level_policy.mode),
            level_changeable_after_create=s.level_policy.changeable_after_create,
            marker_permission=marker.permission if marker else None,
            marker_levels=(marker.when_granted, marker.when_not_granted) if marker else None,
            landing_pages=frozen_map(landing),
            custom_roles_allowed=s.custom_roles,
            system_roles=frozen_map(system_roles),
            admin_actions=frozen_map(admin),
            guardian=guardian,
            permissions_by_action=frozen_map({a: tuple(ps) for a, ps in by_action.items()}),
            rule_ids=frozen_map({str(k): v for k, v in s.rule_ids.items()}),
            words=Words(**s.words.model_dump()),
            role_delete_with_members=s.role_delete_with_members,
            default_role=s.default_role,
            version=s.version,
            lineage=lineage,
        )

    # -- upgrades: renamed_from, split_from, removed ------------------------------------

    def _lineage(self) -> Lineage:
        """What the previous version's keys became. An old key names one fate: kept,
        renamed (to one key), split, or removed; a renamed or removed key is no key of
        this version."""
        s = self.spec
        renamed: dict[tuple[str, str], str] = {}
        split: dict[str, list[str]] = {}
        kinds: dict[str, Mapping[str, Any]] = {
            "permission": s.permissions,
            "action": s.actions,
            "level": s.levels,
            "object": s.objects,
        }

        def rename(kind: str, path: str, old: str | None, new: str, current: Iterable[str]) -> None:
            if old is None:
                return
            if old in current:
                self.problem(f"{path}.renamed_from", f"{old!r} is still a {kind} of this version", "rename it, or drop `renamed_from`")
            elif (kind, old) in renamed:
                self.problem(f"{path}.renamed_from", f"{old!r} is already renamed to {renamed[kind, old]!r}", "an old key is renamed once; use split_from for several")
            else:
                renamed[kind, old] = new

        for kind, specs in kinds.items():
            for key, spec in specs.items():
                rename(kind, f"{kind}s.{key}", spec.renamed_from, key, specs)
        for okey, obj in s.objects.items():
            for fname, fdef in obj.fields.items():
                if fdef.renamed_from is not None:
                    rename("field", f"objects.{okey}.fields.{fname}", f"{okey}.{fdef.renamed_from}", f"{okey}.{fname}", (f"{okey}.{f}" for f in obj.fields))
        for key, p in s.permissions.items():
            if p.split_from is None:
                continue
            if ("permission", p.split_from) in renamed:
                self.problem(f"permissions.{key}.split_from", f"{p.split_from!r} is renamed; an old key has one fate", "rename or split it, not both")
            split.setdefault(p.split_from, []).append(key)
        removed: dict[tuple[str, str], str | None] = {}
        for i, r in enumerate(s.removed):
            path = f"removed[{i}]"
            current = kinds[r.kind]
            if r.key in current or (r.kind, r.key) in renamed or (r.kind == "permission" and r.key in split):
                self.problem(f"{path}.key", f"{r.kind} {r.key!r} is kept, renamed or split by this version", "remove it from `removed`")
            elif (r.kind, r.key) in removed:
                self.problem(f"{path}.key", f"{r.kind} {r.key!r} is removed twice", "list it once")
            if self.ref(f"{path}.replaced_by", r.kind, r.replaced_by, current):
                removed[r.kind, r.key] = r.replaced_by
        return Lineage(
            renamed=frozen_map(renamed),
            split=frozen_map({old: tuple(sorted(new)) for old, new in split.items()}),
            removed=frozen_map(removed),
        )

    # -- objects, fields, integrations --------------------------------------------------

    def _objects(self) -> dict[str, ObjectType]:
        s = self.spec
        for key, obj in s.objects.items():
            path = f"objects.{key}"
            self.ref(f"{path}.parent", "object", obj.parent, s.objects)
            for attr in ("assignee_action", "view_action"):
                action = getattr(obj, attr)
                if self.ref(f"{path}.{attr}", "action", action, s.actions) and action is not None and s.actions[action].object != key:
                    self.problem(f"{path}.{attr}", f"action {action!r} is not on object {key!r}", f"set `object: {key}` on actions.{action}")
            if obj.assignee_action is not None and not obj.assignable:
                self.problem(f"{path}.assignee_action", "only an assignable object has assignees", "set `assignable: true`")
            for fname, fdef in obj.fields.items():
                self.ref(f"{path}.fields.{fname}.synced_from", "integration", fdef.synced_from, s.integrations)
        for ikey, integ in s.integrations.items():
            for ref in integ.field_caps:
                obj_key, _, fname = ref.partition(".")
                fpath = f"integrations.{ikey}.field_caps.{ref}"
                if obj_key not in s.objects or fname not in s.objects[obj_key].fields:
                    known = [f"{o}.{f}" for o, spec in s.objects.items() for f in spec.fields]
                    self.problem(fpath, f"unknown field {ref!r}", did_you_mean(ref, known) or "use `object.field`")
                elif s.objects[obj_key].fields[fname].synced_from != ikey:
                    self.problem(fpath, f"field {ref!r} is not synced from {ikey!r}", f"set `synced_from: {ikey}` on the field")
        ancestors = self._ancestors()
        out: dict[str, ObjectType] = {}
        for key, obj in s.objects.items():
            chain = ancestors.get(key, ())
            lineage = (key, *chain)
            carrier = next((i for i, t in enumerate(lineage) if s.objects[t].assignable), None)
            out[key] = ObjectType(
                key=key,
                label=obj.label,
                parent=obj.parent,
                assignable=obj.assignable,
                assignee_action=obj.assignee_action,
                view_action=obj.view_action,
                on_parent_delete=obj.on_parent_delete,
                fields=frozen_map(
                    {
                        f: FieldDef(key, f, d.label or f, d.default, d.synced_from)
                        for f, d in obj.fields.items()
                    }
                ),
                ancestors=chain,
                carrier_offset=carrier,
                additional=obj.additional,
            )
        return out

    def _ancestors(self) -> dict[str, tuple[str, ...]]:
        s = self.spec
        out: dict[str, tuple[str, ...]] = {}
        for key in s.objects:
            chain: list[str] = []
            cur = s.objects[key].parent
            while cur is not None and cur in s.objects:
                if cur == key or cur in chain:
                    self.problem(f"objects.{key}.parent", "objects form a cycle", " -> ".join([key, *chain, cur]))
                    chain = []
                    break
                chain.append(cur)
                cur = s.objects[cur].parent
            out[key] = tuple(chain)
        return out

    # -- actions and permissions ----------------------------------------------------------

    def _actions(self) -> dict[str, Action]:
        s = self.spec
        for key, a in s.actions.items():
            self.ref(f"actions.{key}.object", "object", a.object, s.objects)
        return {k: Action(k, a.label or k, a.object) for k, a in s.actions.items()}

    def _permissions(self, objects: Mapping[str, ObjectType]) -> dict[str, Permission]:
        s = self.spec
        out: dict[str, Permission] = {}
        rows: dict[str, dict[str, str]] = {}
        for key, p in s.permissions.items():
            path = f"permissions.{key}"
            area = p.area or key.split(".", 1)[0]
            self.ref(f"{path}.area", "area", area, s.areas)
            self.ref(f"{path}.feature", "feature", p.feature, s.features)
            grants: list[Grant] = []
            for i, g in enumerate(p.grants):
                gs = g if isinstance(g, GrantSpec) else GrantSpec(action=g)
                gpath = f"{path}.grants[{i}]"
                if not self.ref(gpath, "action", gs.action, s.actions):
                    continue
                scope = Scope.parse(gs.scope)
                obj = s.actions[gs.action].object
                if scope is not Scope.ALL and (obj is None or objects.get(obj) is None or objects[obj].carrier_offset is None):
                    self.problem(gpath, f"scope {gs.scope!r} needs an action on an object with assignees", "use scope `all`, or make the object (or a parent) `assignable`")
                self.ref(f"{gpath}.feature", "feature", gs.feature, s.features)
                grants.append(Grant(gs.action, scope, gs.feature))
            requires = self.perm_refs(f"{path}.requires", p.requires)
            if key in requires:
                self.problem(f"{path}.requires", "a permission cannot require itself", "remove it")
            if p.pair is not None:
                row = rows.setdefault(p.pair.row, {})
                if p.pair.column in row:
                    self.problem(f"{path}.pair", f"row {p.pair.row!r} already has a {p.pair.column} permission ({row[p.pair.column]!r})", "one view and one manage per row")
                row[p.pair.column] = key
            out[key] = Permission(
                key=key,
                label=p.label,
                description=p.description,
                area=area,
                grants=tuple(grants),
                requires=requires - {key},
                feature=p.feature,
                pair_row=p.pair.row if p.pair else None,
                pair_column=p.pair.column if p.pair else None,
                system_only=p.system_only,
                seat_only=p.seat_only,
            )
        for row_key, cols in rows.items():
            if "manage" in cols and "view" in cols and cols["view"] not in out[cols["manage"]].requires:
                self.problem(f"permissions.{cols['manage']}.requires", f"a manage permission needs its row's view permission {cols['view']!r}", f"add {cols['view']!r} to requires (row {row_key!r})")
        self._cycles(out)
        return out

    def _cycles(self, perms: Mapping[str, Permission]) -> None:
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(key: str, trail: list[str]) -> None:
            state[key] = 1
            for req in sorted(perms[key].requires):
                if req not in perms:  # pragma: no cover  # defensive: `requires` keeps declared permissions only (perm_refs), and every declared one is in `perms`
                    continue
                if state.get(req) == 1:
                    cycle = [*trail[trail.index(req):], req] if req in trail else [key, req]
                    self.problem(f"permissions.{req}.requires", "requires form a cycle", " -> ".join(cycle))
                elif req not in state:
                    visit(req, [*trail, req])
            state[key] = 2

        for key in perms:
            if key not in state:
                visit(key, [key])

    # -- levels, landing pages, system roles --------------------------------------------

    def _levels(self) -> dict[str, Level]:
        s = self.spec
        out: dict[str, Level] = {}
        if not s.levels:
            self.problem("levels", "at least one level is needed", "add one, e.g. `member: {label: Member, rank: 1}`")
        ranks: dict[int, str] = {}
        every = frozenset(s.permissions)
        for key, lv in s.levels.items():
            path = f"levels.{key}"
            self.ref(f"{path}.seat", "seat", lv.seat, s.seats)
            if lv.rank in ranks:
                self.problem(f"{path}.rank", f"rank {lv.rank} is also the rank of {ranks[lv.rank]!r}", "ranks must be distinct")
            ranks[lv.rank] = key
            floor = self.perm_refs(f"{path}.floor", lv.floor)
            if lv.ceiling == "all":
                ceiling = every
            elif isinstance(lv.ceiling, CeilingExceptSpec):
                ceiling = every - self.perm_refs(f"{path}.ceiling.all_except", lv.ceiling.all_except)
            else:
                ceiling = self.perm_refs(f"{path}.ceiling", lv.ceiling)
            for held in sorted(k for k in floor if self.spec.permissions[k].system_only):
                self.problem(f"{path}.floor", f"{held!r} is system_only and cannot be in a floor (custom roles would hold it)", "grant it on the system role instead")
            for extra in sorted(floor - ceiling):
                self.problem(f"{path}.floor", f"{extra!r} is in the floor but above the ceiling", "add it to the ceiling or drop it from the floor")
            out[key] = Level(
                key=key,
                label=lv.label,
                description=lv.description,
                rank=lv.rank,
                seat=lv.seat,
                floor=floor,
                ceiling=ceiling,
                field_ceiling=FieldAccess.parse(lv.field_ceiling),
                new_field_access=min(FieldAccess.parse(lv.new_field_access), FieldAccess.parse(lv.field_ceiling)),
                rule=lv.rule,
                offered_to_custom_roles=lv.offered_to_custom_roles,
            )
        return out

    def _level_policy(self) -> None:
        s = self.spec
        pol = s.level_policy
        if pol.mode == "marker":
            if pol.marker is None:
                self.problem("level_policy.marker", "mode `marker` needs a marker", "add `marker: {permission, when_granted, when_not_granted}`")
                return
            self.ref("level_policy.marker.permission", "permission", pol.marker.permission, s.permissions)
            self.ref("level_policy.marker.when_granted", "level", pol.marker.when_granted, s.levels)
            self.ref("level_policy.marker.when_not_granted", "level", pol.marker.when_not_granted, s.levels)
        elif pol.marker is not None:
            self.problem("level_policy.marker", "a marker only applies in mode `marker`", "set `mode: marker` or remove it")

    def _landing_pages(self) -> dict[str, LandingPage]:
        s = self.spec
        for key, lp in s.landing_pages.items():
            self.ref(f"landing_pages.{key}.requires", "permission", lp.requires, s.permissions)
        return {k: LandingPage(k, v.label, v.requires) for k, v in s.landing_pages.items()}

    def _system_roles(self, objects: Mapping[str, ObjectType]) -> dict[str, SystemRole]:
        s = self.spec
        out: dict[str, SystemRole] = {}
        if not s.roles:
            self.problem("roles", "at least one system role is needed", "add the product's default roles")
        every = frozenset(s.permissions)
        for key, r in s.roles.items():
            path = f"roles.{key}"
            if s.level_policy.mode == "chosen":
                if r.level is None:
                    self.problem(f"{path}.level", "required key is missing", f"one of {sorted(s.levels)}")
                else:
                    self.ref(f"{path}.level", "level", r.level, s.levels)
            elif r.level is not None:
                self.problem(f"{path}.level", "the level follows the marker permission here (N2)", "remove `level`")
            grants = every if r.grants == "all" else self.perm_refs(f"{path}.grants", r.grants)
            grants -= self.perm_refs(f"{path}.grants_except", r.grants_except)
            self.ref(f"{path}.landing_page", "landing page", r.landing_page, s.landing_pages)
            if s.landing_pages and r.landing_page is None:
                self.problem(f"{path}.landing_page", "required key is missing", "N4: every role has a landing page")
            fields: dict[tuple[str, str], FieldAccess] = {}
            if isinstance(r.fields, dict):
                for obj_key, per_field in r.fields.items():
                    if not self.ref(f"{path}.fields.{obj_key}", "object", obj_key, s.objects):
                        continue
                    for fname, access in per_field.items():
                        if fname not in objects[obj_key].fields:
                            self.problem(f"{path}.fields.{obj_key}.{fname}", f"unknown field {fname!r} of {obj_key!r}", did_you_mean(fname, objects[obj_key].fields))
                        fields[(obj_key, fname)] = FieldAccess.parse(access)
            out[key] = SystemRole(
                key=key,
                name=r.name,
                description=r.description,
                level=r.level,
                grants=grants,
                landing_page=r.landing_page,
                editable=r.editable,
                deletable=r.deletable,
                mirror_integration=r.fields == "mirror_integration",
                field_access=frozen_map(fields),
            )
        return out

    def _admin(self) -> dict[AdminRight, str]:
        s = self.spec
        out: dict[AdminRight, str] = {}
        for right in AdminRight:
            action = getattr(s.admin, right.value)
            self.ref(f"admin.{right.value}", "action", action, s.actions)
            out[right] = action
        return out

    def _guardian(self) -> Guardian:
        s = self.spec
        g = s.team.keep_one
        chosen = [x for x in (g.role, g.level, g.right) if x is not None]
        if len(chosen) != 1:
            self.problem("team.keep_one", "name exactly one of role, level or right", "e.g. `keep_one: {level: owner}`")
        self.ref("team.keep_one.role", "system role", g.role, s.roles)
        self.ref("team.keep_one.level", "level", g.level, s.levels)
        return Guardian(
            rule_id=s.team.keep_one_rule,
            role=g.role,
            level=g.level,
            right=AdminRight(g.right) if g.right else None,
            several_owners=s.team.owners == "several",
        )
