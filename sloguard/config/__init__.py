"""The engine's configuration: `load_config()` reads `sloguard.yaml` into a validated `Config`."""

from .loader import DEFAULT_FILE, load_config
from .model import (
    SLO,
    AuthConfig,
    CatalogConfig,
    ChecksConfig,
    ClientCredentials,
    Config,
    ConfigError,
    LoadProfile,
    OperationOverride,
    SpecLocation,
)
from .values import Schedule, integration_key, is_loopback, parse_duration

__all__ = [
    "DEFAULT_FILE",
    "SLO",
    "AuthConfig",
    "CatalogConfig",
    "ChecksConfig",
    "ClientCredentials",
    "Config",
    "ConfigError",
    "LoadProfile",
    "OperationOverride",
    "Schedule",
    "SpecLocation",
    "integration_key",
    "is_loopback",
    "load_config",
    "parse_duration",
]
