"""The queries of scripts/bench-query: each a Logs Insights query for flowwatch, DuckDB SQL that
answers the same question over the same Parquet files, and how to compare the two answers.

The data set is scripts/bench_ingest_gen.py's: default-format (v2) records over 2024-05-25
(UTC), 2,000 ENIs with addresses in 10.0-3.x.y, remote addresses ~70 % public.

Comparison (see bench_query_run.compare):
  order  the column the query sorts on and whether descending (None: the result is unordered
         as far as the comparison goes; the whole result is compared as a multiset)
  limit  the query's row limit; rows tied with the last row's sort value may legitimately
         differ between engines, so only their number is compared
  cols   the columns compared (default: all); leave out columns whose value is chosen among
         ties (e.g. the other fields of the record `dedup` keeps)
  ts     columns holding timestamps (flowwatch prints `YYYY-MM-DD HH:MM:SS.mmm`, the SQL
         returns epoch milliseconds)
"""

# `@message` for records whose text was not stored: the default format rebuilt field by field,
# `-` for missing values (what flowwatch's rebuild_messages does for this data set).
_DEFAULT_FIELDS = ["version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport",
                   "dstport", "protocol", "packets", "bytes", "start", '"end"', "action",
                   "log_status"]
MESSAGE_SQL = "coalesce(message, concat_ws(' ', %s))" % ", ".join(
    "coalesce(CAST(%s AS VARCHAR), '-')" % c for c in _DEFAULT_FIELDS)

PARSE_NAMES = ["v", "acct", "eni", "src", "dst", "sp", "dp", "proto", "pk", "nb", "st", "en",
               "act", "status"]
# flowwatch turns the glob into `(?s)(.*?) (.*?) … (.*)` (unanchored; the leftmost match
# starts at 0, so anchoring changes nothing).
PARSE_REGEX = "(?s)^" + " ".join(["(.*?)"] * 13) + " (.*)"

# The narrow time range: one hour of the 24.
HOUR_START = "2024-05-25T12:00:00Z"
HOUR_END = "2024-05-25T13:00:00Z"

CASES = [
    {
        "name": "scan-agg",
        "what": "full scan, 4 groups: count, packets and bytes by action and log status",
        "insights": "stats count(*) as n, sum(packets) as p, sum(bytes) as b by action, logStatus",
        "sql": """
            SELECT action, log_status AS "logStatus", count(*) AS n, sum(packets) AS p,
                   sum(bytes) AS b
            FROM flows GROUP BY ALL""",
        "order": None,
    },
    {
        "name": "top-talkers",
        "what": "top talkers by bytes (high-cardinality group by address pair)",
        "insights": "stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10",
        "sql": """
            SELECT srcaddr AS "srcAddr", dstaddr AS "dstAddr", sum(bytes) AS b
            FROM flows GROUP BY ALL ORDER BY b DESC NULLS LAST LIMIT 10""",
        "order": ("b", True), "limit": 10,
    },
    {
        "name": "rejects-by-port",
        "what": "rejected connections by destination port",
        "insights": 'filter action="REJECT" | stats count(*) as n by dstPort | sort n desc | limit 10',
        "sql": """
            SELECT dstport AS "dstPort", count(*) AS n
            FROM flows WHERE action = 'REJECT' GROUP BY ALL ORDER BY n DESC LIMIT 10""",
        "order": ("n", True), "limit": 10,
    },
    {
        "name": "rejects-5m",
        "what": "rejections per 5-minute bin over the day",
        "insights": 'filter action="REJECT" | stats count(*) by bin(5m)',
        "sql": """
            SELECT (epoch_ms("timestamp") // 300000) * 300000 AS "bin(5m)", count(*) AS "count(*)"
            FROM flows WHERE action = 'REJECT' GROUP BY 1""",
        "order": None, "ts": ["bin(5m)"],
    },
    {
        "name": "distinct-src-per-eni",
        "what": "distinct source addresses per ENI (exact count_distinct, 2,000 groups)",
        "insights": "stats count_distinct(srcAddr) by interfaceId",
        "sql": """
            SELECT interface_id AS "interfaceId", count(DISTINCT srcaddr) AS "count_distinct(srcAddr)"
            FROM flows GROUP BY ALL""",
        "order": None,
    },
    {
        "name": "subnet-egress",
        "what": "bytes from 10.0.0.0/8 to outside it, top sources",
        "insights": ('filter isIpv4InSubnet(srcAddr, "10.0.0.0/8") and '
                     'not isIpv4InSubnet(dstAddr, "10.0.0.0/8") '
                     "| stats sum(bytes) as b by srcAddr | sort b desc | limit 10"),
        # Addresses are stored validated and canonical, so a prefix test is exact for a /8.
        "sql": """
            SELECT srcaddr AS "srcAddr", sum(bytes) AS b
            FROM flows
            WHERE starts_with(srcaddr, '10.') AND NOT coalesce(starts_with(dstaddr, '10.'), false)
            GROUP BY ALL ORDER BY b DESC NULLS LAST LIMIT 10""",
        "order": ("b", True), "limit": 10,
    },
    {
        "name": "parse-filter",
        "what": "rejections, then parse their @message (14 fields) and filter on a parsed field",
        "insights": ('filter action="REJECT" | parse @message "* * * * * * * * * * * * * *" as '
                     + ", ".join(PARSE_NAMES)
                     + ' | filter dp = "22" | stats count(*) as n by src | sort n desc | limit 10'),
        # The same work: rebuild the line of each rejected record, run the same regex, filter
        # on a capture.
        "sql": """
            WITH m AS (
              SELECT regexp_extract(%s, '%s', [%s]) AS p FROM flows WHERE action = 'REJECT')
            SELECT p.src AS src, count(*) AS n FROM m
            WHERE p.dp = '22'
            GROUP BY ALL ORDER BY n DESC LIMIT 10""" % (
            MESSAGE_SQL, PARSE_REGEX, ", ".join("'%s'" % n for n in PARSE_NAMES)),
        "order": ("n", True), "limit": 10,
    },
    {
        "name": "dedup",
        "what": "latest rejection from each source address (dedup over 5 % of the rows)",
        "insights": ('filter action="REJECT" | fields @timestamp, srcAddr, dstAddr, dstPort '
                     "| dedup srcAddr | limit 100"),
        # flowwatch keeps every row whose dedup key is missing; none is here (REJECT rows
        # always have addresses), the OR keeps the SQL exact anyway.
        "sql": """
            SELECT epoch_ms("timestamp") AS "@timestamp", srcaddr AS "srcAddr",
                   dstaddr AS "dstAddr", dstport AS "dstPort"
            FROM flows WHERE action = 'REJECT'
            QUALIFY row_number() OVER (PARTITION BY srcaddr ORDER BY "timestamp" DESC) = 1
                    OR srcaddr IS NULL
            ORDER BY "timestamp" DESC LIMIT 100""",
        # Which record of a source is kept among those at its latest second is arbitrary.
        "order": ("@timestamp", True), "limit": 100, "cols": ["@timestamp", "srcAddr"],
        "ts": ["@timestamp"],
    },
    {
        "name": "narrow-1h",
        "what": "top talkers in one hour of the 24 (--start/--end: partition pruning)",
        "insights": "stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10",
        "start": HOUR_START, "end": HOUR_END,
        # The hour partition and the exact range, as a DuckDB user would write it.
        "sql": """
            SELECT srcaddr AS "srcAddr", dstaddr AS "dstAddr", sum(bytes) AS b
            FROM flows
            WHERE year = 2024 AND month = 5 AND day = 25 AND hour = 12
              AND "timestamp" >= TIMESTAMPTZ '2024-05-25 12:00:00+00'
              AND "timestamp" < TIMESTAMPTZ '2024-05-25 13:00:00+00'
            GROUP BY ALL ORDER BY b DESC NULLS LAST LIMIT 10""",
        "order": ("b", True), "limit": 10,
    },
    {
        "name": "recent-20",
        "what": "the console's default: 20 newest events with @message (top-k sort)",
        "insights": "fields @timestamp, @message | sort @timestamp desc | limit 20",
        "sql": """
            SELECT epoch_ms("timestamp") AS "@timestamp", %s AS "@message"
            FROM flows ORDER BY "timestamp" DESC LIMIT 20""" % MESSAGE_SQL,
        "order": ("@timestamp", True), "limit": 20, "ts": ["@timestamp"],
    },
]

BY_NAME = {c["name"]: c for c in CASES}
