"""Request data for an operation: config overrides, then real ids, then the spec's examples, then generated.

Generated values follow the schema (types, formats, bounds, enums, nested objects and arrays; only
required properties unless asked for all) and are deterministic for a seed: the n-th request of an
operation always gets the same data. Ids for path parameters come from an `IdPool` fed by create and
list responses, so get/update/delete address records that exist.

Modules: `values` (schema -> value), `ids` (the id pool), `requests` (`RequestData`, `DataGenerator`).
"""

from .ids import IdPool, id_of, resource_of
from .requests import ALL_OPERATIONS, OVERRIDE_SECTIONS, DataGenerator, RequestData
from .values import SchemaValues

__all__ = [
    "ALL_OPERATIONS",
    "OVERRIDE_SECTIONS",
    "DataGenerator",
    "IdPool",
    "RequestData",
    "SchemaValues",
    "id_of",
    "resource_of",
]
