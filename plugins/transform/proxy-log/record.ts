/**
 * The one layout of a parsed proxy record (see docs/ARCHITECTURE.md, "Record shapes").
 *
 * Every record the proxy-log transform emits, whatever the format, is built by the factories below:
 * the same objects with the same keys in the same order, a value that is absent being `undefined`
 * (JSON.stringify drops it, ajv's generated code treats it as absent, getPath returns undefined).
 * So the validator and every later reader see one hidden class per object position instead of dozens
 * (megamorphic property loads, deoptimisations). Parsers assign into these objects and never add a
 * key: the types below have no index signature, so the compiler refuses any other key — which is
 * what the schema's `additionalProperties: false` asks for (the vendor namespaces stay open bags).
 */
import type { Origin, Rec } from '../../../src/api.js';

export interface EventFields {
  dataset: string;
  action: string | undefined;
  duration: number | undefined;
  reason: string | undefined;
  original: string | undefined;
}
export interface SourceFields {
  ip: string | undefined;
  port: number | undefined;
  domain: string | undefined;
}
export interface DestinationFields {
  ip: string | undefined;
  port: number | undefined;
  domain: string | undefined;
}
export interface UserFields {
  name: string;
}
export interface UrlFields {
  original: string | undefined;
  full: string | undefined;
  scheme: string | undefined;
  domain: string | undefined;
  port: number | undefined;
  path: string | undefined;
  query: string | undefined;
  fragment: string | undefined;
  extension: string | undefined;
  category: string | undefined;
}
export interface RequestFields {
  method: string | undefined;
  referrer: string | undefined;
  bytes: number | undefined;
}
export interface ResponseFields {
  status_code: number | undefined;
  bytes: number | undefined;
  mime_type: string | undefined;
}
export interface HttpFields {
  version: string | undefined;
  request: RequestFields | undefined;
  response: ResponseFields | undefined;
}
export interface UserAgentFields {
  original: string;
}
export interface ObserverFields {
  ip: string | undefined;
  hostname: string | undefined;
  product: string | undefined;
}

export interface ProxyRecord {
  '@timestamp': string;
  event: EventFields;
  source: SourceFields | undefined;
  destination: DestinationFields | undefined;
  user: UserFields | undefined;
  url: UrlFields | undefined;
  http: HttpFields | undefined;
  user_agent: UserAgentFields | undefined;
  observer: ObserverFields | undefined;
  tags: string[] | undefined;
  squid: Rec | undefined;
  apache: Rec | undefined;
  proxysg: Rec | undefined;
  zscaler: Rec | undefined;
  json: Rec | undefined;
  origin: Origin | null | undefined;
}

export type Dataset = 'squid.access' | 'apache.access' | 'proxysg.elff' | 'zscaler.nss' | 'json';

/** A record with only its timestamp and event set; parsers fill the rest. */
export function newRecord(ts: string, event: EventFields): ProxyRecord {
  return {
    '@timestamp': ts,
    event,
    source: undefined,
    destination: undefined,
    user: undefined,
    url: undefined,
    http: undefined,
    user_agent: undefined,
    observer: undefined,
    tags: undefined,
    squid: undefined,
    apache: undefined,
    proxysg: undefined,
    zscaler: undefined,
    json: undefined,
    origin: undefined,
  };
}

export function newEvent(dataset: Dataset, action: string | undefined, duration: number | undefined): EventFields {
  return { dataset, action, duration, reason: undefined, original: undefined };
}

export function newSource(ip: string | undefined, domain: string | undefined): SourceFields {
  return { ip, port: undefined, domain };
}

export function newDestination(): DestinationFields {
  return { ip: undefined, port: undefined, domain: undefined };
}

export function newUrl(original: string | undefined): UrlFields {
  return {
    original,
    full: undefined,
    scheme: undefined,
    domain: undefined,
    port: undefined,
    path: undefined,
    query: undefined,
    fragment: undefined,
    extension: undefined,
    category: undefined,
  };
}

export function newRequest(method: string | undefined): RequestFields {
  return { method, referrer: undefined, bytes: undefined };
}

export function newResponse(): ResponseFields {
  return { status_code: undefined, bytes: undefined, mime_type: undefined };
}

export function newHttp(request: RequestFields | undefined, response: ResponseFields | undefined): HttpFields {
  return { version: undefined, request, response };
}

export function newObserver(): ObserverFields {
  return { ip: undefined, hostname: undefined, product: undefined };
}

/** Add a tag (tags are rare: `url_unparsed`, `invalid_utf8`). */
export function addTag(rec: ProxyRecord, tag: string): void {
  if (rec.tags === undefined) rec.tags = [tag];
  else rec.tags.push(tag);
}

export function newUserAgent(original: string): UserAgentFields {
  return { original };
}
