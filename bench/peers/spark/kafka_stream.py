"""
Spark Structured Streaming peer of sluice's Kafka sweep (bench/pipelines/kafka-sweep.yaml): the
replaced system's shape - a topic of proxy lines, micro-batches, alerts to a topic.

    readStream.format("kafka") (the topic, from the earliest offset)
      -> foreachBatch: the same parse + sweep as the batch job (common.py), against the feed loaded
         and cached once when the job starts
      -> alerts as JSON to the alerts topic, rejects as JSON to the rejects topic (write.format("kafka"))

Each alert and reject carries `origin` {topic, partition, offset} of its message, as sluice's do, so
the bench can check that both raised the same alerts for the same messages.

Why foreachBatch and not `writeStream.format("kafka")` straight from the stream: the sweep groups a
line's hits back into one alert (a groupBy after the broadcast join), and a streaming aggregation in
append mode needs an event-time watermark and holds results back until the watermark passes, which
is the opposite of fast detection; and there are two outputs from one read of the topic. Spark's
documented answer to both is foreachBatch with the batch writer, which is what this does (the
micro-batch's rows are persisted so that alerts and rejects read the topic once).

Triggers (--trigger):
  default          a new micro-batch as soon as the previous one ends: Spark's lowest latency in
                   micro-batch mode, what a team minimising time to detection runs;
  processing-time:MS  one micro-batch every MS ms (Spark's usual production setting);
  available-now    everything in the topic now, then stop (the throughput run).
(Continuous processing does not support aggregations or foreachBatch, so it cannot run this sweep.)

Usage: python kafka_stream.py --brokers B --topic T --feed FILE --alerts-topic T --rejects-topic T
                              --checkpoint DIR --jars JAR,JAR,... [--trigger default|processing-time:500|available-now]
One JSON summary line goes to stdout at the end (available-now); one line per micro-batch to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

CARRY = ("origin",)


def main() -> None:
    ap = argparse.ArgumentParser()
    for a in ("brokers", "topic", "feed", "alerts-topic", "rejects-topic", "checkpoint", "jars"):
        ap.add_argument(f"--{a}", required=True)
    ap.add_argument("--trigger", default="default")
    ap.add_argument("--starting-offsets", default="earliest")
    args = ap.parse_args()
    t0 = time.time()
    spark = common.spark_session("sluice-peer-spark-kafka", jars=args.jars)
    feed = common.load_feed(spark, args.feed)
    lens4, lens6 = common.prefix_lengths(feed)
    t_feed = time.time()
    print(f"spark-kafka: feed loaded in {t_feed - t0:.1f} s", file=sys.stderr, flush=True)
    batches: list[dict] = []

    def to_kafka(df, topic: str, key=None) -> None:
        out = df.select(*([key.alias("key")] if key is not None else []), F.to_json(F.struct("*")).alias("value"))
        out.write.format("kafka").option("kafka.bootstrap.servers", args.brokers).option("topic", topic).save()

    def sweep_batch(df, batch_id: int) -> None:
        t = time.time()
        lines = df.select(
            F.col("value").cast("string").alias("value"),
            F.struct("topic", "partition", F.col("offset").cast("string").alias("offset")).alias("origin"),
        ).persist()
        n = lines.count()
        if n:
            alerts = common.alerts(common.parse(lines, CARRY), feed, lens4, lens6, carry=CARRY)
            to_kafka(alerts, args.alerts_topic, key=F.col("source.ip"))
            to_kafka(common.rejects(lines, CARRY), args.rejects_topic)
        lines.unpersist()
        b = {"batch": batch_id, "rows": n, "s": round(time.time() - t, 3), "endS": round(time.time() - t0, 2)}
        batches.append(b)
        print(f"spark-kafka: {json.dumps(b)}", file=sys.stderr, flush=True)

    stream = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("subscribe", args.topic)
        .option("startingOffsets", args.starting_offsets)
        .load()
    )
    writer = stream.writeStream.foreachBatch(sweep_batch).option("checkpointLocation", args.checkpoint)
    if args.trigger == "available-now":
        writer = writer.trigger(availableNow=True)
    elif args.trigger.startswith("processing-time:"):
        writer = writer.trigger(processingTime=f"{int(args.trigger.split(':', 1)[1])} milliseconds")
    elif args.trigger != "default":
        raise SystemExit(f"unknown --trigger {args.trigger!r}")
    query = writer.start()
    print("spark-kafka: streaming", file=sys.stderr, flush=True)
    query.awaitTermination()
    spark.stop()
    rows = sum(b["rows"] for b in batches)
    print(json.dumps({"feedS": round(t_feed - t0, 2), "totalS": round(time.time() - t0, 2), "rows": rows, "batches": batches}))


if __name__ == "__main__":
    main()
