"""Alert channels, one module each behind one interface (`base.Channel`).

`open_channels` builds every configured channel and validates it, so a broken channel config is a
one-line `UsageError` (exit 2) when a run starts, never a failure at its first alert.
"""

from __future__ import annotations

from typing import Any

from sloguard.config.alerts import AlertsConfig

from .base import Channel, ChannelSettings, DeliveryError, open_channel


def settings_of(config: AlertsConfig) -> ChannelSettings:
    return ChannelSettings(timeout_s=config.timeout_s)


def open_channels(config: AlertsConfig) -> dict[str, Channel[Any]]:
    """Every channel of ``alerts.channels``, validated; raises `UsageError` naming the first bad one."""
    settings = settings_of(config)
    opened: dict[str, Channel[Any]] = {}
    try:
        for name, section in config.channels.items():
            opened[name] = open_channel(name, section, settings)
    except BaseException:
        close_all(opened)
        raise
    return opened


def close_all(channels: dict[str, Channel[Any]]) -> None:
    for channel in channels.values():
        channel.close()


__all__ = ["Channel", "ChannelSettings", "DeliveryError", "close_all", "open_channel", "open_channels",
           "settings_of"]
