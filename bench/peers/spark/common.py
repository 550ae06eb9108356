"""
The sweep as a Spark user writes it, shared by the batch job (sweep.py) and the Structured
Streaming job (stream.py): built-in SQL functions only (no Python UDF, so no Python worker per
task), a regex for the squid native line, and ONE broadcast hash join of the log's "atoms" against
the feed.

Semantics follow sluice's ioc-sweep (DESIGN.md section 6) on what squid native logs hold:

- a line that does not match the squid native regex is a reject (sluice: fewer than 10 fields);
- the URL host (URL or CONNECT `host:port`; brackets, port and user-info stripped, lower-cased,
  trailing dots stripped) is matched as a domain and every parent domain on a label boundary,
  or, when it is an IP literal, as an address;
- the squid peer of a DIRECT request (`HIER_DIRECT/1.2.3.4`) is matched as destination.ip;
- addresses match exact IPs and CIDR ranges of their family: an address is exploded into one
  key per prefix length present in the feed (`4|24|<ip >> 8>`, IPv6 as a bit string), which is
  the usual Spark answer to a range join against a broadcast table;
- a URL (not CONNECT) is normalised (scheme and host lower-cased, default port dropped,
  user-info and fragment dropped, empty path -> `/`, empty query dropped) and compared whole.

Known differences from sluice, none of which the generated data exercises: no IDN/punycode, no
percent-encoding or dot-segment normalisation of URL paths, no IPv4-mapped IPv6 folding, no
`exact` feeds or allowlists.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

# time elapsed client action/status bytes method url ident hierarchy/peer type
LINE = (
    r"^(\d+\.\d+)\s+(-|\d+)\s+(\S+)\s+([A-Z_]+)/(-|\d{3})\s+(-|\d+)\s+([A-Z_]+)\s+(\S+)\s+(\S+)"
    r"\s+([A-Z_]+)/(\S+)\s+(\S+)$"
)
G_TS, G_CLIENT, G_METHOD, G_URL, G_USER, G_HIER, G_PEER = 1, 3, 7, 8, 9, 10, 11

# scheme://authority path query fragment
URL_RE = r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(\?[^#]*)?"
IPV4_RE = r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"


def spark_session(app: str, jars: str | None = None) -> SparkSession:
    """`local[*]` with Spark's defaults; `jars`: a comma-separated list of jar files for `spark.jars`
    (the Kafka connector, fetched by install.sh)."""
    builder = (
        SparkSession.builder.master("local[*]").appName(app)
        .config("spark.ui.showConsoleProgress", "false")  # a progress bar on stderr, nothing else
    )
    if jars:
        builder = builder.config("spark.jars", jars)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# ----------------------------------------------------------------------------- normalisation

def host_of_authority(auth: Column) -> Column:
    """`user@host:port` / `[v6]:port` -> the host, lower-cased, brackets and trailing dots gone."""
    a = F.regexp_replace(auth, r"^.*@", "")
    h = F.when(a.startswith("["), F.regexp_extract(a, r"^\[([^\]]*)\]", 1)).otherwise(F.regexp_replace(a, r":\d*$", ""))
    return F.regexp_replace(F.lower(h), r"\.+$", "")


def url_key(url: Column) -> Column:
    """The comparison key of a URL with a scheme (null without one)."""
    scheme = F.lower(F.regexp_extract(url, URL_RE, 1))
    auth = F.regexp_replace(F.regexp_extract(url, URL_RE, 2), r"^.*@", "")
    path = F.regexp_extract(url, URL_RE, 3)
    query = F.regexp_extract(url, URL_RE, 4)
    bracket = auth.startswith("[")
    host = F.when(bracket, F.regexp_extract(auth, r"^(\[[^\]]*\])", 1)).otherwise(F.regexp_replace(auth, r":\d*$", ""))
    host = F.regexp_replace(F.lower(host), r"\.+$", "")
    port = F.when(bracket, F.regexp_extract(auth, r"^\[[^\]]*\]:(\d+)$", 1)).otherwise(F.regexp_extract(auth, r":(\d+)$", 1))
    default = ((scheme == "http") & (port == "80")) | ((scheme == "https") & (port == "443")) | (port == "")
    return F.when(
        (scheme != "") & (host != ""),
        F.concat(
            scheme, F.lit("://"), host,
            F.when(default, F.lit("")).otherwise(F.concat(F.lit(":"), port.try_cast("int").cast("string"))),
            F.when(path == "", F.lit("/")).otherwise(path),
            F.when(query == "?", F.lit("")).otherwise(query),
        ),
    )


def ipv4_long(ip: Column) -> Column:
    """A dotted quad as a number (call only where IPV4_RE matched)."""
    return F.aggregate(F.transform(F.split(ip, r"\."), lambda x: x.try_cast("long")), F.lit(0).cast("long"), lambda acc, x: acc * 256 + x)


def ipv6_bits(ip: Column) -> Column:
    """An IPv6 address (lower-case, no brackets) as 128 '0'/'1' characters, or null."""
    head = F.split_part(ip, F.lit("::"), F.lit(1))
    tail = F.split_part(ip, F.lit("::"), F.lit(2))
    split = lambda s: F.when(s == "", F.array().cast("array<string>")).otherwise(F.split(s, ":"))  # noqa: E731
    compressed = ip.contains("::")
    hextets = F.when(
        compressed,
        F.concat(split(head), F.array_repeat(F.lit("0"), 8 - F.size(split(head)) - F.size(split(tail))), split(tail)),
    ).otherwise(F.split(ip, ":"))
    ok = (F.size(hextets) == 8) & F.forall(hextets, lambda h: h.rlike(r"^[0-9a-f]{1,4}$")) & (F.size(F.split(ip, "::")) <= 2)
    bits = F.array_join(F.transform(hextets, lambda h: F.lpad(F.conv(h, 16, 2), 16, "0")), "")
    return F.when(ok, bits)


def ip_keys(n4: Column, bits6: Column, lens4: list[int], lens6: list[int]) -> Column:
    """The lookup keys of an address (its IPv4 number or IPv6 bits, computed once in an earlier
    projection): one key per prefix length of its family in the feed."""
    lit_array = lambda xs: F.array(*[F.lit(x) for x in xs]) if xs else F.array().cast("array<int>")  # noqa: E731
    k4 = F.transform(lit_array(lens4), lambda l: F.concat(F.lit("4|"), l.cast("string"), F.lit("|"), F.call_function("shiftright", n4, 32 - l).cast("string")))
    k6 = F.transform(lit_array(lens6), lambda l: F.concat(F.lit("6|"), l.cast("string"), F.lit("|"), F.call_function("substring", bits6, F.lit(1), l)))
    return F.when(n4.isNotNull(), k4).when(bits6.isNotNull(), k6)


def addr_columns(ip: Column, prefix: str) -> list[Column]:
    """`<prefix>4` (IPv4 as a number) and `<prefix>6` (IPv6 as bits), each null when it is not one."""
    return [
        F.when(ip.rlike(IPV4_RE), ipv4_long(ip)).alias(f"{prefix}4"),
        F.when(ip.contains(":"), ipv6_bits(ip)).alias(f"{prefix}6"),
    ]


def domain_keys(host: Column) -> Column:
    """`a.b.evil.top` -> d|a.b.evil.top, d|b.evil.top, d|evil.top, d|top."""
    labels = F.split(host, r"\.")
    return F.transform(
        F.sequence(F.lit(1), F.size(labels)),
        lambda i: F.concat(F.lit("d|"), F.array_join(F.slice(labels, i, F.size(labels) - i + 1), ".")),
    )


# ----------------------------------------------------------------------------- the feed

def load_feed(spark: SparkSession, path: str) -> DataFrame:
    """The plain-list feed as (key, type, value): one row per indicator, cached (it is broadcast)."""
    raw = spark.read.text(path).select(F.trim("value").alias("v")).where((F.col("v") != "") & ~F.col("v").startswith("#"))
    v = F.col("v")
    lv = F.lower(v)
    kind = F.when(v.contains("://"), "url").when(v.contains("/"), "cidr").when(v.rlike(IPV4_RE) | v.contains(":"), "ip").otherwise("domain")
    # addresses and networks only (a URL or a domain is never parsed as one)
    addr = F.when(kind == "cidr", F.split_part(lv, F.lit("/"), F.lit(1))).when(kind == "ip", lv)
    plen = F.when((kind == "cidr") & v.rlike(r"/\d{1,3}$"), F.regexp_extract(v, r"/(\d{1,3})$", 1).cast("int"))
    # one projection per step, so that each parse is done once per row
    step = raw.select("v", kind.alias("kind"), addr.alias("addr"), plen.alias("plen"))
    step = step.select("*", *addr_columns(F.col("addr"), "a"))
    k, n4, b6, pl = F.col("kind"), F.col("a4"), F.col("a6"), F.col("plen")
    ip_len = F.coalesce(pl, F.when(n4.isNotNull(), F.lit(32)).otherwise(F.lit(128)))
    ip_key = F.when(n4.isNotNull() & ip_len.between(0, 32),
                    F.concat(F.lit("4|"), ip_len.cast("string"), F.lit("|"), F.call_function("shiftright", n4, 32 - ip_len).cast("string"))) \
        .when(b6.isNotNull() & ip_len.between(0, 128),
              F.concat(F.lit("6|"), ip_len.cast("string"), F.lit("|"), F.call_function("substring", b6, F.lit(1), ip_len)))
    dom = F.regexp_replace(F.lower(v), r"\.+$", "")
    ukey = url_key(v)
    key = F.when(k == "url", F.concat(F.lit("u|"), ukey)).when(k == "domain", F.concat(F.lit("d|"), dom)).otherwise(ip_key)
    itype = F.when(k == "url", "url").when(k == "domain", "domain-name").when(n4.isNotNull(), "ipv4-addr").otherwise("ipv6-addr")
    # URLs and domains are their key after `u|` / `d|`: only addresses carry their text (a smaller broadcast)
    ivalue = F.when((k != "url") & (k != "domain"), F.lower(v))
    return step.select(key.alias("key"), itype.alias("itype"), ivalue.alias("ivalue")).where(F.col("key").isNotNull()).cache()


def prefix_lengths(feed: DataFrame) -> tuple[list[int], list[int]]:
    """The prefix lengths present per family (an address is probed once per length)."""
    fam = F.split_part("key", F.lit("|"), F.lit(1))
    plen = F.split_part("key", F.lit("|"), F.lit(2)).try_cast("int")
    row = feed.agg(F.collect_set(F.when(fam == "4", plen)).alias("l4"), F.collect_set(F.when(fam == "6", plen)).alias("l6")).first()
    lens4 = sorted(row.l4, reverse=True)
    lens6 = sorted(row.l6, reverse=True)
    return lens4, lens6


# ----------------------------------------------------------------------------- the sweep

def parse(lines: DataFrame, carry: tuple[str, ...] = ()) -> DataFrame:
    """Text lines -> (line, ok, method, url, hier, peer, *carry); `carry` names columns of `lines`
    passed through to the alerts (the Kafka job's `origin`)."""
    v = F.col("value")
    return lines.select(
        *carry,
        v.alias("line"),
        v.rlike(LINE).alias("ok"),
        F.regexp_extract(v, LINE, G_METHOD).alias("method"),
        F.regexp_extract(v, LINE, G_URL).alias("url"),
        F.regexp_extract(v, LINE, G_HIER).alias("hier"),
        F.regexp_extract(v, LINE, G_PEER).alias("peer"),
    )


def rejects(lines: DataFrame, carry: tuple[str, ...] = ()) -> DataFrame:
    v = F.col("value")
    return lines.where(~v.rlike(LINE)).select(
        *carry,
        F.struct(F.lit("pipeline_error").alias("kind"), v.alias("original")).alias("event"),
        F.struct(F.lit("NO_MATCH").alias("code"), F.lit("not a squid native line").alias("message")).alias("error"),
    )


def alerts(parsed: DataFrame, feed: DataFrame, lens4: list[int], lens6: list[int], carry: tuple[str, ...] = ()) -> DataFrame:
    """Valid parsed lines -> one alert per line with at least one hit (all its indicators), with
    the `carry` columns of `parsed` first."""
    connect = F.col("method") == "CONNECT"
    host = F.when(connect, host_of_authority(F.col("url"))).otherwise(host_of_authority(F.regexp_extract("url", URL_RE, 2)))
    peer = F.when(F.col("hier").contains("DIRECT") & (F.col("peer") != "-"), F.lower(F.col("peer")))
    p = parsed.where("ok").select(F.monotonically_increasing_id().alias("id"), *carry, "line", "url", "peer",
                                  host.alias("host"), peer.alias("dst"), F.when(~connect, url_key(F.col("url"))).alias("ukey"))
    p = p.select("*", *addr_columns(F.col("host"), "h"), *addr_columns(F.col("dst"), "d"))
    empty = F.array().cast("array<struct<key:string,field:string>>")
    tag = lambda keys, field: F.transform(keys, lambda x: F.struct(x.alias("key"), F.lit(field).alias("field")))  # noqa: E731
    h = F.col("host")
    host_ip = ip_keys(F.col("h4"), F.col("h6"), lens4, lens6)
    host_atoms = F.when(h == "", empty).when(host_ip.isNotNull(), tag(host_ip, "url.domain")) \
        .when(h.contains(":"), empty).otherwise(tag(domain_keys(h), "url.domain"))
    url_atoms = F.when(F.col("ukey").isNotNull(), F.array(F.struct(F.concat(F.lit("u|"), F.col("ukey")).alias("key"), F.lit("url.original").alias("field")))).otherwise(empty)
    dst_ip = ip_keys(F.col("d4"), F.col("d6"), lens4, lens6)
    peer_atoms = F.when(dst_ip.isNotNull() & (F.col("dst") != h), tag(dst_ip, "destination.ip")).otherwise(empty)
    atoms = p.select("id", *carry, "line", "url", "peer", F.explode(F.concat(url_atoms, host_atoms, peer_atoms)).alias("a"))
    hits = atoms.join(F.broadcast(feed), F.col("a.key") == feed.key)
    hits = hits.withColumn("ivalue", F.coalesce(F.col("ivalue"), F.substring(F.col("key"), 3, 1 << 20)))
    per_line = hits.groupBy("id").agg(
        *[F.first(c).alias(c) for c in carry], F.first("line").alias("line"), F.first("url").alias("url"), F.first("peer").alias("peer"),
        F.collect_list(F.struct(F.col("itype").alias("type"), F.col("ivalue").alias("value"), F.col("a.field").alias("field"))).alias("hits"),
    )
    # each indicator once (an address may match through the URL host and the peer), with its first field
    indicators = F.array_distinct(F.transform("hits", lambda h: F.struct(h["type"].alias("type"), h["value"].alias("value"))))
    enrichments = F.transform(indicators, lambda i: F.struct(
        i.alias("indicator"),
        F.struct(F.filter("hits", lambda h: (h["type"] == i["type"]) & (h["value"] == i["value"]))[0]["field"].alias("field")).alias("matched"),
    ))
    per_line = per_line.withColumn("enrichments", enrichments)
    ts = F.regexp_extract("line", LINE, G_TS).cast("double")
    user = F.regexp_extract("line", LINE, G_USER)
    return per_line.select(
        *carry,
        F.date_format(F.timestamp_seconds(ts), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX").alias("@timestamp"),
        F.struct(F.lit("alert").alias("kind"), F.col("line").alias("original")).alias("event"),
        F.struct(F.regexp_extract("line", LINE, G_CLIENT).alias("ip")).alias("source"),
        F.struct(F.col("url").alias("original")).alias("url"),
        F.struct(F.when(F.col("peer") != "-", F.col("peer")).alias("ip")).alias("destination"),
        F.struct(F.when(user != "-", user).alias("name")).alias("user"),
        F.struct(F.lit("spark-ioc-sweep").alias("name")).alias("rule"),
        F.struct(F.col("enrichments")).alias("threat"),
    )
