#!/usr/bin/env python3
"""DuckDB peer for scripts/bench-monitor: counts the lines that match a few metric filters'
regex equivalents (``regexp_matches``, RE2) over the same flow-log lines as the Rust
benchmark, on one thread, and prints JSON: per-record time (best and median of the runs),
DuckDB's counts and whether they agree with the counts our matcher reported.

Input: DIR/lines.txt (one record per line) and DIR/peer.json, both written by
``examples/bench.rs --dump DIR``: a list of {"pattern", "regexes": [[regex, must_match]...],
"ours"}.
"""

import argparse
import json
import os
import statistics
import sys
import time

import duckdb


def sql_string(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    filters = json.load(open(os.path.join(args.dir, "peer.json")))
    con = duckdb.connect()
    con.execute("SET threads = 1")
    t = time.perf_counter()
    # One VARCHAR column, no CSV parsing: a delimiter and quote that never occur.
    con.execute(
        "CREATE TABLE lines AS SELECT line FROM read_csv(?, columns = {'line': 'VARCHAR'}, "
        "header = false, delim = '\x01', quote = '', escape = '', auto_detect = false)",
        [os.path.join(args.dir, "lines.txt")],
    )
    load_secs = time.perf_counter() - t
    (records,) = con.execute("SELECT count(*) FROM lines").fetchone()
    conditions = []
    for f in filters:
        parts = [
            ("" if want else "NOT ") + "regexp_matches(line, %s)" % sql_string(r)
            for r, want in f["regexes"]
        ]
        conditions.append("count(*) FILTER (WHERE %s)" % " AND ".join(parts))
    query = "SELECT %s FROM lines" % ", ".join(conditions)
    times = []
    counts = None
    for _ in range(args.runs):
        t = time.perf_counter()
        counts = con.execute(query).fetchone()
        times.append(time.perf_counter() - t)
    out = {
        "duckdb_version": duckdb.__version__,
        "records": records,
        "load_secs": round(load_secs, 3),
        "runs": args.runs,
        "ns_per_record_best": min(times) * 1e9 / records,
        "ns_per_record_median": statistics.median(times) * 1e9 / records,
        "filters": [
            {"pattern": f["pattern"], "duckdb": c, "ours": f["ours"], "agree": c == f["ours"]}
            for f, c in zip(filters, counts)
        ],
    }
    out["agree"] = all(f["agree"] for f in out["filters"])
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
