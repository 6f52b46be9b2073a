"""The engine's configuration: `load_config()` reads `sloguard.yaml` into a validated `Config`."""

from .alerts import AlertsConfig, Channel, Route
from .base import ConfigError
from .load import DEFAULT_PROFILES, LoadConfig, LoadProfile, ResourceTriggers
from .loader import DEFAULT_FILE, load_config
from .model import (
    SLO,
    AuthConfig,
    CatalogConfig,
    ChecksConfig,
    ClientConfig,
    Config,
    OperationOverride,
    SpecLocation,
)
from .values import Schedule, integration_key, is_loopback, parse_duration

__all__ = [
    "DEFAULT_FILE",
    "DEFAULT_PROFILES",
    "SLO",
    "AlertsConfig",
    "AuthConfig",
    "CatalogConfig",
    "Channel",
    "ChecksConfig",
    "ClientConfig",
    "Config",
    "ConfigError",
    "LoadConfig",
    "LoadProfile",
    "OperationOverride",
    "ResourceTriggers",
    "Route",
    "Schedule",
    "SpecLocation",
    "integration_key",
    "is_loopback",
    "load_config",
    "parse_duration",
]
