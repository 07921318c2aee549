// The web dashboard in Debian's headless Chromium: `node dashboard.mjs http://127.0.0.1:8080`, against
// `trustsafe dev` with its demo history (the e2e test `the_dashboard_and_the_signing_page_in_a_real_browser` runs it).
// It signs in as people would, checks that the charts are drawn and say what the API says, and that a
// school's DSL sees their school and nothing of any other.

import assert from 'node:assert/strict';
import { demoUsers, launch, watchedPage } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const step = text => console.log(`browser: ${text}`);

const { tokenOf, api } = await demoUsers(base);
const sum = values => values.reduce((total, value) => total + (value ?? 0), 0);

/** Every chart in `section`: its data as Chart.js holds it, and how much of its canvas is inked. */
const chartsIn = (page, section) => page.$$eval(`${section} canvas`, canvases => canvases.map(canvas => {
  const chart = Chart.getChart(canvas);
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] > 0) inked += 1;
  return {
    id: canvas.id,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map(({ label, data }) => ({ label, data })),
    inked: inked / (canvas.width * canvas.height),
  };
}));

const browser = await launch();
try {
  const { page, errors, state } = await watchedPage(browser, { width: 1280, height: 1000 });

  step('the sign-in page offers the demo users');
  await page.goto(`${base}/`);
  await state('signed-out');
  await page.getByRole('button', { name: 'viking trust_safeguarding_lead', exact: true }).click();
  await state('ready');

  step("the trust overview draws the year's concerns by school and category, the monthly trend and ages");
  const trust = await api('/api/v1/trusts/viking/dashboard', 'viking trust_safeguarding_lead');
  const concerns = sum(Object.values(trust.total.concerns_by_category));
  assert.ok(concerns >= 100, `the demo history gives the charts something to say: ${concerns}`);
  const charts = Object.fromEntries((await chartsIn(page, 'section[data-trust="viking"]')).map(chart => [chart.id, chart]));
  assert.deepEqual(Object.keys(charts).sort(), ['trust-viking-ages', 'trust-viking-by-school', 'trust-viking-trend']);
  for (const chart of Object.values(charts)) assert.ok(chart.inked > 0.02, `${chart.id} is drawn (${chart.inked})`);
  const bySchool = charts['trust-viking-by-school'];
  assert.deepEqual(bySchool.labels, trust.schools.map(school => school.name));
  trust.schools.forEach((school, n) => {
    assert.equal(sum(bySchool.datasets.map(dataset => dataset.data[n])),
      sum(Object.values(school.figures.concerns_by_category)), `${school.name}'s bar`);
  });
  const trend = charts['trust-viking-trend'];
  assert.equal(trend.labels.length, 12, 'twelve months');
  assert.equal(sum(trend.datasets.find(dataset => dataset.label === 'Opened').data), concerns);
  assert.ok(trend.datasets.find(dataset => dataset.label === 'Opened').data.filter(n => n > 0).length >= 10,
    'concerns in most months');
  const text = await page.textContent('body');
  for (const school of ['Chilton Primary School', 'Ramsgate Free School', 'Ramsgate Arts Primary School']) {
    assert.ok(text.includes(school), school);
  }
  assert.ok(!text.includes('Claremont'), 'another trust never appears');

  step("the filtering panel draws the year's breaches by month and school, and each school's duties");
  const filtering = await api('/api/v1/trusts/viking/filtering', 'viking trust_safeguarding_lead');
  const [byMonth] = await chartsIn(page, 'section[data-filtering="viking"]');
  assert.equal(byMonth.id, 'filtering-viking-by-month');
  assert.ok(byMonth.inked > 0.02, `the filtering chart is drawn (${byMonth.inked})`);
  assert.deepEqual(byMonth.datasets.map(dataset => dataset.label), trust.schools.map(school => school.name));
  assert.equal(sum(byMonth.datasets.flatMap(dataset => dataset.data)), sum(Object.values(filtering.total.by_month)));
  assert.ok(sum(Object.values(filtering.total.by_month)) > 0, 'the demo history has breaches');
  const duties = await page.$$eval('section[data-filtering="viking"] table.duties tbody tr', rows => rows.map(row => row.cells[0].textContent));
  assert.deepEqual(duties, trust.schools.map(school => school.name));
  assert.match(await page.textContent('section[data-filtering="viking"] table.duties'), /a check is due|never/);
  assert.match(await page.textContent('section[data-filtering="viking"] .patterns h3'),
    new RegExp(`\\(${filtering.patterns.length}\\)`), 'the patterns are the API\'s');

  step('the acceptable-use panel is the API\'s: who is covered, access on record, none given without an agreement');
  const agreements = await api('/api/v1/trusts/viking/acceptable-use', 'viking trust_safeguarding_lead');
  const counted = (figures, ...which) => sum(Object.values(figures.compliance).flatMap(counts => which.map(w => counts[w])));
  const covered = counted(agreements.total, 'current', 'due');
  assert.ok(covered > 0, 'the demo roster has signed');
  const aupTiles = await page.$$eval('section[data-acceptable-use="viking"] .tile .value', all => all.map(tile => tile.textContent));
  assert.equal(aupTiles[0], String(covered));
  assert.equal(aupTiles[3], '0', 'no access was given without a current agreement');
  const complianceRows = await page.$$eval('section[data-acceptable-use="viking"] table.compliance tbody tr',
    trs => trs.map(tr => [...tr.cells].map(td => td.textContent)));
  assert.equal(complianceRows.length, sum(Object.values(agreements.schools).map(school => Object.keys(school.compliance).length)));
  const rapsKs2 = complianceRows.find(([school, policy]) => school === 'Ramsgate Arts Primary School' && policy === 'KS2');
  assert.equal(rapsKs2[2], String(agreements.schools.raps.compliance.ks2.current ?? 0), "RAPS's KS2 pupils current");

  step('the overdue list is the API\'s, pseudonymised');
  const overdue = await api('/api/v1/trusts/viking/cases?overdue=true&limit=50', 'viking trust_safeguarding_lead');
  const rows = await page.$$eval('section[data-trust="viking"] table.cases tbody tr',
    trs => trs.map(tr => tr.cells[0].textContent));
  assert.deepEqual(rows, overdue.items.map(item => item.pseudonym));

  step('the lead opens a school view');
  await page.locator('section[data-trust="viking"] table.schools tbody tr').first().getByRole('button').click();
  await page.waitForSelector(`section[data-school="${trust.schools[0].school_id}"] canvas`);
  const schoolCharts = await chartsIn(page, `section[data-school="${trust.schools[0].school_id}"]`);
  assert.equal(schoolCharts.length, 3);

  step('the lead picks a period: the last three months');
  const last = trust.to.slice(0, 7);
  const [year, month] = last.split('-').map(Number);
  const first = new Date(Date.UTC(year, month - 3, 1)).toISOString().slice(0, 7);
  await page.fill('#from', first);
  await page.fill('#to', last);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await state('ready');
  const quarter = await api(`/api/v1/trusts/viking/dashboard?from=${first}&to=${last}`, 'viking trust_safeguarding_lead');
  const quarterCharts = Object.fromEntries((await chartsIn(page, 'section[data-trust="viking"]')).map(chart => [chart.id, chart]));
  assert.equal(quarterCharts['trust-viking-trend'].labels.length, 3);
  const quarterTotal = sum(Object.values(quarter.total.concerns_by_category));
  assert.equal(sum(quarterCharts['trust-viking-by-school'].datasets.flatMap(dataset => dataset.data)), quarterTotal);
  assert.ok(quarterTotal > 0 && quarterTotal < concerns, `a quarter is part of the year: ${quarterTotal} of ${concerns}`);

  step("a period the wrong way round gets the API's reason");
  await page.fill('#from', last);
  await page.fill('#to', first);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await state('ready');
  assert.match(await page.textContent('#message'), /from is after to/);
  assert.equal(await page.locator('section.view').count(), 0);

  step("a trust governor sees the overview with small counts suppressed, and no case list");
  await page.click('#sign-out');
  await state('signed-out');
  await page.getByRole('button', { name: 'viking trust_governor', exact: true }).click();
  await state('ready');
  const governed = await api('/api/v1/trusts/viking/dashboard', 'viking trust_governor');
  assert.equal(governed.small_counts_suppressed, true);
  const governorCharts = Object.fromEntries((await chartsIn(page, 'section[data-trust="viking"]')).map(chart => [chart.id, chart]));
  const suppressed = governed.schools.flatMap(school => Object.values(school.figures.concerns_by_category)).filter(n => n === '<5');
  assert.ok(suppressed.length > 0, 'a term at three schools has some categories under five');
  assert.ok(governed.from.endsWith('-01') && (await page.isVisible('#term-form')) && !(await page.isVisible('#period')),
    'a governor picks whole terms, not months');
  assert.equal(governorCharts['trust-viking-by-school'].datasets.flatMap(dataset => dataset.data).filter(n => n === null).length,
    suppressed.length, 'each "<5" is left out of the chart, not drawn as a number');
  assert.match(await page.textContent('section[data-trust="viking"]'), /shown as “<5”|show as “<5”/);
  const totals = Object.values(governed.total.concerns_by_category);
  assert.equal(await page.textContent('section[data-trust="viking"] .tile .value'),
    `${sum(totals.filter(n => typeof n === 'number'))}${totals.some(n => typeof n !== 'number') ? '+' : ''}`,
    'a total that leaves out counts under five says so');
  assert.equal(await page.locator('table.cases').count(), 0);
  assert.equal(await page.locator('table.schools button').count(), 0);

  step("the governor's filtering section is their termly report's: the term's breaches suppressed, each school's duties");
  const report = await api(`/api/v1/trusts/viking/reports/governors?term=${await page.evaluate(() => recentTerms()[0])}`, 'viking trust_governor');
  const breaches = Object.values(report.filtering.total.by_category);
  assert.ok(breaches.length > 0, 'the demo term has breaches');
  assert.equal(await page.textContent('section[data-filtering="viking"] .tile .value'),
    `${sum(breaches.filter(n => typeof n === 'number'))}${breaches.some(n => typeof n !== 'number') ? '+' : ''}`);
  const cells = await page.$$eval('section[data-filtering="viking"] table.schools td', all => all.map(td => td.textContent));
  assert.ok(!cells.some(text => /^[1-4]$/.test(text)), `no count from 1 to 4 shows: ${cells}`);
  assert.equal(await page.locator('section[data-filtering="viking"] table.duties tbody tr').count(), report.filtering.schools.length);
  assert.equal(await page.locator('section[data-filtering="viking"] .patterns').count(), 0, 'patterns are the trust lead\'s');
  const governedAup = await page.$$eval('section[data-acceptable-use="viking"] td', all => all.map(td => td.textContent));
  assert.ok(governedAup.length > 0 && !governedAup.some(text => /^[1-4]$/.test(text)),
    `acceptable use shows governors no count from 1 to 4: ${governedAup}`);

  step('signed out, a DSL pastes their token and sees their school only');
  await page.click('#sign-out');
  await state('signed-out');
  await page.fill('#token', tokenOf('raps dsl'));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await state('ready');
  const sections = await page.$$eval('section.view', all => all.map(s => ({ ...s.dataset })));
  assert.deepEqual(sections, [{ school: 'raps' }]);
  const raps = await api('/api/v1/schools/raps/dashboard', 'raps dsl');
  const rapsCharts = Object.fromEntries((await chartsIn(page, 'section[data-school="raps"]')).map(chart => [chart.id, chart]));
  for (const chart of Object.values(rapsCharts)) assert.ok(chart.inked > 0.02, `${chart.id} is drawn`);
  assert.equal(sum(rapsCharts['school-raps-by-category'].datasets[0].data),
    sum(Object.values(raps.schools[0].figures.concerns_by_category)));
  const rapsAup = await page.$$eval('section[data-school="raps"] .acceptable-use table.compliance tbody tr', trs => trs.map(tr => tr.cells[0].textContent));
  assert.ok(rapsAup.length > 0 && rapsAup.every(school => school === 'Ramsgate Arts Primary School'), `${rapsAup}`);
  const dslText = await page.textContent('body');
  assert.ok(dslText.includes('Ramsgate Arts Primary School'));
  for (const other of ['Chilton', 'Ramsgate Free School', 'Claremont', 'Trust overview']) {
    assert.ok(!dslText.includes(other), `the DSL sees nothing of ${other}`);
  }
  const elsewhere = await page.evaluate(async token => {
    const headers = { Authorization: `Bearer ${token}` };
    return Promise.all(['/api/v1/schools/chilton/dashboard', '/api/v1/trusts/viking/dashboard']
      .map(async path => (await fetch(path, { headers })).status));
  }, tokenOf('raps dsl'));
  assert.deepEqual(elsewhere, [404, 404], "another school's or the trust's dashboard is not found");

  step('a member of staff has no dashboard, and is told so');
  await page.click('#sign-out');
  await state('signed-out');
  await page.getByRole('button', { name: 'raps staff', exact: true }).click();
  await state('ready');
  assert.equal(await page.locator('section.view').count(), 0);
  assert.match(await page.textContent('#message'), /no dashboard/);

  step('the API forbids the page nothing it needed: no script errors, no blocked content');
  assert.deepEqual(errors.filter(error => !/status of (400|404)/.test(error)), []);
  step('passed');
} finally {
  await browser.close();
}
