"""Which product schema a workspace runs: `(preset, schema_version)`.

The shipped preset is the version it declares (1 for every preset today); any other
version is a row of `product_schemas`, stored by `rolegate schema apply` and never
changed afterwards. Each version is parsed once per process and database: decisions
never read the row again (a workspace's snapshot is compiled from the cached schema)."""

from __future__ import annotations

import hashlib
import threading
import weakref

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import ProductSchema
from rolegate.presets import PRESET_KEYS, load_preset, load_schema_text
from rolegate.store import Engine
from rolegate.store.uow import UnitOfWork

__all__ = ["digest", "newest_schema", "product_exists", "product_schema"]

_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[str, int], ProductSchema]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def product_schema(uow: UnitOfWork, product: str, version: int) -> ProductSchema:
    """Version `version` of the product `product`: a preset's key, or a product of the
    SaaS's own that `rolegate schema register` stored."""
    if product in PRESET_KEYS:
        preset = load_preset(product)
        if preset.version == version:
            return preset
    per = _cache.get(uow.engine)
    held = per.get((product, version)) if per is not None else None
    if held is not None:
        return held
    stored = uow.schemas.get(product, version)
    if stored is None:
        raise NotFoundError(
            f"no version {version} of product schema {product!r} is stored",
            decision=None,
            fix="Apply the schema file of that version with `rolegate schema apply`.",
        )
    schema = load_schema_text(stored.source, source=f"{product} version {version}")
    with _lock:
        _cache.setdefault(uow.engine, {})[(product, version)] = schema
    return schema


def newest_schema(uow: UnitOfWork, product: str) -> ProductSchema:
    """The product's newest version: the last one `rolegate schema apply` (or, for a
    product of the SaaS's own, `register`) stored, or the preset. An unknown product is
    refused as the presets refuse one (did you mean)."""
    latest = uow.schemas.latest_version(product)
    if product not in PRESET_KEYS:
        if latest is None:
            load_preset(product)  # raises: no such preset, with the nearest key
        assert latest is not None
        return product_schema(uow, product, latest)
    preset = load_preset(product)
    return product_schema(uow, product, latest) if latest is not None and latest > preset.version else preset


def product_exists(uow: UnitOfWork, product: str) -> bool:
    return product in PRESET_KEYS or uow.schemas.latest_version(product) is not None
