"""Benchmark: every list export at 100k applications keeps memory flat (issue 15).

    python bench/exports.py [--db URL] [--seed N]

On the 100k bench database ``bench/pages.py`` seeds (it seeds it first if missing), each export
runs in a fresh process through the test client, signed in as the role that may download it:
the review queue of every state (100,000 applications), all donations (50,000) and donors,
payments and expert visits, each as CSV and as XLSX. It reports the time, the rows written and
the peak memory growth (Linux VmHWM, reset just before the download), against the target of
100 MB. Exits 1 if any export fails or grows memory past the target.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import pages  # noqa: E402  (the bench databases, the login, the memory probes)

TARGET_MB = 100
EXPORTS = [  # (what, role, path)
    ("applications, every state", "staff", "/applications/review.{fmt}?status=all"),
    ("donations, all", "staff", "/donors/donations.{fmt}?status=all"),
    ("donors", "staff", "/donors/export.{fmt}"),
    ("payments", "finance", "/expenses/payments.{fmt}"),
    ("expert visits", "staff", "/visits/visits.{fmt}"),
]


def probe(url: str, role: str, path: str) -> dict[str, Any]:
    """In a fresh process: download ``path``; its time, rows and peak memory growth."""
    from portal import create_app

    app = create_app({"INSTANCE_PATH": str(pages.INSTANCE), "SQLALCHEMY_DATABASE_URI": url})
    client = pages.test_client_for(app, role)
    exact = pages.reset_peak()
    before = pages.memory_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    with tempfile.TemporaryFile() as body:  # on disk: the file read back is not the export's memory
        for chunk in response.response:
            body.write(chunk)
        response.close()
        seconds = time.perf_counter() - started
        after = pages.memory_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        body.seek(0)
        data = body.read()
    if path.split("?")[0].endswith(".csv"):
        rows = sum(1 for _ in csv.reader(io.StringIO(data.decode())))
    else:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        rows = sum(1 for _ in book.active.iter_rows(values_only=True))
        book.close()
    assert before is not None and after is not None
    return {"status": response.status_code, "seconds": seconds, "rows": rows, "bytes": len(data),
            "growth_mb": (after - before) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=pages.DEFAULT_DB)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)  # role path, in the fresh process
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.db, *args.probe)))
        return 0
    url = pages.sized_url(args.db, pages.LARGE, args.seed)
    pages.ensure_seeded(url, pages.LARGE, args.seed)
    failures = 0
    print(f"exports at {pages.LARGE} ({url}), each in a fresh process; target: peak memory growth ≤ {TARGET_MB} MB")
    for what, role, template in EXPORTS:
        for fmt in ("csv", "xlsx"):
            path = template.format(fmt=fmt)
            done = subprocess.run([sys.executable, __file__, "--db", url, "--probe", role, path], cwd=REPO,
                                  env=pages.portal_env(url), capture_output=True, text=True)
            if done.returncode:
                failures += 1
                print(f"  {what} ({fmt}): FAILED\n{done.stderr[-2000:]}")
                continue
            found = json.loads(done.stdout.strip().splitlines()[-1])
            ok = found["status"] == 200 and found["growth_mb"] <= TARGET_MB
            failures += not ok
            print(f"  {what:<28} {fmt:<4} {found['rows']:>8,} rows  {found['bytes'] / 1e6:7.1f} MB  "
                  f"{found['seconds']:6.1f} s  peak growth {found['growth_mb']:6.1f} MB  {'OK' if ok else 'FAIL'}")
    print(f"{failures} exports failed or above the target")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
