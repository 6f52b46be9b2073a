"""The one results model every runner writes and every report, SLO and alert reads.

Synthetics, contract and load runs produce `CheckResult` records (typed findings, traffic,
evidence) and, for high-volume runners, `Aggregate` tallies, into a `ResultSet`; nothing downstream
knows which runner made a record. `population` turns a run's records into the tallies its SLOs are
measured over; `request_outcome` is the one rule for how a request counts.
"""

from .evidence import BODY_LIMIT, CURL_TOKEN_VAR, Exchange, TransportErrorKind, body_text
from .files import write_atomic
from .model import (
    Aggregate,
    Attachment,
    CheckResult,
    Counts,
    Finding,
    Outcome,
    Status,
    Traffic,
    count,
    request_outcome,
)
from .population import OVERALL, Population, population
from .store import ResultSet

__all__ = [
    "BODY_LIMIT",
    "CURL_TOKEN_VAR",
    "OVERALL",
    "Aggregate",
    "Attachment",
    "CheckResult",
    "Counts",
    "Exchange",
    "Finding",
    "Outcome",
    "Population",
    "ResultSet",
    "Status",
    "Traffic",
    "TransportErrorKind",
    "body_text",
    "count",
    "population",
    "request_outcome",
    "write_atomic",
]
