#!/usr/bin/env node
/**
 * Writes the sample proxy logs of examples/logs/ (deterministic; run from anywhere):
 *   node examples/logs/make-samples.mjs
 * Only reserved documentation names and addresses (RFC 2606 / 5737 / 3849). The malicious traffic
 * and the broken lines are listed in examples/logs/README.md.
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const T0 = 1715680800; // 2024-05-14T10:00:00Z
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const GARBAGE = Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0xc3, 0x28, 0x80, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x61, 0x20, 0x6c, 0x6f, 0x67, 0xa0, 0xa1]);

function squidTime(sec, ms = 0) {
  return `${sec}.${String(ms).padStart(3, '0')}`;
}

function squidLine(sec, ms, elapsed, client, action, size, method, url, user, hier, type) {
  return `${squidTime(sec, ms)} ${String(elapsed).padStart(6)} ${client} ${action} ${size} ${method} ${url} ${user} ${hier} ${type}`;
}

function lines(parts) {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? Buffer.concat([p, Buffer.from('\n')]) : Buffer.from(`${p}\n`))));
}

// ---- squid native -------------------------------------------------------------------------------
const squid = [
  squidLine(T0 + 1, 120, 231, '10.1.1.10', 'TCP_MISS/200', 10182, 'GET', 'http://www.example.com/', 'alice', 'DIRECT/192.0.2.10', 'text/html'),
  squidLine(T0 + 2, 5, 1, '10.1.1.10', 'TCP_HIT/200', 1464, 'GET', 'http://www.example.com/styles.css', 'alice', 'NONE/-', 'text/css'),
  squidLine(T0 + 3, 400, 5006, '10.1.1.11', 'TCP_TUNNEL/200', 19763, 'CONNECT', 'login.example.net:443', '-', 'HIER_DIRECT/192.0.2.20', '-'),
  squidLine(T0 + 5, 0, 812, '10.1.1.20', 'TCP_MISS/200', 512, 'GET', 'http://203.0.113.66:8080/gate.php', '-', 'DIRECT/203.0.113.66', 'text/plain'),
  squidLine(T0 + 6, 250, 1372, '10.1.1.12', 'TCP_MISS/200', 30169, 'GET', 'http://notevil.example/', '-', 'DIRECT/192.0.2.30', 'text/html'),
  squidLine(T0 + 7, 10, 990, '10.1.1.12', 'TCP_MISS/200', 2048, 'GET', 'http://evil.example.org/index.html', '-', 'DIRECT/192.0.2.31', 'text/html'),
  squidLine(
    T0 + 8,
    733,
    2401,
    '10.1.1.21',
    'TCP_MISS/200',
    48213,
    'GET',
    'http://198.51.100.23/files/invoice.exe',
    'bob',
    'DIRECT/198.51.100.23',
    'application/octet-stream',
  ),
  squidLine(T0 + 9, 1, 4, '10.1.1.13', 'TCP_DENIED/407', 1661, 'GET', 'http://www.example.org/login?next=%2F', '-', 'NONE/-', 'text/html'),
  squidLine(T0 + 10, 500, 3657, '10.1.1.22', 'TCP_TUNNEL/200', 12569, 'CONNECT', '[2001:db8:bad::5]:443', '-', 'HIER_DIRECT/2001:db8:bad::5', '-'),
  // broken: truncated mid-URL, garbage bytes, bad timestamp
  '1715680811.000    145 10.1.1.30 TCP_MISS/200 1234 GET http://www.exa',
  GARBAGE,
  squidLine(0, 0, 12, '10.1.1.31', 'TCP_MISS/200', 99, 'GET', 'http://www.example.com/x', '-', 'DIRECT/192.0.2.10', 'text/html').replace(
    /^0\.000/,
    '17156808I2.000',
  ),
  squidLine(T0 + 12, 0, 0, '10.1.1.14', 'NONE/400', 3700, 'NONE', 'error:invalid-request', '-', 'NONE/-', 'text/html'),
];
// the burst: 10.1.1.99 makes 720 requests within 4 minutes (window alert requests > 600 per 5m)
for (let i = 0; i < 720; i++) {
  const at = T0 + 60 + Math.floor((i * 240) / 720);
  squid.push(
    squidLine(
      at,
      (i * 37) % 1000,
      20 + (i % 50),
      '10.1.1.99',
      i % 5 === 0 ? 'TCP_HIT/200' : 'TCP_MISS/200',
      300 + (i % 700),
      'GET',
      `http://api.example.com/poll?n=${i}`,
      '-',
      i % 5 === 0 ? 'NONE/-' : 'DIRECT/192.0.2.40',
      'application/json',
    ),
  );
}
squid.push(squidLine(T0 + 400, 0, 77, '10.1.1.10', 'TCP_MISS/304', 214, 'GET', 'http://www.example.com/', 'alice', 'DIRECT/192.0.2.10', '-'));
writeFileSync(join(here, 'squid-access.log'), lines(squid));

// ---- squid native, second (rotated, gzipped) file -----------------------------------------------
const squid2 = [
  squidLine(T0 + 3600, 0, 120, '10.1.1.10', 'TCP_MISS/200', 5120, 'GET', 'http://www.example.com/news', 'alice', 'DIRECT/192.0.2.10', 'text/html'),
  squidLine(T0 + 3605, 0, 640, '10.1.1.20', 'TCP_MISS/200', 498, 'POST', 'http://203.0.113.66:8080/gate.php', '-', 'DIRECT/203.0.113.66', 'text/plain'),
  squidLine(T0 + 3610, 0, 88, '10.1.1.12', 'TCP_MISS/200', 777, 'GET', 'http://notevil.example/about', '-', 'DIRECT/192.0.2.30', 'text/html'),
  '1715684420.000 12 10.1.1.15 TCP_MISS/200',
];
writeFileSync(join(here, 'squid-access-2.log.gz'), gzipSync(lines(squid2), { level: 9 }));

// ---- combined (squid `logformat combined`, with %Ss:%Sh) -----------------------------------------
const clf = (sec) => {
  const d = new Date(sec * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${String(d.getUTCDate()).padStart(2, '0')}/${mon}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
};
const combined = [
  `10.1.1.10 - alice [${clf(T0 + 20)}] "GET http://www.example.com/ HTTP/1.1" 200 10182 "-" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.21 - - [${clf(T0 + 21)}] "GET http://198.51.100.23/files/invoice.exe HTTP/1.1" 200 48213 "-" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.23 - bob [${clf(T0 + 22)}] "GET http://dl.payload.example:80/drop/stage2.exe#frag HTTP/1.1" 200 90112 "http://www.example.com/" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.12 - - [${clf(T0 + 23)}] "GET http://notevil.example/ HTTP/1.1" 200 30169 "-" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.12 - - [${clf(T0 + 24)}] "GET http://evil.example.org/ HTTP/1.1" 200 2048 "-" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.11 - - [${clf(T0 + 25)}] "CONNECT login.example.net:443 HTTP/1.1" 200 19763 "-" "${UA}" TCP_TUNNEL:HIER_DIRECT`,
  `10.1.1.14 - - [${clf(T0 + 26)}] "-" 400 0 "-" "-" NONE:HIER_NONE`,
  // broken: truncated inside the request, garbage bytes, bad timestamp (month name)
  `10.1.1.30 - - [${clf(T0 + 27)}] "GET http://www.example.com/dow`,
  GARBAGE,
  `10.1.1.31 - - [14/Mai/2024:10:00:28 +0000] "GET http://www.example.com/ HTTP/1.1" 200 10182 "-" "${UA}" TCP_MISS:HIER_DIRECT`,
  `10.1.1.10 - alice [${clf(T0 + 29)}] "GET http://www.example.com/favicon.ico HTTP/1.1" 404 512 "http://www.example.com/" "${UA}" TCP_MISS:HIER_DIRECT`,
];
writeFileSync(join(here, 'combined-access.log'), lines(combined));

// ---- BlueCoat ProxySG ELFF: CRLF line ends, #Fields changes mid-file ------------------------------
const elff = [
  '#Software: SGOS 7.3.5.1',
  '#Version: 1.0',
  '#Start-Date: 2024-05-14 10:00:00',
  '#Date: 2024-05-14 10:00:00',
  '#Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type) cs(Referer) cs(User-Agent) sc-filter-result cs-categories x-virus-id s-ip',
  `2024-05-14 10:00:30 48 10.1.1.40 200 TCP_NC_MISS 10182 969 GET https www.example.com 443 / - carol - www.example.com text/html;%20charset=UTF-8 - "${UA}" OBSERVED "Technology/Internet" - 192.0.2.2`,
  `2024-05-14 10:00:31 120 10.1.1.41 200 TCP_NC_MISS 4096 512 GET http cdn.Update-Check.Evil.example. 80 /a.js - - - cdn.Update-Check.Evil.example. application/javascript http://www.example.com/ "${UA}" OBSERVED "Suspicious" - 192.0.2.2`,
  `2024-05-14 10:00:32 382 10.1.1.40 200 TCP_TUNNELED 39 356 CONNECT tcp login.example.net 443 / - carol - - - - - OBSERVED "Business/Economy" - 192.0.2.2`,
  `2024-05-14 10:00:33 75 10.1.1.42 200 TCP_NC_MISS 300 200 GET http 192.0.2.77 8080 /c2 - - - 192.0.2.77 text/plain - "curl/8.5.0" OBSERVED "none" - 192.0.2.2`,
  `2024-05-14 10:00:34 61 10.1.1.12 200 TCP_NC_MISS 2048 400 GET http notevil.example 80 / - - - notevil.example text/html - "${UA}" OBSERVED "Technology/Internet" - 192.0.2.2`,
  // broken: unterminated quote (truncated), bad time
  `2024-05-14 10:00:35 61 10.1.1.43 200 TCP_NC_MISS 2048 400 GET http www.example.com 80 / - - - www.example.com text/html - "Mozilla/5.0 (Windows NT`,
  `2024-05-14 25:61:00 61 10.1.1.44 200 TCP_NC_MISS 2048 400 GET http www.example.com 80 / - - - www.example.com text/html - "${UA}" OBSERVED "Technology/Internet" - 192.0.2.2`,
  '#Remark: policy reload, new access-log format',
  '#Fields: date time time-taken c-ip cs-username s-action sc-status cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-uri-extension sc-bytes cs-bytes rs(Content-Type) cs(Referer) cs(User-Agent) cs-categories sc-filter-result s-supplier-ip r-ip s-ip',
  `2024-05-14 10:01:00 2210 10.1.1.45 dave TCP_NC_MISS 200 POST http upload.unknown-host.example 80 /put - - 312 5000000 text/plain - "${UA}" "none" OBSERVED 192.0.2.90 192.0.2.90 192.0.2.2`,
  `2024-05-14 10:01:01 95 10.1.1.12 - TCP_NC_MISS 200 GET http evil.example.org 80 /index.html - html 2048 380 text/html - "${UA}" "Technology/Internet" OBSERVED 192.0.2.31 192.0.2.31 192.0.2.2`,
  `2024-05-14 10:01:02 80 10.1.1.40 carol TCP_HIT 200 GET https www.example.com 443 /search ?q=sluice - 5120 610 text/html https://www.example.com/ "${UA}" "Search Engines/Portals" OBSERVED - - 192.0.2.2`,
];
writeFileSync(join(here, 'proxysg-elff.log'), Buffer.concat([...elff.map((l) => Buffer.from(`${l}\r\n`)), GARBAGE, Buffer.from('\r\n')]));

// ---- Zscaler NSS web (JSON lines) ----------------------------------------------------------------
const nssTime = (sec) => {
  const d = new Date(sec * 1000);
  const wd = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${wd} ${mon} ${String(d.getUTCDate()).padStart(2, '0')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;
};
const nss = (sec, o) =>
  JSON.stringify({
    sourcetype: 'zscalernss-web',
    event: {
      time: nssTime(sec),
      login: 'erin@example.com',
      proto: 'HTTPS',
      eurl: 'www.example.com/',
      action: 'Allowed',
      appname: 'General Browsing',
      reqsize: '512',
      respsize: '10240',
      stime: '12',
      ctime: '48',
      urlclass: 'Business Use',
      urlsupercat: 'Information Technology',
      urlcat: 'Web Search',
      malwarecat: 'None',
      threatname: 'None',
      riskscore: '0',
      cip: '10.1.1.50',
      sip: '192.0.2.10',
      reqmethod: 'GET',
      respcode: '200',
      ua: UA,
      ereferer: 'None',
      contenttype: 'text/html',
      deviceowner: 'erin',
      devicehostname: 'WS-050',
      ...o,
    },
  });
const zscaler = [
  nss(T0 + 40, {}),
  nss(T0 + 41, { eurl: 'phish-login.example/signin', urlcat: 'Phishing', action: 'Allowed', sip: '192.0.2.60', reqmethod: 'POST' }),
  nss(T0 + 42, { proto: 'HTTP', eurl: 'notevil.example/', sip: '192.0.2.30' }),
  nss(T0 + 43, { proto: 'HTTP_PROXY', eurl: 'login.example.net:443', reqmethod: 'CONNECT', urlcat: 'Business and Economy' }),
  // broken: truncated JSON, garbage bytes, bad time
  nss(T0 + 44, {}).slice(0, 120),
  GARBAGE,
  nss(T0 + 45, { time: 'Tue May 14 10:00:45' }),
  nss(T0 + 46, { eurl: 'evil.example.org/', proto: 'HTTP', sip: '192.0.2.31' }),
];
writeFileSync(join(here, 'zscaler-nss.jsonl'), lines(zscaler));
