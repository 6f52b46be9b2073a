"""Number checks shared by the SLO modules."""

from __future__ import annotations

import math


def is_number(value: object) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
