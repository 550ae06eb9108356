/** Squid access-log text generated for runtime tests (the same layout in every test that uses it). */

/**
 * `n` squid lines one second apart from 2024-05-14T10:00:00Z, GET `http://HOST/pK` with the hosts
 * taken in turn from `hosts` (spread so that neighbours differ), clients `10.0.a.b`; every line `i`
 * with `i % brokenEvery === 13` is `broken line i` instead (a reject).
 */
export function squidLog(n: number, hosts: readonly string[], brokenEvery: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % brokenEvery === 13) {
      lines.push(`broken line ${i}`);
      continue;
    }
    const host = hosts[(i * 7 + (i >> 3)) % hosts.length]!;
    lines.push(
      `${1715680800 + i}.${String(i % 1000).padStart(3, '0')} ${i % 500} 10.0.${i % 3}.${i % 7} TCP_MISS/200 ${i * 13} GET http://${host}/p${i % 11} - HIER_DIRECT/192.0.2.1 text/html`,
    );
  }
  return `${lines.join('\n')}\n`;
}
