// A Benthos distribution with one extra processor, `ioc_sweep`: the peer of sluice's default sweep
// in the benchmark (bench/peers/README.md). The stream itself is sweep.yaml beside this file: file
// input → bloblang parse → ioc_sweep → file output, rejects to a second file.
//
// ioc_sweep loads a plain-list feed (one indicator a line, `#` comments) into Go maps once per
// process (every pipeline thread shares it) and, for each parsed squid record, matches the way
// sluice's ioc-sweep does (DESIGN.md section 6):
//   - the URL host (CONNECT `host:port` or the URL's host; lower-cased, trailing dots stripped) as
//     a domain and each parent domain on a label boundary, or as an address when it is an IP literal;
//   - the squid peer of a DIRECT request as destination.ip;
//   - addresses against exact IPs and CIDR ranges (one map lookup per prefix length present in the
//     feed, on netip prefixes; IPv4-mapped IPv6 folded to IPv4);
//   - the URL normalised (scheme and host lower-cased, IPv6 host canonical, default port, user-info
//     and fragment dropped, empty path `/`, empty query dropped) and compared whole.
//
// A record with hits leaves with `threat.enrichments`; one without is dropped.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

type feed struct {
	nets    map[netip.Prefix]string // masked network (exact IPs as /32, /128) → indicator value
	lens4   []int                   // prefix lengths present, longest first
	lens6   []int
	domains map[string]struct{}
	urls    map[string]struct{}
	count   int
}

var (
	feedsMu sync.Mutex
	feeds   = map[string]*feed{}
)

// loadFeed reads a feed once per process: Benthos builds the processor once per pipeline thread.
func loadFeed(path string) (*feed, error) {
	feedsMu.Lock()
	defer feedsMu.Unlock()
	if f, ok := feeds[path]; ok {
		return f, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f := &feed{nets: map[netip.Prefix]string{}, domains: map[string]struct{}{}, urls: map[string]struct{}{}}
	l4, l6 := map[int]bool{}, map[int]bool{}
	addNet := func(p netip.Prefix) {
		p = p.Masked()
		if _, dup := f.nets[p]; !dup {
			if p.Bits() == p.Addr().BitLen() {
				f.nets[p] = p.Addr().String()
			} else {
				f.nets[p] = p.String()
			}
		}
		if p.Addr().Is4() {
			l4[p.Bits()] = true
		} else {
			l6[p.Bits()] = true
		}
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		v := strings.TrimSpace(sc.Text())
		if v == "" || v[0] == '#' {
			continue
		}
		f.count++
		switch {
		case strings.Contains(v, "://"):
			if k, _, ok := urlKey(v); ok {
				f.urls[k] = struct{}{}
			}
		case strings.Contains(v, "/"):
			if p, err := netip.ParsePrefix(strings.ToLower(v)); err == nil {
				if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
					p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
				}
				addNet(p)
			}
		default:
			if a, err := netip.ParseAddr(strings.ToLower(v)); err == nil {
				a = a.Unmap()
				addNet(netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			d := normDomain(strings.TrimPrefix(v, "*."))
			if strings.Contains(d, ".") {
				f.domains[d] = struct{}{}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for l := range l4 {
		f.lens4 = append(f.lens4, l)
	}
	for l := range l6 {
		f.lens6 = append(f.lens6, l)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(f.lens4)))
	sort.Sort(sort.Reverse(sort.IntSlice(f.lens6)))
	feeds[path] = f
	return f, nil
}

func normDomain(h string) string {
	return strings.TrimRight(strings.ToLower(h), ".")
}

// urlKey is the comparison key of a URL with a scheme, and its (normalised) host.
func urlKey(raw string) (key, host string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host = normDomain(u.Hostname())
	hostText := host
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		host = a.String()
		hostText = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(hostText)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	if p := u.EscapedPath(); p != "" {
		b.WriteString(p)
	} else {
		b.WriteByte('/')
	}
	if u.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
	return b.String(), host, true
}

type hit struct {
	typ, value, field string
}

type sweeper struct {
	f *feed
}

func (s *sweeper) matchAddr(a netip.Addr, field string, hits []hit) []hit {
	a = a.Unmap()
	lens, typ := s.f.lens6, "ipv6-addr"
	if a.Is4() {
		lens, typ = s.f.lens4, "ipv4-addr"
	}
	for _, l := range lens {
		p, err := a.Prefix(l)
		if err != nil {
			continue
		}
		if v, ok := s.f.nets[p]; ok {
			hits = addHit(hits, hit{typ, v, field})
		}
	}
	return hits
}

func (s *sweeper) matchHost(h, field string, hits []hit) []hit {
	if h == "" {
		return hits
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return s.matchAddr(a, field, hits)
	}
	for d := h; ; {
		if _, ok := s.f.domains[d]; ok {
			hits = addHit(hits, hit{"domain-name", d, field})
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return hits
		}
		d = d[i+1:]
	}
}

func addHit(hits []hit, h hit) []hit {
	for _, o := range hits {
		if o.typ == h.typ && o.value == h.value {
			return hits
		}
	}
	return append(hits, h)
}

func str(m map[string]any, a, b string) string {
	if o, ok := m[a].(map[string]any); ok {
		if s, ok := o[b].(string); ok {
			return s
		}
	}
	return ""
}

func (s *sweeper) Process(_ context.Context, m *service.Message) (service.MessageBatch, error) {
	if m.GetError() != nil {
		return service.MessageBatch{m}, nil // a reject: the output routes it
	}
	// read-only view (no copy): most records match nothing and are dropped
	v, err := m.AsStructured()
	if err != nil {
		return nil, err
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ioc_sweep: expected an object, got %T", v)
	}
	raw := str(rec, "url", "original")
	var hits []hit
	var host string
	method := ""
	if h, ok := rec["http"].(map[string]any); ok {
		method = str(h, "request", "method")
	}
	if method == "CONNECT" {
		if h, _, err := net.SplitHostPort(raw); err == nil {
			host = normDomain(h)
		} else {
			host = normDomain(raw)
		}
	} else if k, h, ok := urlKey(raw); ok {
		host = h
		if _, found := s.f.urls[k]; found {
			hits = addHit(hits, hit{"url", k, "url.original"})
		}
	}
	hits = s.matchHost(host, "url.domain", hits)
	if peer := str(rec, "squid", "peer"); peer != "-" && peer != "" && strings.Contains(str(rec, "squid", "hierarchy"), "DIRECT") {
		if a, err := netip.ParseAddr(peer); err == nil {
			hits = s.matchAddr(a, "destination.ip", hits)
		}
	}
	if len(hits) == 0 {
		return nil, nil // nothing matched: the record is dropped
	}
	if v, err = m.AsStructuredMut(); err != nil {
		return nil, err
	}
	rec = v.(map[string]any)
	enr := make([]any, 0, len(hits))
	for _, h := range hits {
		enr = append(enr, map[string]any{
			"indicator": map[string]any{"type": h.typ, "value": h.value},
			"matched":   map[string]any{"field": h.field},
		})
	}
	rec["url"].(map[string]any)["domain"] = host
	if peer := str(rec, "squid", "peer"); peer != "-" {
		if a, err := netip.ParseAddr(peer); err == nil {
			rec["destination"] = map[string]any{"ip": a.String()}
		}
	}
	rec["rule"] = map[string]any{"name": "benthos-ioc-sweep"}
	rec["threat"] = map[string]any{"enrichments": enr}
	if ev, ok := rec["event"].(map[string]any); ok {
		ev["kind"] = "alert"
	}
	m.SetStructuredMut(rec)
	return service.MessageBatch{m}, nil
}

func (s *sweeper) Close(context.Context) error { return nil }

func main() {
	spec := service.NewConfigSpec().
		Summary("Matches parsed squid records against an indicator feed (IPs, CIDRs, domains and their subdomains, URLs).").
		Field(service.NewStringField("feed").Description("Path of a plain-list feed."))
	err := service.RegisterProcessor("ioc_sweep", spec, func(conf *service.ParsedConfig, mgr *service.Resources) (service.Processor, error) {
		path, err := conf.FieldString("feed")
		if err != nil {
			return nil, err
		}
		f, err := loadFeed(path)
		if err != nil {
			return nil, err
		}
		mgr.Logger().Infof("ioc_sweep: %d indicators from %s", f.count, path)
		return &sweeper{f: f}, nil
	})
	if err != nil {
		panic(err)
	}
	service.RunCLI(context.Background())
}
