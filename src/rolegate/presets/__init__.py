"""The five seed products as product schemas (YAML), and their loader."""

from rolegate.presets.loader import PRESET_KEYS, load_preset, load_schema_file, load_schema_text

__all__ = ["PRESET_KEYS", "load_preset", "load_schema_file", "load_schema_text"]
