"""Load runs on Locust: profiles, the request mix, the SLO gate per step and the capacity report.

Nothing here imports Locust (and so gevent) at import time except the modules that run inside a
Locust process (`user`, `shape`, `hooks`, `run`): the plan, the gate, the knee finder and the report
are plain Python, usable and testable without a load generator.
"""
