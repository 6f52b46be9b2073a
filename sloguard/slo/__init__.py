"""SLO maths: objectives, tallies, percentiles, error budgets and burn-rate alerts.

Plain numbers in, verdicts out: the policy that turns check results and load samples into tallies
lives with the results model (`sloguard.results.population`), so this package never needs to know
which runner produced a request.
"""

from .budget import (
    DEFAULT_BURN_RATE_RULES,
    SLO_PERIOD,
    BurnAction,
    BurnRateAlert,
    BurnRateRule,
    ErrorBudget,
    Observations,
    burn_rate,
    evaluate_burn_rates,
    time_to_exhaustion,
)
from .histogram import LatencyHistogram
from .objectives import (
    DEFAULT_AVAILABILITY,
    DEFAULT_ERROR_RATE,
    DEFAULT_LATENCY_P95_MS,
    DEFAULT_NETWORK_MS,
    SLOResult,
    SLOTarget,
    Tally,
    evaluate_tally,
)

__all__ = [
    "DEFAULT_AVAILABILITY",
    "DEFAULT_BURN_RATE_RULES",
    "DEFAULT_ERROR_RATE",
    "DEFAULT_LATENCY_P95_MS",
    "DEFAULT_NETWORK_MS",
    "SLO_PERIOD",
    "BurnAction",
    "BurnRateAlert",
    "BurnRateRule",
    "ErrorBudget",
    "LatencyHistogram",
    "Observations",
    "SLOResult",
    "SLOTarget",
    "Tally",
    "burn_rate",
    "evaluate_burn_rates",
    "evaluate_tally",
    "time_to_exhaustion",
]
