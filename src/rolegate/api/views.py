"""The product schema's catalog as a response body, converted once per catalog."""

from __future__ import annotations

from dataclasses import asdict

from rolegate.api.schemas.catalog import SchemaOut
from rolegate.domain.schema import ProductSchema
from rolegate.services.schema_catalog import SchemaCatalog, schema_catalog

__all__ = ["schema_out"]


_schemas: dict[str, tuple[SchemaCatalog, SchemaOut]] = {}


def schema_out(schema: ProductSchema) -> SchemaOut:
    """The catalog of a product schema as a response body, converted once per catalog
    (the services build a catalog once per schema object)."""
    catalog = schema_catalog(schema)
    hit = _schemas.get(schema.key)
    if hit is not None and hit[0] is catalog:
        return hit[1]
    out = SchemaOut.model_validate(asdict(catalog))
    _schemas[schema.key] = (catalog, out)
    return out
