// Uploads a file through the demo page in a real Chromium and checks what the
// page shows. Run by `test` (the wrapper that starts the stack and checks the
// database and files afterwards):
//
//   node browser-test.mjs URL FILE SCREENSHOT
//
// Prints one JSON line {"upload_id", "chunks", "message", "progress"} on success;
// exits 1 with a message naming what was wrong otherwise.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';

const CHUNK_SIZE = 100000; // the page's maxChunkSize
const TIMEOUT_MS = 180_000;

const [url, file, screenshot] = process.argv.slice(2);
if (!url || !file || !screenshot) {
  console.error('usage: node browser-test.mjs URL FILE SCREENSHOT');
  process.exit(2);
}
const size = statSync(file).size;
const name = basename(file);
const expectedMessage = `You successfully uploaded '${name}' (${size} bytes)!`;
const expectedChunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));

function fail(message, details = []) {
  console.error(`browser-test: FAIL: ${message}`);
  for (const line of details) console.error(`  ${line}`);
  process.exitCode = 1;
}

const userDataDir = mkdtempSync(join(tmpdir(), 'demo-chromium-'));
// Debian's Chromium: playwright-core cannot download a browser here.
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1000, height: 760 },
});
const browserLog = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => browserLog.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => browserLog.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => browserLog.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) browserLog.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || response.status() !== 200) {
    throw new Error(`GET ${url} answered ${response ? response.status() : 'nothing'}`);
  }
  await page.waitForFunction(() => window.jQuery && jQuery.fn.fileupload && window.SparkMD5, null, { timeout: 10_000 })
    .catch(() => { throw new Error('the page did not load jQuery, jQuery File Upload and SparkMD5'); });

  const started = Date.now();
  await page.setInputFiles('#chunked_upload', file);
  // The page appends one <p> to #messages: the answer of the complete URL, or an error.
  const outcome = await page.locator('#messages p').first();
  await outcome.waitFor({ timeout: TIMEOUT_MS })
    .catch(() => { throw new Error(`no message in #messages within ${TIMEOUT_MS / 1000} s`); });
  const seconds = (Date.now() - started) / 1000;

  const messageText = (await outcome.textContent()).trim();
  const messageClass = await outcome.getAttribute('class');
  const progressLabel = (await page.locator('#progress .label').textContent()).trim();
  const progressValue = await page.locator('#progress').getAttribute('aria-valuenow');
  const chunkAnswers = (await page.locator('#chunks li').allTextContents()).map((t) => JSON.parse(t));
  await page.screenshot({ path: screenshot, fullPage: true });

  const problems = [];
  if (messageClass !== 'success') problems.push(`the page shows an error: ${JSON.stringify(messageText)}`);
  if (messageText !== expectedMessage) {
    problems.push(`message ${JSON.stringify(messageText)}, expected ${JSON.stringify(expectedMessage)}`);
  }
  if (progressLabel !== '100%' || progressValue !== '100') {
    problems.push(`progress shows ${JSON.stringify(progressLabel)} (aria-valuenow ${progressValue}), expected 100%`);
  }
  if (chunkAnswers.length !== expectedChunks) {
    problems.push(`${chunkAnswers.length} chunk answers on the page, expected ${expectedChunks} for ${size} bytes`);
  }
  const ids = new Set(chunkAnswers.map((a) => a.upload_id));
  const offsets = chunkAnswers.map((a) => a.offset);
  if (ids.size !== 1) problems.push(`chunk answers name ${ids.size} upload ids: ${[...ids].join(', ')}`);
  const wantOffsets = Array.from({ length: expectedChunks }, (_, i) => Math.min((i + 1) * CHUNK_SIZE, size));
  if (JSON.stringify(offsets) !== JSON.stringify(wantOffsets)) {
    problems.push(`chunk offsets ${JSON.stringify(offsets.slice(-3))}… do not step by ${CHUNK_SIZE} up to ${size}`);
  }
  if (problems.length) {
    fail('the page does not show a finished upload', [...problems, ...browserLog]);
  } else {
    console.log(JSON.stringify({
      upload_id: [...ids][0], chunks: chunkAnswers.length, message: messageText,
      progress: progressLabel, seconds,
    }));
  }
} catch (error) {
  fail(error.message, browserLog);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
