#!/usr/bin/env python3
"""DuckDB peer for scripts/bench-query: run one case's SQL over a flowwatch store.

  bench_query_duckdb.py --data-dir DIR --case NAME [--threads N]

Reads `DIR/groups/*/**/*.parquet` with hive partitioning (a fresh connection, so nothing is
cached from an earlier run) and prints one JSON object: the in-process time of execute +
fetchall, the columns and the rows (timestamps as epoch ms, everything else as DuckDB returns
it, JSON-encoded).
"""

import argparse
import decimal
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb  # noqa: E402

from bench_query_cases import BY_NAME  # noqa: E402


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def jsonable(v):
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (int, float, str)) or v is None:
        return v
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--case", required=True, choices=sorted(BY_NAME))
    ap.add_argument("--threads", type=int, default=0, help="0: DuckDB's default (all cores)")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE instead")
    a = ap.parse_args()
    case = BY_NAME[a.case]
    glob = os.path.join(a.data_dir, "groups", "*", "**", "*.parquet")

    con = duckdb.connect()
    if a.threads:
        con.execute("SET threads = %d" % a.threads)
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE VIEW flows AS SELECT * FROM read_parquet(%s, hive_partitioning = true)"
                % sql_str(glob))
    sql = case["sql"]
    if a.explain:
        for row in con.execute("EXPLAIN ANALYZE " + sql).fetchall():
            print(row[-1])
        return 0
    t0 = time.perf_counter()
    cur = con.execute(sql)
    rows = cur.fetchall()
    elapsed = time.perf_counter() - t0
    columns = [d[0] for d in cur.description]
    con.close()
    print(json.dumps({"elapsed_secs": elapsed, "columns": columns,
                      "rows": [[jsonable(v) for v in r] for r in rows],
                      "threads": a.threads or os.cpu_count(),
                      "duckdb_version": duckdb.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
