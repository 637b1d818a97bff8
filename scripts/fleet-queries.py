#!/usr/bin/env python3
"""The DuckDB queries of docs/fleet.md over a vmkflow Parquet dataset.

    python3 scripts/fleet-queries.py DIR [CLUSTERS.csv]

DIR is what `vmkflow analyze ... --parquet DIR` wrote for many captures; CLUSTERS.csv maps host
names to clusters (columns host,cluster), as `scripts/fleet-demo.sh` writes it. Needs the
`duckdb` package (pip install duckdb).
"""

import sys

import duckdb

d = sys.argv[1] if len(sys.argv) > 1 else "fleet"
clusters = sys.argv[2] if len(sys.argv) > 2 else "clusters.csv"
db = duckdb.connect()
for table in ["captures", "flows", "series", "migrations", "verdicts"]:
    db.execute(
        f"""CREATE VIEW {table} AS SELECT * FROM read_parquet('{d}/{table}/*/*.parquet',
            hive_partitioning = true, hive_types = {{'capture': VARCHAR}})"""
    )
db.execute(f"CREATE VIEW clusters AS SELECT * FROM read_csv('{clusters}')")

QUERIES = {
    "Which clusters and hosts send or receive NFC over vmk0?": """
        WITH ends AS (
            SELECT class, client_host AS host, client_vmk AS vmk, payload_bytes FROM flows
            UNION ALL
            SELECT class, server_host, server_vmk, payload_bytes FROM flows)
        SELECT cluster, host, count(*) AS nfc_flows, sum(payload_bytes) AS nfc_bytes
        FROM ends JOIN clusters USING (host)
        WHERE class = 'nfc' AND vmk = 'vmk0'
        GROUP BY ALL ORDER BY cluster, host""",
    "Payload bytes per network and class, whole fleet": """
        SELECT network, class, sum(payload_bytes) AS payload_bytes
        FROM series
        GROUP BY ALL ORDER BY network, payload_bytes DESC""",
    "Busiest second on the vMotion network, per capture": """
        SELECT capture, max(payload_bytes) AS peak_bytes_per_s,
               arg_max(second, payload_bytes) AS at
        FROM (SELECT capture, second, sum(payload_bytes) AS payload_bytes
              FROM series WHERE network = 'vmotion' AND second IS NOT NULL GROUP BY ALL)
        GROUP BY ALL ORDER BY peak_bytes_per_s DESC""",
    "Migrations whose verdict failed (a row contradicted), per claim set": """
        SELECT cluster, m.capture, m.migration, m.kind, m.state, v.claim_set,
               list(DISTINCT v.claim_row ORDER BY v.claim_row) AS contradicted_rows
        FROM migrations m
        JOIN verdicts v USING (capture, migration)
        JOIN clusters c ON c.host = m.source_host
        WHERE v.row_verdict = 'contradicted'
        GROUP BY ALL ORDER BY ALL""",
    "Where each cluster's cold migrations sent their data": """
        SELECT cluster, kind, state, network, sum(bytes) AS payload_bytes
        FROM (SELECT source_host, kind, state, unnest(map_keys(payload_bytes_by_network)) AS network,
                     unnest(map_values(payload_bytes_by_network)) AS bytes
              FROM migrations WHERE state = 'cold') m
        JOIN clusters c ON c.host = m.source_host
        GROUP BY ALL ORDER BY ALL""",
}

for title, sql in QUERIES.items():
    print(f"-- {title}")
    db.sql(sql).show(max_width=200)
    print()
