"""The catalog: one entry per operation of a loaded OpenAPI description, with what each runner needs.

Modules: `model` (what runners read: `Catalog`, `Entry` and its parts, `CrudChain`, `CatalogCoverage`),
`builder` (`build_catalog`: integrations, kinds, security, parameters and bodies from the description),
`selection` (config overrides and include/exclude filters), `chains` (CRUD-chain inference), `naming`.
"""

from .builder import DEFAULT_PATH_PATTERN, DEFAULT_PLATFORM_NAMES, build_catalog
from .model import (
    KINDS,
    PLATFORM,
    Body,
    Catalog,
    CatalogCoverage,
    CrudChain,
    Entry,
    Link,
    OperationKind,
    Parameter,
    Security,
)
from .naming import slugify, synthesize_operation_id
from .selection import CatalogError

__all__ = [
    "DEFAULT_PATH_PATTERN",
    "DEFAULT_PLATFORM_NAMES",
    "KINDS",
    "PLATFORM",
    "Body",
    "Catalog",
    "CatalogCoverage",
    "CatalogError",
    "CrudChain",
    "Entry",
    "Link",
    "OperationKind",
    "Parameter",
    "Security",
    "build_catalog",
    "slugify",
    "synthesize_operation_id",
]
