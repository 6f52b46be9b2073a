"""Run every benchmark in turn (`make bench`); each prints its figures against its own baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ["bench_catalog.py", "bench_platform.py", "bench_synthetics.py", "bench_contracts_diff.py",
           "bench_report.py", "bench_contracts.py", "bench_load.py"]


def main() -> int:
    here = Path(__file__).parent
    failed = 0
    for name in BENCHES:
        print(f"\n== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(here / name)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
