"""
Spark Structured Streaming peer of sluice's sweep: the replaced system read a stream, so this
reads a directory of log files as a stream (`readStream.text`, one file per micro-batch), runs
the same sweep as the batch job on each micro-batch (`foreachBatch`, the feed loaded and cached
once and broadcast to every batch), and appends JSON alerts and rejects. It stops once every file
present at the start is processed (`trigger(availableNow=True)`), so it can be timed; time to
first alert is when the first micro-batch's alerts are committed.

Usage: python stream.py --logs-dir DIR --feed FILE --alerts DIR --rejects DIR --checkpoint DIR
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
    for a in ("logs-dir", "feed", "alerts", "rejects", "checkpoint"):
        ap.add_argument(f"--{a}", required=True)
    ap.add_argument("--files-per-batch", type=int, default=1)
    args = ap.parse_args()
    t0 = time.time()
    spark = common.spark_session("sluice-peer-spark-stream")
    feed = common.load_feed(spark, args.feed)
    lens4, lens6 = common.prefix_lengths(feed)
    t_feed = time.time()
    batches = []

    def sweep_batch(df, batch_id: int) -> None:
        df.persist()
        common.alerts(common.parse(df), feed, lens4, lens6).write.mode("append").json(args.alerts)
        common.rejects(df).write.mode("append").json(args.rejects)
        df.unpersist()
        batches.append(round(time.time() - t0, 2))

    query = (
        spark.readStream.option("maxFilesPerTrigger", args.files_per_batch).text(args.logs_dir)
        .writeStream.foreachBatch(sweep_batch)
        .option("checkpointLocation", args.checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    spark.stop()
    print(json.dumps({"feedS": round(t_feed - t0, 2), "totalS": round(time.time() - t0, 2), "batchesDoneAtS": batches}))


if __name__ == "__main__":
    main()
