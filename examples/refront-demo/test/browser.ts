/**
 * What the console's browser tests share: Debian's chromium driven by playwright-core (no
 * browser download), started headless with a fresh profile and without the background
 * networking this machine's closed network refuses, and the folder screenshots go to.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; `.ci/run` installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether the browser tests can run: chromium is installed. Without it they are skipped with a
 * warning, unless `REFRONT_REQUIRE_INFRA=1`, where its absence fails the run.
 * @throws Error under `REFRONT_REQUIRE_INFRA=1` when chromium is missing.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const hint = `${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`)`;
  if (process.env.REFRONT_REQUIRE_INFRA === '1') throw new Error(`${hint} (REFRONT_REQUIRE_INFRA=1)`);
  console.warn(`skipping: ${hint}`);
  return false;
}

/** Where screenshots go: `REFRONT_CONSOLE_SCREENSHOTS` (the docs' folder when refreshing them), else a new temporary folder. */
export function screenshotDir(): string {
  const dir = process.env.REFRONT_CONSOLE_SCREENSHOTS
    ? resolve(process.env.REFRONT_CONSOLE_SCREENSHOTS)
    : mkdtempSync(join(tmpdir(), 'refront-console-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A headless chromium with a fresh profile (playwright passes it as `--user-data-dir`) and its first page. */
export async function launchChromium(): Promise<{ readonly browser: BrowserContext; readonly page: Page }> {
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'refront-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  return { browser, page };
}

/** The services of the spans a trace's waterfall shows (`data-service` of its rows), each once, sorted. */
export async function servicesShown(waterfall: Locator): Promise<string[]> {
  const services = await waterfall
    .locator('.span-row')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-service') ?? ''));
  return [...new Set(services)].sort();
}
