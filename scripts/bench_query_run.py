#!/usr/bin/env python3
"""Runner of scripts/bench-query: times every case in flowwatch and in DuckDB, checks that both
give the same answer, and prints a Markdown report on stdout (progress on stderr).

Each run is a fresh process: flowwatch's wall time is measured around the process (what a
user waits for), DuckDB's is its in-process time (execute + fetchall, fresh connection; the
time around its process, which adds Python and `import duckdb`, is reported too). Peak RSS
comes from `/usr/bin/time -v`. Runs of the two engines alternate, so that noise from other
work on the machine falls on both.
"""

import argparse
import collections
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_query_cases import CASES  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print("[bench-query] " + msg, file=sys.stderr, flush=True)


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0:3]
    except OSError:
        return ["?", "?", "?"]


def max_rss_mib(path):
    try:
        for line in open(path):
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return None


def timed(cmd, time_file, timeout):
    """Run cmd under /usr/bin/time -v; (wall secs, returncode or 'timeout', stdout, stderr)."""
    full = ["/usr/bin/time", "-v", "-o", time_file] + cmd
    t0 = time.perf_counter()
    try:
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return time.perf_counter() - t0, "timeout", e.stdout or b"", e.stderr or b""
    return time.perf_counter() - t0, p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------------ answers

def ts_to_ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


def canon(v, ts=False):
    """One spelling per value: flowwatch prints every cell as text, DuckDB returns types."""
    if v is None:
        return None
    if ts and isinstance(v, str):
        try:
            return ts_to_ms(v)
        except ValueError:
            return v
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return int(v)
        return float("%.12g" % v)
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            pass
        try:
            return canon(float(v))
        except ValueError:
            return v
    return str(v)


def fw_rows(doc, cols, ts_cols):
    """flowwatch `-o cloudwatch` results -> (rows as tuples over cols, unknown field names)."""
    out, unknown = [], set()
    for r in doc.get("results", []):
        d = {f["field"]: f["value"] for f in r}
        unknown |= set(d) - set(cols)
        out.append(tuple(canon(d.get(c), c in ts_cols) for c in cols))
    return out, unknown


def duck_rows(doc, cols, ts_cols):
    idx = [doc["columns"].index(c) for c in cols]
    return [tuple(canon(r[i], cols[k] in ts_cols) for k, i in enumerate(idx))
            for r in doc["rows"]]


def compare(case, fw_doc, duck_doc):
    """None when both engines give the same answer, else a reason."""
    ts_cols = set(case.get("ts", []))
    all_cols = duck_doc["columns"]
    cols = case.get("cols") or all_cols
    missing = [c for c in cols if c not in all_cols]
    if missing:
        return "the SQL lacks columns %s" % missing
    fw, unknown = fw_rows(fw_doc, all_cols, ts_cols)
    unknown_note = ""
    if unknown:
        return "flowwatch has columns the SQL lacks: %s" % sorted(unknown)
    keep = [all_cols.index(c) for c in cols]
    fw = [tuple(r[i] for i in keep) for r in fw]
    dk = duck_rows(duck_doc, cols, ts_cols)
    if len(fw) != len(dk):
        return "%d rows in flowwatch, %d in DuckDB" % (len(fw), len(dk))
    order = case.get("order")
    limit = case.get("limit")
    if order is None or limit is None or len(fw) < limit:
        # The whole answer: same rows, in any order.
        return multiset_diff(fw, dk, unknown_note)
    col, _desc = order
    oi = cols.index(col)
    fw_keys = [r[oi] for r in fw]
    dk_keys = [r[oi] for r in dk]
    if fw_keys != dk_keys:
        first = next(i for i, (a, b) in enumerate(zip(fw_keys, dk_keys)) if a != b)
        return "sort values differ from row %d: flowwatch %r, DuckDB %r" % (
            first + 1, fw_keys[first:first + 3], dk_keys[first:first + 3])
    # Rows tied with the last one may be any of the tied rows: compare the others.
    boundary = fw_keys[-1]
    return multiset_diff([r for r in fw if r[oi] != boundary],
                         [r for r in dk if r[oi] != boundary], unknown_note)


def multiset_diff(a, b, note=""):
    ca, cb = collections.Counter(a), collections.Counter(b)
    if ca == cb:
        return None
    only_a = list((ca - cb).elements())[:3]
    only_b = list((cb - ca).elements())[:3]
    return "rows differ%s: only in flowwatch %r; only in DuckDB %r" % (note, only_a, only_b)


# ------------------------------------------------------------------ store facts

def store_facts(data_dir):
    files = 0
    size = 0
    parts = set()
    groups = set()
    gdir = os.path.join(data_dir, "groups")
    for root, _dirs, names in os.walk(gdir):
        for n in names:
            if n.endswith(".parquet") and not n.startswith((".", "_")):
                files += 1
                size += os.path.getsize(os.path.join(root, n))
                rel = os.path.relpath(root, gdir)
                parts.add(rel)
                groups.add(rel.split(os.sep)[0])
    total = 0
    for root, _dirs, names in os.walk(data_dir):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(root, n))
            except OSError:
                pass
    return {"parquet_files": files, "parquet_bytes": size, "partitions": len(parts),
            "groups": len(groups), "data_dir_bytes": total}


# ------------------------------------------------------------------ main

def median(xs):
    return statistics.median(xs) if xs else None


def fmt(x, f):
    return f % x if x is not None else "–"


def human(n):
    return "{:,.0f}".format(n)


def md_code(s):
    """Text as inline code inside a Markdown table cell."""
    return "`" + s.replace("|", "\\|") + "`"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="flowwatch binary")
    ap.add_argument("--data-dir", required=True, help="flowwatch store to query")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--work", required=True, help="directory for per-run files")
    ap.add_argument("--dataset", help="JSON with data-set facts (generator, ingest)")
    ap.add_argument("--cmdline", default="scripts/bench-query")
    ap.add_argument("--bin-label", default="")
    ap.add_argument("--git", default="")
    a = ap.parse_args()

    cases = CASES
    if a.cases:
        want = [c.strip() for c in a.cases.split(",") if c.strip()]
        names = {c["name"] for c in CASES}
        bad = [w for w in want if w not in names]
        if bad:
            print("error: unknown case(s) %s; known: %s" % (bad, ", ".join(sorted(names))),
                  file=sys.stderr)
            return 2
        cases = [c for c in CASES if c["name"] in want]
    os.makedirs(a.work, exist_ok=True)
    data_dir = os.path.abspath(a.data_dir)
    load_before = loadavg()
    t_start = time.time()

    results = []
    for case in cases:
        name = case["name"]
        fw_cmd = [a.bin, "--data-dir", data_dir, "query", "-o", "cloudwatch"]
        if case.get("start"):
            fw_cmd += ["--start", case["start"]]
        if case.get("end"):
            fw_cmd += ["--end", case["end"]]
        fw_cmd.append(case["insights"])
        dk_cmd = [sys.executable, os.path.join(HERE, "bench_query_duckdb.py"),
                  "--data-dir", data_dir, "--case", name]
        r = {"case": case, "fw_wall": [], "fw_rss": [], "dk_in": [], "dk_wall": [],
             "dk_rss": [], "fw_doc": None, "dk_doc": None, "fw_error": None,
             "dk_error": None}
        for i in range(a.runs):
            if r["fw_error"] is None:
                tf = os.path.join(a.work, "%s.fw.%d.time" % (name, i))
                wall, rc, out, err = timed(fw_cmd, tf, a.timeout)
                if rc != 0:
                    r["fw_error"] = ("TIMEOUT after %.0f s" % wall if rc == "timeout"
                                     else "exit %s: %s" % (rc, err.decode(errors="replace")
                                                           .strip()[-600:]))
                    log("%s: flowwatch FAILED (%s)" % (name, r["fw_error"]))
                else:
                    try:
                        doc = json.loads(out)
                    except ValueError as e:
                        r["fw_error"] = "unreadable output: %s" % e
                        continue
                    r["fw_wall"].append(wall)
                    r["fw_rss"].append(max_rss_mib(tf))
                    r["fw_doc"] = doc
                    log("%s: flowwatch run %d: %.3f s, %d rows" % (
                        name, i + 1, wall, len(doc.get("results", []))))
            if r["dk_error"] is None:
                tf = os.path.join(a.work, "%s.duckdb.%d.time" % (name, i))
                wall, rc, out, err = timed(dk_cmd, tf, a.timeout)
                if rc != 0:
                    r["dk_error"] = ("TIMEOUT after %.0f s" % wall if rc == "timeout"
                                     else "exit %s: %s" % (rc, err.decode(errors="replace")
                                                           .strip()[-600:]))
                    log("%s: DuckDB FAILED (%s)" % (name, r["dk_error"]))
                else:
                    doc = json.loads(out)
                    r["dk_in"].append(doc["elapsed_secs"])
                    r["dk_wall"].append(wall)
                    r["dk_rss"].append(max_rss_mib(tf))
                    r["dk_doc"] = doc
                    log("%s: DuckDB run %d: %.3f s in process (%.3f s process), %d rows" % (
                        name, i + 1, doc["elapsed_secs"], wall, len(doc["rows"])))
        if r["fw_doc"] is not None and r["dk_doc"] is not None:
            r["mismatch"] = compare(case, r["fw_doc"], r["dk_doc"])
            if r["mismatch"]:
                log("!!!!!!!! MISMATCH in %s: %s" % (name, r["mismatch"]))
                print("MISMATCH: %s: %s" % (name, r["mismatch"]), file=sys.stderr)
        else:
            r["mismatch"] = "not compared (a run failed)"
        with open(os.path.join(a.work, name + ".answers.json"), "w") as fh:
            json.dump({"flowwatch": r["fw_doc"], "duckdb": r["dk_doc"]}, fh)
        results.append(r)

    load_after = loadavg()
    elapsed = time.time() - t_start

    # ---------------------------------------------------------------- report
    ds = {}
    if a.dataset:
        try:
            ds = json.load(open(a.dataset))
        except (OSError, ValueError):
            ds = {}
    sf = store_facts(data_dir)
    duck_version = next((r["dk_doc"]["duckdb_version"] for r in results if r["dk_doc"]), "?")
    nproc = os.cpu_count()
    today = datetime.date.today().isoformat()
    gen = ds.get("generator", {})
    ing = ds.get("ingest", {})
    records = gen.get("records")

    print("## Query: %s records, %d queries (%s, git %s)" % (
        human(records) if records else "?", len(cases), today, a.git or "?"))
    print()
    print("- command: `%s`" % a.cmdline)
    print("- machine: %d cores, %s; load average before %s, after %s (other work on the "
          "machine shows here)" % (nproc, ds.get("machine", "?"), "/".join(load_before),
                                   "/".join(load_after)))
    print("- versions: `%s`; DuckDB %s (Python), default threads (%d)"
          % (a.bin_label or a.bin, duck_version, nproc))
    if gen:
        print("- data set: %s default-format records in %d S3-layout `.log.gz` objects "
              "(gzip %s bytes, text %s bytes) over 2024-05-25, 5-minute objects, "
              "%d ENIs; %sgenerated by `scripts/bench_ingest_gen.py`"
              % (human(gen["records"]), gen["files"], human(gen["gzip_bytes"]),
                 human(gen["text_bytes"]), 2000, "cached, " if gen.get("cached") else ""))
    line = ("- store: one log group, %d Parquet files in %d hour partitions, %s bytes "
            "(%.1f B/record)" % (sf["parquet_files"], sf["partitions"],
                                 human(sf["parquet_bytes"]),
                                 sf["parquet_bytes"] / records if records else 0))
    if ing:
        line += "; ingested in %.1f s (peak RSS %s MiB) by %s" % (
            ing.get("wall_secs", 0), fmt(ing.get("rss_mib"), "%.0f"), ing.get("binary", "?"))
    print(line)
    print("- each query %d times, alternating engines; warm page cache; times are medians. "
          "flowwatch: wall time around `flowwatch query -o cloudwatch` (process start to "
          "exit). DuckDB: in-process time of execute + fetchall on a fresh connection over "
          "`read_parquet('<data-dir>/groups/*/**/*.parquet', hive_partitioning=true)`. "
          "Ratio = flowwatch / DuckDB (above 1: flowwatch is slower). Peak RSS from "
          "`/usr/bin/time -v` (DuckDB's includes the Python interpreter, ~40 MiB)." % a.runs)
    print()
    print("| query | flowwatch s | DuckDB s | ratio | rows | records scanned | bytes scanned "
          "| flowwatch peak RSS MiB | DuckDB peak RSS MiB | same answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    ratios = []
    problems = []
    for r in results:
        c = r["case"]
        fw_m = median(r["fw_wall"])
        dk_m = median(r["dk_in"])
        ratio = fw_m / dk_m if fw_m is not None and dk_m else None
        if ratio is not None and not r["fw_error"] and not r["dk_error"]:
            ratios.append(ratio)
        st = (r["fw_doc"] or {}).get("statistics", {})
        rows = len((r["fw_doc"] or {}).get("results", [])) if r["fw_doc"] else None
        fw_rss = max([x for x in r["fw_rss"] if x is not None], default=None)
        dk_rss = max([x for x in r["dk_rss"] if x is not None], default=None)
        same = "yes" if not r["mismatch"] else (
            "**MISMATCH**" if r["fw_doc"] is not None and r["dk_doc"] is not None else "–")
        fw_cell = fmt(fw_m, "%.2f") if not r["fw_error"] else "**FAILED**"
        dk_cell = fmt(dk_m, "%.2f") if not r["dk_error"] else "**FAILED**"
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c["name"], fw_cell, dk_cell, fmt(ratio, "%.2f"),
            human(rows) if rows is not None else "–",
            human(st["recordsScanned"]) if "recordsScanned" in st else "–",
            human(st["bytesScanned"]) if "bytesScanned" in st else "–",
            fmt(fw_rss, "%.0f"), fmt(dk_rss, "%.0f"), same))
        if r["fw_error"]:
            problems.append("%s: flowwatch %s" % (c["name"], r["fw_error"]))
        if r["dk_error"]:
            problems.append("%s: DuckDB %s" % (c["name"], r["dk_error"]))
        if r["mismatch"] and r["fw_doc"] is not None and r["dk_doc"] is not None:
            problems.append("MISMATCH in %s: %s" % (c["name"], r["mismatch"]))
    print()
    all_rss = [x for r in results for x in r["fw_rss"] if x is not None]
    if ratios:
        gm = 1.0
        for x in ratios:
            gm *= x
        gm **= 1.0 / len(ratios)
        print("**Median ratio (flowwatch / DuckDB): %.2f** over %d queries (geometric mean "
              "%.2f; best %.2f, worst %.2f). flowwatch peak RSS: %s MiB at most."
              % (median(ratios), len(ratios), gm, min(ratios), max(ratios),
                 fmt(max(all_rss) if all_rss else None, "%.0f")))
    else:
        print("**Median ratio: n/a** (no query succeeded in both engines)")
    print()
    print("Queries (Logs Insights as run by flowwatch; the DuckDB SQL is in "
          "`scripts/bench_query_cases.py`):")
    print()
    print("| query | what | Logs Insights |")
    print("|---|---|---|")
    for r in results:
        c = r["case"]
        q = c["insights"]
        if c.get("start"):
            q = "--start %s --end %s '%s'" % (c["start"], c["end"], q)
        print("| %s | %s | %s |" % (c["name"], c["what"], md_code(q)))
    print()
    print("Runs (s): flowwatch wall; DuckDB in-process / around its process:")
    print()
    for r in results:
        print("- %s: flowwatch %s; DuckDB %s / %s" % (
            r["case"]["name"], ", ".join("%.2f" % x for x in r["fw_wall"]) or "–",
            ", ".join("%.2f" % x for x in r["dk_in"]) or "–",
            ", ".join("%.2f" % x for x in r["dk_wall"]) or "–"))
    print()
    print("Benchmark took %.0f s." % elapsed)
    if problems:
        print()
        for p in problems:
            print("- **problem**: " + p)
        for p in problems:
            log(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
