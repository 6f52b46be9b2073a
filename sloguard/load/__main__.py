"""``python -m sloguard.load ...``: the load run's own process (what `sloguard load` starts).

Locust is imported first, so gevent patches the standard library before anything has imported
ssl or threading; patched late (inside a process that already created SSL contexts, like the
command line or pytest), gevent warns and ssl recurses until it crashes.
"""

import locust  # noqa: F401  (first: patches the standard library for gevent)

from sloguard.cli.load import child_main

child_main()
