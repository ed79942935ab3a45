// otap serve's dashboard in a real browser: Debian's Chromium driven by
// playwright-core (npm, from .cache/tools; its own browser download cannot
// work here). Two modes:
//
//   node dashboard.cjs screenshot URL TOKEN FILE
//       sign in, wait for the board, save a screenshot (make demo)
//   node dashboard.cjs test URL
//       the browser test of t0970; tokens and the otap binary come from the
//       environment (VIEWER, DEPLOYER, OTAP, PROJECT, SHOT). Any JavaScript
//       error on the page, any alert, any failed step exits 1.
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const fail = (msg) => { throw new Error(msg); };

async function open(url) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
  page.on('dialog', async (d) => { errors.push(`a ${d.type()} dialog opened: ${d.message()}`); await d.dismiss(); });
  await page.goto(url);
  return { browser, page, errors };
}

async function signIn(page, token) {
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#board .stage', { timeout: 10000 });
  await page.waitForFunction(() => !document.querySelector('.health .unknown')
    || document.querySelectorAll('.health p').length > 0, null, { timeout: 10000 }).catch(() => {});
}

const columnText = (page, env) => page.textContent(`.stage[data-env="${env}"]`);

async function screenshot(url, token, file) {
  const { browser, page, errors } = await open(url);
  await signIn(page, token);
  await page.waitForSelector('#chain .ok', { timeout: 10000 });
  await page.screenshot({ path: file, fullPage: true });
  await browser.close();
  if (errors.length) fail(errors.join('\n'));
}

async function test(url) {
  const { VIEWER, DEPLOYER, OTAP, PROJECT, SHOT } = process.env;
  const otap = (args, extra) => execFileSync(OTAP, args, { cwd: PROJECT, env: Object.assign({}, process.env, extra || {}), stdio: 'pipe' }).toString();
  const { browser, page, errors } = await open(url);

  // the token never reaches a URL
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));

  // ---- a viewer: the board, in order, as otap status says ----------------------------------------
  await signIn(page, VIEWER);
  const order = await page.$$eval('#board .stage', (cols) => cols.map((c) => c.dataset.env));
  const status = JSON.parse(otap(['--json', 'status', '--no-probe']));
  const want = status.environments.map((e) => e.name);
  if (JSON.stringify(order) !== JSON.stringify(want)) fail(`columns ${order}, want ${want}`);
  for (const e of status.environments) {
    const text = await columnText(page, e.name);
    if (e.live && !text.includes(e.live.version)) fail(`${e.name} shows no ${e.live.version}: ${text}`);
    if (!e.live && !text.includes('nothing live')) fail(`${e.name} should show nothing live: ${text}`);
  }
  if (await page.$('[data-action]')) fail('a viewer sees an action button');
  await page.waitForSelector('#chain .ok', { timeout: 10000 });
  const chain = await page.textContent('#chain');
  if (!/chain verified in this browser/.test(chain)) fail(`chain: ${chain}`);
  // the next page is checked with its link to the page before
  await page.click('#ledger-next');
  await page.waitForFunction(() => /#26/.test(document.querySelector('#ledger-range').textContent), null, { timeout: 5000 })
    .catch(() => fail('the ledger has no second page'));
  await page.waitForFunction(() => /chain verified in this browser .*for #26.*, linked to #25/.test(document.querySelector('#chain').textContent), null, { timeout: 5000 })
    .catch(async () => fail(`second page: ${await page.textContent('#chain')}`));
  await page.click('#ledger-first');
  await page.waitForFunction(() => /^#1–/.test(document.querySelector('#ledger-range').textContent), null, { timeout: 5000 });
  // what the store says stays text: the planted note, actor and details
  const ledgerText = await page.textContent('#ledger');
  if (!ledgerText.includes('<img src=x onerror=alert(1)>')) fail('the planted note is not shown as characters');
  if (await page.$('#ledger img, #board img, #history img')) fail('a planted tag became an element');
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')));
  for (const h of hrefs) if (!/^https?:\/\//.test(h)) fail(`a link that is not http(s): ${h}`);
  if (!hrefs.some((h) => h.startsWith('https://ci.example/'))) fail(`the gate's run link is missing: ${hrefs}`);
  const history = await page.textContent('#history');
  if (!/promote/.test(history)) fail(`history: ${history}`);

  // ---- live: a promotion from the CLI shows within two seconds, no reload -------------------------
  const marker = await page.evaluate(() => (window.__same = 1));
  const t0 = Date.now();
  otap(['promote', '1.0.0', '--to', 'test']);
  await page.waitForFunction(() => /1\.0\.0/.test(document.querySelector('.stage[data-env="test"]').textContent), null, { timeout: 2000 })
    .catch(() => fail('the board did not show the CLI promotion within 2 s'));
  const ms = Date.now() - t0;
  if (!(await page.evaluate(() => window.__same === 1)) || !marker) fail('the page reloaded');
  console.log(`the board showed the CLI's promotion after ${ms} ms (promotion included)`);

  // ---- a deployer: the promote button works and lands in the ledger -------------------------------
  await page.click('#signout');
  await signIn(page, DEPLOYER);
  const btn = await page.waitForSelector('.stage[data-env="test"] [data-action="promote"]', { timeout: 5000 });
  if (await btn.isDisabled()) fail('the deployer cannot promote to staging');
  const prodBtn = await page.$('.stage[data-env="staging"] [data-action="promote"]');
  if (prodBtn && !(await prodBtn.isDisabled())) fail('a deployer may promote into a protected environment');
  await btn.click();
  await page.waitForSelector('#confirm[open]');
  const dialogText = await page.textContent('#confirm-body');
  if (!/checks/.test(dialogText)) fail(`the confirmation does not say what is checked: ${dialogText}`);
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /1\.0\.0/.test(document.querySelector('.stage[data-env="staging"]').textContent), null, { timeout: 30000 })
    .catch(() => fail('the promotion from the page did not reach staging'));
  const ledger = JSON.parse(otap(['--json', 'ledger', 'show', '--env', 'staging']));
  if (!ledger.entries.some((e) => e.action === 'promote.live' && e.actor === 'deployer')) fail('the page\'s promotion is not in the ledger as deployer');

  if (SHOT) await page.screenshot({ path: SHOT, fullPage: true });
  for (const u of urls) if (u.includes(VIEWER) || u.includes(DEPLOYER)) fail(`a token in a URL: ${u}`);
  await browser.close();
  if (errors.length) fail(errors.join('\n'));
  console.log('ok');
}

(async () => {
  const [mode, url, ...rest] = process.argv.slice(2);
  if (mode === 'screenshot') await screenshot(url, rest[0], rest[1]);
  else if (mode === 'test') await test(url);
  else fail('usage: dashboard.cjs screenshot URL TOKEN FILE | test URL');
})().catch((e) => { console.error(e.message || e); process.exit(1); });
