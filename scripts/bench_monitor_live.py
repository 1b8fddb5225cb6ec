#!/usr/bin/env python3
"""Live-mode latency for scripts/bench-monitor: from a flow-log file appearing in a watched
folder (atomic rename, as sync tools do) to the webhook call of the alarm it raises.

Starts a loopback webhook receiver, `flowwatch watch INBOX --monitor M --interval I`, then
drops N files one after another, each with rejected connections to a different port so that
each raises a different alarm (an alarm already in ALARM would not notify again). Prints one
JSON object: the latencies (seconds), their median and maximum.

Usage: bench_monitor_live.py --bin FLOWWATCH [--files 5] [--interval 0.2] [--work DIR]
"""

import argparse
import http.server
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PORTS = [22, 23, 3389, 445, 1433, 5432, 6379, 9200, 27017, 11211]
HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
          "bytes start end action log-status\n")


def definitions(port, n):
    filters, alarms = [], []
    for i in range(n):
        p = PORTS[i % len(PORTS)]
        filters.append({
            "filterName": f"Rejected{p}",
            "logGroupName": "live",
            "filterPattern": ("[version, account, eni, source, destination, srcport, "
                              f"destport = {p}, protocol = 6, packets, bytes, windowstart, "
                              "windowend, action = REJECT, flowlogstatus]"),
            "metricTransformations": [{"metricName": f"Rejected{p}",
                                       "metricNamespace": "Bench", "metricValue": "1"}],
        })
        alarms.append({
            "AlarmName": f"scan-{p}", "MetricName": f"Rejected{p}", "Namespace": "Bench",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 10,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:bench"],
        })
    return {
        "metricFilters": filters,
        "MetricAlarms": alarms,
        "NotificationTargets": [{
            "Arn": "arn:aws:sns:us-east-1:123456789012:bench",
            "Webhook": {"Url": f"http://127.0.0.1:{port}/hook"},
        }],
    }


def flow_text(port, rejects, noise):
    now = int(time.time())
    start, end = now - 90, now - 80
    lines = [HEADER]
    for i in range(rejects):
        lines.append(f"2 123456789012 eni-0a1b2c3d 198.51.100.{i % 250} 10.0.1.5 "
                     f"{40000 + i} {port} 6 1 40 {start} {end} REJECT OK\n")
    for i in range(noise):
        lines.append(f"2 123456789012 eni-0a1b2c3d 10.0.1.5 203.0.113.{i % 250} 443 "
                     f"{50000 + i % 10000} 6 10 8000 {start} {end} ACCEPT OK\n")
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--noise", type=int, default=20000,
                    help="ACCEPT records per file besides the rejections")
    ap.add_argument("--work")
    args = ap.parse_args()

    arrivals = {}
    cond = threading.Condition()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            t = time.time()
            try:
                name = json.loads(body).get("AlarmName")
            except ValueError:
                name = None
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            with cond:
                arrivals.setdefault(name, t)
                cond.notify_all()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    work = args.work or tempfile.mkdtemp(prefix="fw-live-")
    shutil.rmtree(work, ignore_errors=True)
    inbox, data = os.path.join(work, "inbox"), os.path.join(work, "data")
    os.makedirs(inbox)
    monitor = os.path.join(work, "monitor.json")
    with open(monitor, "w") as f:
        json.dump(definitions(port, args.files), f)
    watch = subprocess.Popen(
        [args.bin, "--data-dir", data, "watch", inbox, "--log-group", "live",
         "--monitor", monitor, "--interval", f"{int(args.interval * 1000)}ms", "--quiet"],
        stderr=subprocess.PIPE, text=True)
    time.sleep(max(1.0, 3 * args.interval))  # let it start and evaluate once (OK)
    latencies = []
    try:
        for i in range(args.files):
            p = PORTS[i % len(PORTS)]
            text = flow_text(p, 20, args.noise)
            tmp = os.path.join(inbox, f".flows-{i}.log")
            with open(tmp, "w") as f:
                f.write(text)
            dropped = time.time()
            os.rename(tmp, os.path.join(inbox, f"flows-{i}.log"))
            name = f"scan-{p}"
            with cond:
                cond.wait_for(lambda: name in arrivals, timeout=30)
            if name not in arrivals:
                print(f"no notification for {name} within 30 s", file=sys.stderr)
                continue
            latencies.append(arrivals[name] - dropped)
            print(f"[bench-monitor] live: file {i + 1}/{args.files} -> webhook in "
                  f"{latencies[-1]:.3f} s", file=sys.stderr)
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            _, err = watch.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            watch.kill()
            _, err = watch.communicate()
        server.shutdown()
    if watch.returncode != 0:
        print(f"flowwatch watch exited {watch.returncode}: {err}", file=sys.stderr)
    print(json.dumps({
        "files": args.files,
        "records_per_file": 20 + args.noise,
        "interval_secs": args.interval,
        "latencies": latencies,
        "median": statistics.median(latencies) if latencies else None,
        "max": max(latencies) if latencies else None,
        "watch_exit": watch.returncode,
    }))
    return 0 if len(latencies) == args.files else 1


if __name__ == "__main__":
    sys.exit(main())
