// TEMPORARY dev helper (deleted before handing in)
import { launchBrowser } from './browser.ts';
import { shootBothThemes } from './screenshots.ts';
const url = process.argv[2]!;
const hash = process.argv[3] ?? '';
const name = process.argv[4] ?? 'dev';
const wait = Number(process.argv[5] ?? 1500);
const b = await launchBrowser();
const page = await b.context.newPage();
const logs: string[] = [];
page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
await page.goto(url);
if (hash) await page.evaluate(`window.location.hash = ${JSON.stringify(hash)}`);
await page.waitForTimeout(wait);
const files = await shootBothThemes(page, name);
console.log(files.join('\n'));
console.log(logs.join('\n'));
await b.close();
