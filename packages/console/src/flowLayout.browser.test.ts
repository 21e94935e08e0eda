/**
 * The Flow view of a 40-service made-up platform in a real headless browser (Debian's chromium,
 * driven by playwright-core): the labels' boxes as chromium draws them (`getBBox`) do not overlap,
 * and every declared edge is drawn. No platform runs: `createConsole` serves the declarations and
 * holds the traces. The screenshot goes to REFRONT_CONSOLE_SCREENSHOTS when set (docs/console/
 * for the docs), else to a temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsole, type RefrontConsole } from './createConsole.js';
import { syntheticPlatform } from './testing/syntheticFlow.js';

const CHROMIUM = '/usr/bin/chromium';
const platform = syntheticPlatform(40);

interface Drawn {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function overlaps(boxes: readonly Drawn[]): string[] {
  const found: string[] = [];
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height)
        found.push(`${a.name} × ${b.name}`);
    }
  }
  return found;
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.REFRONT_REQUIRE_INFRA !== '1')(
  'the Flow view of 40 services in a browser',
  () => {
    let console: RefrontConsole;
    let browser: Browser;

    beforeAll(async () => {
      console = createConsole({
        enabled: true,
        development: true,
        port: 0,
        contracts: { descriptors: [], services: platform.services },
      });
      await console.start();
      for (const trace of platform.traces) console.store.add(trace);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    });

    afterAll(async () => {
      await browser?.close();
      await console?.close();
    });

    it('draws every declared edge, and no label over another as chromium renders them', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${console.url}/#/flow`);
      await page.locator('[data-testid=flow-node]').first().waitFor();

      // Each label's box as chromium drew it, in the SVG's coordinates (no transforms in between).
      type Graphics = {
        getBBox(): Omit<Drawn, 'name'>;
        getTotalLength(): number;
        textContent: string | null;
      };
      const boxes = (selector: string) =>
        page.locator(selector).evaluateAll((els) =>
          els.map((e) => {
            const { x, y, width, height } = (e as unknown as Graphics).getBBox();
            return { name: e.textContent ?? '', x, y, width, height };
          }),
        );
      const count = (selector: string) => page.locator(selector).count();
      const drawn = {
        nodes: await boxes('svg.flow text.node-label'),
        edgeLabels: await boxes('svg.flow text.edge-label'),
        calls: await count('[data-testid=call-edge] path'),
        publishes: await count('[data-testid=publish-edge] path'),
        deliveries: await count('[data-testid=event-edge] path'),
        emptyPaths: (
          await page
            .locator('svg.flow path.edge')
            .evaluateAll((els) => els.map((e) => (e as unknown as Graphics).getTotalLength()))
        ).filter((length) => length === 0).length,
      };

      const declared = platform.services.reduce(
        (n, s) => n + Object.keys(s.callers ?? {}).length + s.publishes.length + s.consumes.length,
        0,
      );
      expect(drawn.calls + drawn.publishes + drawn.deliveries).toBe(declared);
      expect(drawn.emptyPaths).toBe(0);
      expect(drawn.nodes.length).toBeGreaterThanOrEqual(40);
      // Every call and delivery saw traffic: each has its label.
      expect(drawn.edgeLabels).toHaveLength(drawn.calls + drawn.deliveries);
      expect(overlaps(drawn.nodes)).toEqual([]);
      expect(overlaps([...drawn.nodes, ...drawn.edgeLabels])).toEqual([]);

      const dir = process.env.REFRONT_CONSOLE_SCREENSHOTS
        ? resolve(process.env.REFRONT_CONSOLE_SCREENSHOTS)
        : mkdtempSync(join(tmpdir(), 'refront-console-'));
      mkdirSync(dir, { recursive: true });
      // The whole drawing in one picture: a viewport as wide as the drawing.
      const width = Number(await page.locator('[data-testid=flow]').getAttribute('width'));
      await page.setViewportSize({ width: width + 80, height: 900 });
      await page.locator('[data-testid=flow]').screenshot({ path: join(dir, 'flow-40-services.png') });
    });
  },
);
