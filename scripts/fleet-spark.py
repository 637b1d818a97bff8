#!/usr/bin/env python3
"""docs/fleet.md's first question with PySpark: which clusters and hosts send or receive NFC over
vmk0. The same Parquet files DuckDB reads; on a cluster DIR would be an object store URL
(s3a://bucket/vmkflow). Needs pyspark (and Java).

    python3 scripts/fleet-spark.py DIR [CLUSTERS.csv]
"""

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

d = sys.argv[1] if len(sys.argv) > 1 else "fleet"
clusters_csv = sys.argv[2] if len(sys.argv) > 2 else "clusters.csv"
spark = SparkSession.builder.appName("vmkflow-fleet").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")

# Spark discovers the capture=<id> partitions from the directory names.
flows = spark.read.option("basePath", f"{d}/flows").parquet(f"{d}/flows")
clusters = spark.read.option("header", True).csv(clusters_csv)
ends = flows.select(
    "class", F.col("client_host").alias("host"), F.col("client_vmk").alias("vmk"), "payload_bytes"
).unionByName(
    flows.select(
        "class", F.col("server_host").alias("host"), F.col("server_vmk").alias("vmk"), "payload_bytes"
    )
)
(
    ends.where((F.col("class") == "nfc") & (F.col("vmk") == "vmk0"))
    .join(clusters, "host")
    .groupBy("cluster", "host")
    .agg(F.count("*").alias("nfc_flows"), F.sum("payload_bytes").alias("nfc_bytes"))
    .orderBy("cluster", "host")
    .show()
)
spark.stop()
