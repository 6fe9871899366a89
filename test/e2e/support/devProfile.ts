// TEMPORARY dev helper (deleted before handing in)
import { launchBrowser } from './browser.ts';
import { recordFrameTimes, formatFrameTimes } from './frameTime.ts';
const url = process.argv[2]!;
const token = new URL(url).searchParams.get('token');
const origin = new URL(url).origin;
const start = await fetch(`${origin}/api/call`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ method: 'runs.start', params: { input: { seed: 5 }, preset: 'flagship', name: 'profile flagship' } }) });
const id = ((await start.json()) as { result: { id: string } }).result.id;
const b = await launchBrowser();
const page = await b.context.newPage();
await page.goto(url);
await page.evaluate(`window.location.hash = '#/runs/${id}'`);
await page.waitForTimeout(3000);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
await cdp.send('Profiler.start');
const stop = await recordFrameTimes(page);
await page.waitForTimeout(8000);
console.log(formatFrameTimes('live flagship', await stop()));
const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[]; samples: number[]; timeDeltas: number[] } };
const self = new Map<number, number>();
profile.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFn = new Map<string, number>();
for (const n of profile.nodes) {
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
  byFn.set(key, (byFn.get(key) ?? 0) + (self.get(n.id) ?? 0));
}
const total = [...byFn.values()].reduce((a, b) => a + b, 0);
console.log('total ms', (total / 1000).toFixed(0));
for (const [k, v] of [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((v / 1000).toFixed(1).padStart(8), k);
await b.close();
