/**
 * `npm run ai:accuracy -w examples/refront-demo`: trains the local AI provider on
 * data/tickets.train.jsonl, classifies every held-out ticket of data/tickets.test.jsonl one at a
 * time, and prints the accuracy and the latency per ticket. `--verbose` lists the misses.
 */
import { loadLabelledTickets, TEST_SET_URL, TRAINING_SET_URL } from '../src/ai/dataset.js';
import { evaluateProvider } from '../src/ai/evaluate.js';
import { createLocalProvider } from '../src/ai/localProvider.js';

const started = performance.now();
const training = await loadLabelledTickets(TRAINING_SET_URL);
const provider = await createLocalProvider({ training });
const trainedMs = performance.now() - started;
const test = await loadLabelledTickets(TEST_SET_URL);
// One untimed pass over the training tickets warms the JIT, as in a long-running service.
await evaluateProvider(provider, training);
const e = await evaluateProvider(provider, test);

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(
  `provider ${e.provider}: trained on ${training.length} tickets in ${trainedMs.toFixed(0)} ms (model load included)`,
);
console.log(`held-out test set: ${e.tickets} tickets`);
console.log(`category accuracy   ${pct(e.categoryAccuracy)}`);
console.log(`urgency accuracy    ${pct(e.urgencyAccuracy)} (within one level: ${pct(e.urgencyWithinOne)})`);
console.log(
  `latency per ticket  mean ${e.latencyMs.mean.toFixed(3)} ms, p50 ${e.latencyMs.p50.toFixed(3)} ms, ` +
    `p95 ${e.latencyMs.p95.toFixed(3)} ms, max ${e.latencyMs.max.toFixed(3)} ms`,
);
const labels = Object.keys(e.confusion).sort();
console.log(
  `confusion (rows: labelled, columns: predicted)\n${''.padEnd(10)}${labels.map((l) => l.padStart(9)).join('')}`,
);
for (const actual of labels) {
  console.log(
    `${actual.padEnd(10)}${labels.map((p) => String(e.confusion[actual]?.[p] ?? 0).padStart(9)).join('')}`,
  );
}
if (process.argv.includes('--verbose')) {
  for (const m of e.misses) console.log(`  miss: "${m.title}" labelled ${m.expected}, got ${m.got}`);
}
