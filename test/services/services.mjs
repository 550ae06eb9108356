#!/usr/bin/env node
// Real Kafka (KRaft, one node) and a real HDFS mini cluster (WebHDFS) for sluice's integration
// tests, benchmarks and demos, from Maven Central jars. No Docker, no mock.
//
//   node test/services/services.mjs up [kafka|hdfs]      start what is not running, wait until it answers
//   node test/services/services.mjs down [kafka|hdfs]    stop what these scripts started (pid files)
//   node test/services/services.mjs status               what is running, pids, ports, logs
//   node test/services/services.mjs fetch                fetch the jars (Maven) and compile the HDFS main
//   node test/services/services.mjs reset [kafka|hdfs]   down, then delete the data dirs
//
// Also imported by the tests: ensureKafka(), ensureHdfs(), startKafka(), stopKafka(), startHdfs(),
// stopHdfs(), kafkaUp(), hdfsUp(), javaAvailable(), fetchJars(). Stopping keeps the data dirs, so a
// test can stop a service for a while and start it again over the same data.
//
// Environment:
//   SLUICE_SERVICES_DIR  jar cache (default test/services/.jars; CI uses ~/.cache/sluice/services)
//   SLUICE_SERVICES_RUN  pid files, logs, data dirs (default ${SLUICE_CACHE:-~/.cache/sluice}/run:
//                        one set per machine, since the ports are the machine's)
// Ports (127.0.0.1 only): Kafka 9092 (controller 9093); HDFS NameNode RPC 8020, NameNode
// HTTP/WebHDFS 9870, DataNode HTTP 9864. SLUICE_KAFKA_PORT, SLUICE_KAFKA_CONTROLLER_PORT,
// SLUICE_HDFS_RPC_PORT, SLUICE_HDFS_HTTP_PORT, SLUICE_HDFS_DATANODE_HTTP_PORT move them (with
// their own SLUICE_SERVICES_RUN) for a second, private set.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const port = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0 || v > 65535) throw new Error(`services: ${name}=${process.env[name]} is not a port`);
  return v;
};
export const HOST = '127.0.0.1';
export const KAFKA_PORT = port('SLUICE_KAFKA_PORT', 9092);
export const KAFKA_CONTROLLER_PORT = port('SLUICE_KAFKA_CONTROLLER_PORT', 9093);
export const KAFKA_BROKERS = [`${HOST}:${KAFKA_PORT}`];
export const HDFS_RPC_PORT = port('SLUICE_HDFS_RPC_PORT', 8020);
export const HDFS_HTTP_PORT = port('SLUICE_HDFS_HTTP_PORT', 9870);
export const HDFS_DATANODE_HTTP_PORT = port('SLUICE_HDFS_DATANODE_HTTP_PORT', 9864);
export const HDFS_URL = `hdfs://${HOST}:${HDFS_RPC_PORT}`;
export const WEBHDFS = { host: HOST, port: HDFS_HTTP_PORT, path: '/webhdfs/v1' };

export const cacheDir = () => path.resolve(process.env.SLUICE_SERVICES_DIR || path.join(here, '.jars'));
// The ports are the machine's, so by default so are the pid files, logs and data dirs: one set of
// services per machine, which every work tree (and test) can see, stop and start again.
export const runDir = () =>
  path.resolve(process.env.SLUICE_SERVICES_RUN || path.join(process.env.SLUICE_CACHE || path.join(os.homedir(), '.cache', 'sluice'), 'run'));

const SERVICES = ['kafka', 'hdfs'];
const log = (...a) => console.error('[services]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- prerequisites, jars

function runs(cmd, args) {
  try {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** Java (17+) is what the services need at run time; Maven only when the jar cache is cold. */
export function javaAvailable() {
  return runs('java', ['-version']) && runs('javac', ['-version']);
}

export function mavenAvailable() {
  return runs('mvn', ['-v']);
}

function fingerprint() {
  const h = createHash('sha256');
  for (const f of ['pom.xml', 'kafka/pom.xml', 'hdfs/pom.xml', 'java/SluiceMiniHdfs.java']) {
    h.update(f).update(fs.readFileSync(path.join(here, f)));
  }
  return h.digest('hex');
}

export function jarsReady() {
  const dir = cacheDir();
  try {
    return fs.readFileSync(path.join(dir, '.stamp'), 'utf8').trim() === fingerprint() && fs.existsSync(path.join(dir, 'hdfs/classes/SluiceMiniHdfs.class'));
  } catch {
    return false;
  }
}

/** Fetches the jars with Maven (once per pom change) and compiles the HDFS main. */
export async function fetchJars({ quiet = false } = {}) {
  if (jarsReady()) return false;
  return withLock('fetch', async () => {
    if (jarsReady()) return false;
    const dir = cacheDir();
    if (!mavenAvailable()) throw new Error('services: Maven (mvn) is needed to fetch the Kafka/Hadoop jars and is not on the PATH');
    const t0 = Date.now();
    if (!quiet) log(`fetching Kafka and Hadoop jars with Maven into ${dir} …`);
    // the stamp goes first so a half-finished fetch is never taken as complete
    fs.rmSync(path.join(dir, '.stamp'), { force: true });
    for (const s of SERVICES) fs.rmSync(path.join(dir, s, 'lib'), { recursive: true, force: true });
    await run('mvn', ['-B', '-q', '-f', path.join(here, 'pom.xml'), 'generate-resources', `-Dservices.dir=${dir}`]);
    const classes = path.join(dir, 'hdfs/classes');
    fs.mkdirSync(classes, { recursive: true });
    await run('javac', ['-d', classes, '-cp', path.join(dir, 'hdfs/lib/*'), path.join(here, 'java/SluiceMiniHdfs.java')]);
    fs.writeFileSync(path.join(dir, '.stamp'), fingerprint() + '\n');
    if (!quiet) log(`jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

// ---------------------------------------------------------------- a lock between processes

/** mkdir-based lock (vitest's forks pool runs test files in several processes). */
export async function withLock(name, fn, timeoutMs = 600_000) {
  const dir = runDir();
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, `${name}.lock`);
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {}
      const stale =
        (Number.isFinite(owner) && owner > 0 && !alive(owner)) ||
        (!Number.isFinite(owner) && Date.now() - fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 10_000);
      if (stale) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`services: timed out waiting for lock ${lock}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- processes

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const MARK = { kafka: 'kafka.Kafka', hdfs: 'SluiceMiniHdfs' };
const pidFile = (s) => path.join(runDir(), `${s}.pid`);
export const logFile = (s) => path.join(runDir(), `${s}.log`);
const dataDir = (s) => path.join(runDir(), `${s}-data`);

/** The pid of the service started by these scripts, if that process still runs (and is it). */
export function servicePid(s) {
  let pid;
  try {
    pid = Number(fs.readFileSync(pidFile(s), 'utf8').trim());
  } catch {
    return null;
  }
  if (!pid || !alive(pid)) return null;
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmd.includes(MARK[s])) return null; // the pid was reused
  } catch {}
  return pid;
}

function spawnService(s, args) {
  const dir = runDir();
  fs.mkdirSync(dir, { recursive: true });
  const out = fs.openSync(logFile(s), 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting ${s}\n`);
  const p = spawn('java', args, { detached: true, stdio: ['ignore', out, out], cwd: dir });
  fs.closeSync(out);
  p.unref();
  fs.writeFileSync(pidFile(s), `${p.pid}\n`);
  return p.pid;
}

function logTail(s, lines = 30) {
  try {
    return fs.readFileSync(logFile(s), 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopService(s, { timeoutMs = 30_000 } = {}) {
  const pid = servicePid(s);
  if (!pid) {
    fs.rmSync(pidFile(s), { force: true });
    return false;
  }
  const t0 = Date.now();
  const signal = (sig) => {
    try {
      process.kill(-pid, sig); // its process group (spawned detached)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  signal('SIGTERM');
  while (alive(pid) && Date.now() - t0 < timeoutMs) await sleep(100);
  if (alive(pid)) {
    log(`${s} (pid ${pid}) did not stop in ${timeoutMs / 1000} s: SIGKILL`);
    signal('SIGKILL');
    while (alive(pid)) await sleep(50);
  }
  fs.rmSync(pidFile(s), { force: true });
  return true;
}

function portOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function waitFor(s, pid, check, timeoutMs) {
  const t0 = Date.now();
  let failure;
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (pid && !alive(pid)) failure = `${s} exited during start-up`;
    else if (Date.now() - t0 > timeoutMs) failure = `${s} did not answer in ${timeoutMs / 1000} s`;
    if (failure) {
      const tail = logTail(s);
      await stopService(s); // ours and not working: stop it, drop its pid file
      throw new Error(`services: ${failure}; end of ${logFile(s)}:\n${tail}`);
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------- Kafka

let kafkajs;
async function kafkaModule() {
  kafkajs ??= await import('kafkajs');
  return kafkajs.default ?? kafkajs;
}

/** True when a broker answers a metadata request (kafkajs admin listTopics) on 127.0.0.1:9092. */
export async function kafkaUp() {
  if (!(await portOpen(KAFKA_PORT))) return false;
  const { Kafka, logLevel } = await kafkaModule();
  const admin = new Kafka({
    clientId: 'sluice-services-probe',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function kafkaClasspath() {
  return path.join(cacheDir(), 'kafka/lib/*');
}

function kafkaJvm() {
  return [
    '-Xms128m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(here, 'kafka/log4j.properties')}`,
    '-cp',
    kafkaClasspath(),
  ];
}

function writeKafkaConfig() {
  const dir = path.join(runDir(), 'kafka');
  fs.mkdirSync(dir, { recursive: true });
  const conf = fs
    .readFileSync(path.join(here, 'kafka/server.properties.template'), 'utf8')
    .replaceAll('@PORT@', String(KAFKA_PORT))
    .replaceAll('@CONTROLLER_PORT@', String(KAFKA_CONTROLLER_PORT))
    .replaceAll('@DATA_DIR@', dataDir('kafka'));
  const file = path.join(dir, 'server.properties');
  fs.writeFileSync(file, conf);
  return file;
}

/** Starts the broker (formatting its data dir the first time); resolves when it answers. */
export async function startKafka({ timeoutMs = 90_000 } = {}) {
  if (servicePid('kafka')) {
    await waitFor('kafka', servicePid('kafka'), kafkaUp, timeoutMs);
    return false;
  }
  if (await portOpen(KAFKA_PORT)) throw new Error(`services: something not started by these scripts listens on ${HOST}:${KAFKA_PORT}`);
  await fetchJars();
  const t0 = Date.now();
  const conf = writeKafkaConfig();
  if (!fs.existsSync(path.join(dataDir('kafka'), 'meta.properties'))) {
    const uuid = spawnSync('java', ['-cp', kafkaClasspath(), 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
    const clusterId = uuid.stdout.trim().split('\n').pop();
    if (uuid.status !== 0 || !clusterId) throw new Error(`services: StorageTool random-uuid failed: ${uuid.stderr}`);
    const fmt = spawnSync('java', [...kafkaJvm(), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', conf], { encoding: 'utf8' });
    if (fmt.status !== 0) throw new Error(`services: StorageTool format failed: ${fmt.stdout}${fmt.stderr}`);
  }
  const pid = spawnService('kafka', [...kafkaJvm(), 'kafka.Kafka', conf]);
  await waitFor('kafka', pid, kafkaUp, timeoutMs);
  log(`kafka up on ${HOST}:${KAFKA_PORT} (pid ${pid}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

/** Stops the broker these scripts started; its data dir is kept. */
export async function stopKafka() {
  return stopService('kafka');
}

// ---------------------------------------------------------------- HDFS

/** True when WebHDFS answers GETFILESTATUS / with 200 (and the DataNode's HTTP port is open). */
export async function hdfsUp() {
  const ok = await new Promise((resolve) => {
    const req = http.get({ host: HOST, port: HDFS_HTTP_PORT, path: '/webhdfs/v1/?op=GETFILESTATUS', timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
  return ok && (await portOpen(HDFS_DATANODE_HTTP_PORT));
}

function readyLine(since) {
  try {
    return fs.readFileSync(logFile('hdfs'), 'utf8').slice(since).includes('SLUICE-HDFS-READY');
  } catch {
    return false;
  }
}

/** Starts NameNode + DataNode (formatting the first time, keeping data after); resolves when ready. */
export async function startHdfs({ timeoutMs = 120_000 } = {}) {
  if (servicePid('hdfs')) {
    await waitFor('hdfs', servicePid('hdfs'), hdfsUp, timeoutMs);
    return false;
  }
  for (const p of [HDFS_RPC_PORT, HDFS_HTTP_PORT, HDFS_DATANODE_HTTP_PORT]) {
    if (await portOpen(p)) throw new Error(`services: something not started by these scripts listens on ${HOST}:${p}`);
  }
  await fetchJars();
  const t0 = Date.now();
  const data = dataDir('hdfs');
  const format = !fs.existsSync(path.join(data, 'name-0-1', 'current', 'VERSION'));
  if (format) fs.rmSync(data, { recursive: true, force: true });
  fs.mkdirSync(runDir(), { recursive: true });
  const since = fs.existsSync(logFile('hdfs')) ? fs.statSync(logFile('hdfs')).size : 0;
  const pid = spawnService('hdfs', [
    '-Xms64m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
    `-Dlog4j.configuration=file:${path.join(here, 'hdfs/log4j.properties')}`,
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens=java.base/java.net=ALL-UNNAMED',
    '-cp',
    `${path.join(cacheDir(), 'hdfs/lib/*')}${path.delimiter}${path.join(cacheDir(), 'hdfs/classes')}`,
    'SluiceMiniHdfs',
    data,
    format ? 'format' : 'keep',
    String(HDFS_RPC_PORT),
    String(HDFS_HTTP_PORT),
    String(HDFS_DATANODE_HTTP_PORT),
  ]);
  await waitFor('hdfs', pid, async () => readyLine(since) && (await hdfsUp()), timeoutMs);
  log(
    `hdfs up: ${HDFS_URL}, WebHDFS http://${HOST}:${HDFS_HTTP_PORT}, DataNode http://${HOST}:${HDFS_DATANODE_HTTP_PORT} (pid ${pid}) in ${((Date.now() - t0) / 1000).toFixed(1)} s${format ? ', formatted' : ''}`,
  );
  return true;
}

/** Stops the mini cluster these scripts started; its data dir is kept. */
export async function stopHdfs() {
  return stopService('hdfs');
}

// ---------------------------------------------------------------- ensure (idempotent, locked)

/** Starts Kafka unless a broker already answers. Resolves to true when this call started it. */
export async function ensureKafka() {
  if (await kafkaUp()) return false;
  return withLock('kafka', async () => ((await kafkaUp()) ? false : startKafka()));
}

/** Starts HDFS unless WebHDFS already answers. Resolves to true when this call started it. */
export async function ensureHdfs() {
  if (await hdfsUp()) return false;
  return withLock('hdfs', async () => ((await hdfsUp()) ? false : startHdfs()));
}

export const ensure = { kafka: ensureKafka, hdfs: ensureHdfs };
export const stop = { kafka: stopKafka, hdfs: stopHdfs };
export const up = { kafka: kafkaUp, hdfs: hdfsUp };

// ---------------------------------------------------------------- CLI

/** pid and command line of the process listening on a port (Linux /proc; null if unknown). */
export function portOwner(port) {
  try {
    const inodes = new Set();
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = fs.readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const c = line.trim().split(/\s+/);
        if (c.length > 9 && c[3] === '0A' && parseInt(c[1].split(':')[1], 16) === port) inodes.add(c[9]);
      }
    }
    if (!inodes.size) return null;
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds = [];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target = '';
        try {
          target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1])) {
          let cwd = '?';
          try {
            cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
          } catch {}
          return { pid: Number(pid), cwd };
        }
      }
    }
  } catch {}
  return null;
}

async function status() {
  let allUp = true;
  for (const s of SERVICES) {
    const pid = servicePid(s);
    const isUp = await up[s]();
    allUp &&= isUp;
    const where =
      s === 'kafka'
        ? `${HOST}:${KAFKA_PORT} (controller ${KAFKA_CONTROLLER_PORT})`
        : `NameNode ${HOST}:${HDFS_RPC_PORT}, WebHDFS ${HOST}:${HDFS_HTTP_PORT}, DataNode HTTP ${HOST}:${HDFS_DATANODE_HTTP_PORT}`;
    let who = pid ? `pid ${pid}` : isUp ? 'not started from this run dir' : 'not running';
    if (!pid && isUp) {
      const owner = portOwner(s === 'kafka' ? KAFKA_PORT : HDFS_HTTP_PORT);
      if (owner) who += ` (pid ${owner.pid}, cwd ${owner.cwd})`;
    }
    console.log(`${s.padEnd(5)} ${isUp ? 'UP  ' : 'DOWN'} ${where}; ${who}; log ${logFile(s)}`);
  }
  return allUp;
}

async function main(argv) {
  const [cmd = 'status', ...rest] = argv;
  const names = rest.filter((a) => !a.startsWith('--'));
  const which = names.length ? names : SERVICES;
  for (const s of which) if (!SERVICES.includes(s)) throw new Error(`unknown service ${s} (kafka, hdfs)`);
  switch (cmd) {
    case 'fetch': {
      const t0 = Date.now();
      const did = await fetchJars();
      console.log(did ? `jars fetched in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${cacheDir()}` : `jars already in ${cacheDir()}`);
      return 0;
    }
    case 'up': {
      if (!javaAvailable()) throw new Error('services: Java 17 (java and javac) is needed and not on the PATH');
      await fetchJars();
      const t0 = Date.now();
      const started = await Promise.all(which.map((s) => ensure[s]()));
      which.forEach((s, i) => {
        if (!started[i]) console.log(`${s}: already running`);
      });
      if (started.some(Boolean)) console.log(`started ${which.filter((_, i) => started[i]).join(' and ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await status();
      return 0;
    }
    case 'down': {
      for (const s of which) {
        const pid = servicePid(s);
        if (await stop[s]()) console.log(`${s}: stopped (pid ${pid}); data kept in ${dataDir(s)}`);
        else if (await up[s]()) {
          const owner = portOwner(s === 'kafka' ? KAFKA_PORT : HDFS_HTTP_PORT);
          const by = owner ? ` (pid ${owner.pid}, cwd ${owner.cwd})` : '';
          console.log(`${s}: running${by} but not from ${runDir()} (no pid file there): left alone`);
        } else console.log(`${s}: not running`);
      }
      return 0;
    }
    case 'reset': {
      for (const s of which) {
        await stop[s]();
        fs.rmSync(dataDir(s), { recursive: true, force: true });
        console.log(`${s}: stopped, data dir deleted`);
      }
      return 0;
    }
    case 'status':
      // exit 0 either way (npm would print a failure for a service that is simply down);
      // `status --check` exits 3 unless both answer
      return (await status()) || !rest.includes('--check') ? 0 : 3;
    default:
      throw new Error(`usage: services.mjs up|down|status|fetch|reset [kafka|hdfs]`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e.message ?? e);
      process.exit(1);
    },
  );
}
