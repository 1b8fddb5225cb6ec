#!/usr/bin/env python3
"""DuckDB peer for scripts/bench-ingest.

  convert: read_csv over the gzip flow-log tree -> one zstd Parquet file.
  count:   row count of a Parquet file (run separately, outside the timing).

Prints one JSON object on stdout.
"""

import argparse
import json
import os
import sys
import time

import duckdb

COLUMNS = ("{'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR', "
           "'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', "
           "'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT', "
           "'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', "
           "'log_status': 'VARCHAR'}")


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def convert(a):
    con = duckdb.connect()
    con.execute("SET threads = %d" % a.threads)
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    q = ("COPY (SELECT * FROM read_csv(%s, delim=' ', header=true, columns=%s, "
         "nullstr='-')) TO %s (FORMAT parquet, COMPRESSION zstd)"
         % (sql_str(a.glob), COLUMNS, sql_str(a.out)))
    res = con.execute(q).fetchone()
    elapsed = time.perf_counter() - t0
    con.close()
    print(json.dumps({"copied_rows": res[0] if res else None,
                      "elapsed_secs": round(elapsed, 3),
                      "threads": a.threads,
                      "output_bytes": os.path.getsize(a.out),
                      "duckdb_version": duckdb.__version__,
                      "query": q}))


def count(a):
    con = duckdb.connect()
    n = con.execute("SELECT count(*) FROM read_parquet(%s)" % sql_str(a.out)).fetchone()[0]
    print(json.dumps({"rows": n}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--glob", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--threads", type=int, required=True)
    k = sub.add_parser("count")
    k.add_argument("--out", required=True)
    a = ap.parse_args()
    {"convert": convert, "count": count}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
