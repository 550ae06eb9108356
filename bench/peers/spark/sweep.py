"""
Spark batch peer of sluice's default sweep: spark.read.text -> regex -> broadcast join with the
feed -> JSON alerts; lines that are not squid native -> JSON rejects.

Usage: python sweep.py --logs FILE --feed FILE --alerts DIR --rejects DIR
Spark writes directories of part files (`part-*.json`); one JSON summary line goes to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    for a in ("logs", "feed", "alerts", "rejects"):
        ap.add_argument(f"--{a}", required=True)
    args = ap.parse_args()
    t0 = time.time()
    spark = common.spark_session("sluice-peer-spark-batch")
    feed = common.load_feed(spark, args.feed)
    lens4, lens6 = common.prefix_lengths(feed)
    t_feed = time.time()
    lines = spark.read.text(args.logs)
    common.alerts(common.parse(lines), feed, lens4, lens6).write.mode("overwrite").json(args.alerts)
    common.rejects(lines).write.mode("overwrite").json(args.rejects)
    spark.stop()
    print(json.dumps({"feedS": round(t_feed - t0, 2), "totalS": round(time.time() - t0, 2), "lens4": lens4, "lens6": lens6}))


if __name__ == "__main__":
    main()
