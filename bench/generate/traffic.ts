/**
 * The benign side of the synthetic world: clients, users, user agents, sites and their paths,
 * shaped after real proxy logs (Zipf-popular sites, CONNECT for HTTPS, cache hits, denials).
 */
import { type Rng, int, pick, between, weighted, zipfIndex, mulberry32, subSeed } from '../lib/prng.js';
import { BENIGN_V4_OCTETS, BENIGN_V6_PREFIXES, v4, v6 } from './net.js';

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  'Microsoft-Delivery-Optimization/10.0',
  'Microsoft-CryptoAPI/10.0',
  'Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50',
  'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)',
  'Teams/1.6.00.33567 Chrome/108.0.5359.215 Electron/22.3.27',
  'curl/8.4.0',
  'Wget/1.21.4',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Java/17.0.9',
  'okhttp/4.12.0',
  'Slack/4.36.140 (Windows 10)',
  'Zoom/5.17.0 (Windows)',
  'Dropbox/190.4.6383',
  'apt-get/2.6.1 (amd64)',
  'Debian APT-HTTP/1.3 (2.6.1)',
  '-',
];

const REAL_SITES = [
  'www.google.com',
  'www.gstatic.com',
  'fonts.googleapis.com',
  'www.googletagmanager.com',
  'www.google-analytics.com',
  'www.youtube.com',
  'i.ytimg.com',
  'www.microsoft.com',
  'login.microsoftonline.com',
  'outlook.office365.com',
  'graph.microsoft.com',
  'teams.microsoft.com',
  'update.microsoft.com',
  'ctldl.windowsupdate.com',
  'www.bing.com',
  'github.com',
  'api.github.com',
  'raw.githubusercontent.com',
  'objects.githubusercontent.com',
  'registry.npmjs.org',
  'pypi.org',
  'files.pythonhosted.org',
  'deb.debian.org',
  'security.ubuntu.com',
  'archive.ubuntu.com',
  'www.amazon.com',
  'images-na.ssl-images-amazon.com',
  'd1.awsstatic.com',
  's3.amazonaws.com',
  'cdn.jsdelivr.net',
  'cdnjs.cloudflare.com',
  'ajax.googleapis.com',
  'www.linkedin.com',
  'static.licdn.com',
  'slack.com',
  'edgeapi.slack.com',
  'zoom.us',
  'www.dropbox.com',
  'www.wikipedia.org',
  'en.wikipedia.org',
  'upload.wikimedia.org',
  'www.bbc.co.uk',
  'www.nytimes.com',
  'www.reuters.com',
  'news.ycombinator.com',
  'stackoverflow.com',
  'cdn.sstatic.net',
  'www.apple.com',
  'swcdn.apple.com',
  'ocsp.digicert.com',
  'crl3.digicert.com',
  'ocsp.pki.goog',
  'www.salesforce.com',
  'login.salesforce.com',
  'www.office.com',
  'docs.google.com',
  'drive.google.com',
  'mail.google.com',
  'accounts.google.com',
  'play.google.com',
];

const WORDS = [
  'news',
  'sport',
  'weather',
  'travel',
  'finance',
  'docs',
  'help',
  'support',
  'search',
  'account',
  'login',
  'profile',
  'cart',
  'product',
  'video',
  'music',
  'games',
  'forum',
  'blog',
  'about',
  'contact',
  'careers',
  'press',
  'privacy',
  'terms',
  'pricing',
  'download',
  'release',
  'status',
  'api',
];
const CORP_TLDS = ['com', 'net', 'org', 'io', 'de', 'fr', 'co.uk', 'nl', 'eu', 'com.au'];

export interface Site {
  host: string;
  ip: string;
  https: number;
}

export interface World {
  sites: Site[];
  clients: { ip: string; user: string; ua: string }[];
}

/** Sites and clients, fixed by the seed. */
export function makeWorld(seed: number): World {
  const rng = mulberry32(subSeed(seed, 'world'));
  const sites: Site[] = [];
  const hosts = new Set<string>();
  for (const host of REAL_SITES) hosts.add(host);
  while (hosts.size < 600) {
    const w = `${pick(rng, WORDS)}${pick(rng, ['', '-', ''])}${pick(rng, WORDS)}${int(rng, 3) === 0 ? between(rng, 1, 99) : ''}`;
    hosts.add(`${pick(rng, ['www', 'cdn', 'static', 'api', 'img', 'app', 'www', 'www'])}.${w}.${pick(rng, CORP_TLDS)}`);
  }
  for (const host of hosts) {
    const ip = int(rng, 12) === 0 ? v6(rng, BENIGN_V6_PREFIXES) : v4(rng, BENIGN_V4_OCTETS);
    sites.push({ host, ip, https: rng() });
  }
  const clients: World['clients'] = [];
  const firstNames = [
    'alice',
    'bob',
    'carol',
    'dave',
    'erin',
    'frank',
    'grace',
    'heidi',
    'ivan',
    'judy',
    'mallory',
    'oscar',
    'peggy',
    'rupert',
    'sybil',
    'trent',
    'victor',
    'walter',
  ];
  for (let i = 0; i < 2000; i++) {
    const ip = `10.${between(rng, 1, 40)}.${int(rng, 256)}.${between(rng, 2, 254)}`;
    const user = int(rng, 4) === 0 ? '-' : `${pick(rng, firstNames)}.${badishSurname(rng)}`;
    clients.push({ ip, user, ua: USER_AGENTS[zipfIndex(rng, USER_AGENTS.length, 1.1)]! });
  }
  return { sites, clients };
}

function badishSurname(rng: Rng): string {
  const parts = [
    'smith',
    'jones',
    'brown',
    'miller',
    'davis',
    'garcia',
    'wilson',
    'moore',
    'taylor',
    'thomas',
    'martin',
    'lee',
    'walker',
    'hall',
    'young',
    'king',
  ];
  return `${pick(rng, parts)}${int(rng, 3) === 0 ? between(rng, 1, 9) : ''}`;
}

const EXT_MIME: Record<string, string> = {
  html: 'text/html',
  js: 'application/javascript',
  css: 'text/css',
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  json: 'application/json',
  woff2: 'font/woff2',
  xml: 'application/xml',
  zip: 'application/zip',
  deb: 'application/vnd.debian.binary-package',
  cab: 'application/vnd.ms-cab-compressed',
};
const EXTS = Object.keys(EXT_MIME);

export interface Resource {
  path: string;
  query: string;
  mime: string;
  size: number;
}

export function resource(rng: Rng): Resource {
  const r = int(rng, 10);
  if (r === 0) return { path: '/', query: '', mime: 'text/html', size: between(rng, 8_000, 250_000) };
  if (r <= 2) {
    return {
      path: `/api/v${between(rng, 1, 3)}/${pick(rng, WORDS)}`,
      query: `?id=${between(rng, 1, 999_999)}&lang=${pick(rng, ['en', 'de', 'fr', 'en-GB'])}`,
      mime: 'application/json',
      size: between(rng, 80, 40_000),
    };
  }
  if (r === 3)
    return {
      path: '/search',
      query: `?q=${pick(rng, WORDS)}+${pick(rng, WORDS)}&start=${int(rng, 5) * 10}`,
      mime: 'text/html',
      size: between(rng, 20_000, 400_000),
    };
  const ext = pick(rng, EXTS);
  let path = '';
  const depth = between(rng, 1, 4);
  for (let i = 0; i < depth; i++) path += `/${pick(rng, WORDS)}`;
  const name =
    ext === 'js' || ext === 'css'
      ? `${pick(rng, ['app', 'main', 'vendor', 'chunk'])}.${(int(rng, 0x1000000) + 0x1000000).toString(16).slice(1)}`
      : `${pick(rng, WORDS)}-${between(rng, 1, 9999)}`;
  const size =
    ext === 'png' || ext === 'jpg'
      ? between(rng, 2_000, 900_000)
      : ext === 'zip' || ext === 'deb' || ext === 'cab'
        ? between(rng, 100_000, 60_000_000)
        : between(rng, 300, 300_000);
  return { path: `${path}/${name}.${ext}`, query: int(rng, 8) === 0 ? `?v=${between(rng, 1, 99999)}` : '', mime: EXT_MIME[ext]!, size };
}

export const pickMethod = weighted<string>([
  ['GET', 80],
  ['CONNECT', 12],
  ['POST', 6],
  ['HEAD', 1],
  ['PUT', 0.5],
  ['OPTIONS', 0.5],
]);
