'use strict';
// The trustsafe dashboard (with /shared/page.js). It signs in with a token (kept for this tab only), reads from the token
// whom it is for, and draws what that person may see, from the public API alone. The API decides
// what anyone sees: the token's grants only choose which dashboards to ask for.

const STORAGE_KEY = 'trustsafe.token';
const TRUST_ROLES = ['trust_safeguarding_lead', 'trust_governor'];
const SCHOOL_ROLES = ['dsl', 'deputy_dsl', 'headteacher'];
const AGE_BANDS = { '0_7_days': '0–7 days', '8_30_days': '8–30 days', '31_90_days': '31–90 days', over_90_days: 'Over 90 days' };
const PALETTE = ['#1f5f8b', '#d1495b', '#edae49', '#00798c', '#66a182', '#8d6a9f', '#2e4057', '#f08a4b',
  '#4f9d69', '#b56576', '#6d597a', '#3d5a80', '#9c6644'];

const $ = selector => document.querySelector(selector);
const views = $('#views');
let token = sessionStorage.getItem(STORAGE_KEY);
// The months shown (`YYYY-MM`); unset, the API's default: the twelve months to this one.
let period = null;

const periodQuery = () => (period ? `?from=${period.from}&to=${period.to}` : '');
// Governors see whole terms (the API gives them no months): unset, the API's default, this term.
let term = null;
const trustQuery = lead => (lead ? periodQuery() : term ? `?term=${term}` : '');

/** This term and the five before it, newest first: `2026-autumn`, `2026-summer`, … */
function recentTerms(today = new Date()) {
  const seasons = ['spring', 'summer', 'autumn'];
  const month = today.getUTCMonth() + 1;
  let year = today.getUTCFullYear();
  let season = month <= 3 ? 0 : month <= 8 ? 1 : 2;
  const terms = [];
  for (let n = 0; n < 6; n++) {
    terms.push(`${year}-${seasons[season]}`);
    season -= 1;
    if (season < 0) { season = 2; year -= 1; }
  }
  return terms;
}

const api = path => request(token, path);

/** The period form shows the months on screen. */
function showPeriod(dashboard) {
  if ($('#from').value) return;
  $('#from').value = dashboard.from.slice(0, 7);
  $('#to').value = dashboard.to.slice(0, 7);
}

const label = id => id.replace(/_/g, ' ').replace(/^./, c => c.toUpperCase());
// Governors see counts from 1 to 4 as "<5": those are left out of the charts, not drawn as a number.
const drawable = value => (typeof value === 'number' ? value : null);
const shown = value => (value == null ? '0' : String(value));
const total = values => values.reduce((sum, value) => sum + (typeof value === 'number' ? value : 0), 0);
// A sum as a governor may see it: "163+" where some of what it adds up was "<5".
const totalShown = values => `${total(values)}${values.some(value => typeof value !== 'number') ? '+' : ''}`;

/** A table of `rows` under the column heads `head`. */
function table(className, head, rows) {
  return el('table', { className }, el('thead', {}, el('tr', {}, ...head.map(text => el('th', { textContent: text })))),
    el('tbody', {}, ...rows));
}

/** A row of cells holding `texts`. */
const row = texts => el('tr', {}, ...texts.map(text => el('td', { textContent: text })));

function monthsBetween(from, to) {
  const months = [];
  let [year, month] = from.split('-').map(Number);
  const [lastYear, lastMonth] = to.split('-').map(Number);
  while (year < lastYear || (year === lastYear && month <= lastMonth)) {
    months.push(`${year}-${String(month).padStart(2, '0')}`);
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return months;
}

function message(text) {
  const node = $('#message');
  node.textContent = text;
  node.hidden = !text;
}

function tile(value, text, alert = false) {
  return el('div', { className: alert ? 'tile alert' : 'tile' }, el('div', { className: 'value', textContent: String(value) }),
    el('div', { className: 'label', textContent: text }));
}

function tiles(figures) {
  const open = Object.values(figures.open_by_age);
  const median = figures.median_minutes_to_acknowledge;
  return el('div', { className: 'tiles' },
    tile(totalShown(Object.values(figures.concerns_by_category)), 'concerns reported in the period'),
    tile(totalShown(open), 'open now'),
    tile(shown(figures.overdue_acknowledgements), 'acknowledgements overdue', figures.overdue_acknowledgements !== 0),
    tile(shown(figures.overdue_steps), 'steps overdue', figures.overdue_steps !== 0),
    tile(median == null ? '–' : `${Math.round(median)} min`, 'median time to DSL acknowledgement'));
}

/** A titled chart; drawn by `draw` once it is in the page, so it takes the page's size. */
function figure(id, caption) {
  const canvas = el('canvas', { id });
  return [el('figure', {}, el('figcaption', { textContent: caption }), el('div', { className: 'chart-box' }, canvas)), canvas];
}

function draw(canvas, type, labels, datasets, stacked = false) {
  return new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { position: stacked ? 'right' : 'bottom', display: datasets.length > 1 } },
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

function trend(canvas, period, figures) {
  const months = monthsBetween(period.from.slice(0, 7), period.to.slice(0, 7));
  draw(canvas, 'line', months, [
    { label: 'Opened', data: months.map(m => drawable(figures.opened_by_month[m] ?? 0)), borderColor: PALETTE[0], backgroundColor: PALETTE[0] },
    { label: 'Closed', data: months.map(m => drawable(figures.closed_by_month[m] ?? 0)), borderColor: PALETTE[4], backgroundColor: PALETTE[4] },
  ]);
}

function ages(canvas, figures) {
  draw(canvas, 'bar', Object.values(AGE_BANDS), [
    { label: 'Open concerns', data: Object.keys(AGE_BANDS).map(band => drawable(figures.open_by_age[band] ?? 0)), backgroundColor: PALETTE[2] },
  ]);
}

async function trustView(trustId, lead) {
  const dashboard = await api(`/api/v1/trusts/${encodeURIComponent(trustId)}/dashboard${trustQuery(lead)}`);
  showPeriod(dashboard);
  const section = el('section', { className: 'view' });
  section.dataset.trust = trustId;
  section.append(
    el('h2', { textContent: `Trust overview: ${trustId}` }),
    el('p', { className: 'period', textContent: `${dashboard.from} to ${dashboard.to} · ${dashboard.schools.length} schools` }));
  if (dashboard.small_counts_suppressed) {
    section.append(el('p', { className: 'note', textContent: 'Counts from 1 to 4 show as “<5” and are left out of the charts, so no child can be singled out; figures that would give one away are withheld, and governors see whole terms.' }));
  }
  section.append(tiles(dashboard.total));
  const [bySchool, bySchoolCanvas] = figure(`trust-${trustId}-by-school`, 'Concerns by school and category');
  bySchool.className = 'wide';
  const [monthly, monthlyCanvas] = figure(`trust-${trustId}-trend`, 'Opened and closed each month, all schools');
  const [open, openCanvas] = figure(`trust-${trustId}-ages`, 'Open concerns by age, all schools');
  section.append(el('div', { className: 'charts' }, bySchool, monthly, open), schoolTable(dashboard, lead));
  if (lead) section.append(await overdueList(trustId, dashboard));
  views.append(section);

  const categories = [...new Set(dashboard.schools.flatMap(s => Object.keys(s.figures.concerns_by_category)))].sort();
  draw(bySchoolCanvas, 'bar', dashboard.schools.map(s => s.name),
    categories.map((category, n) => ({
      label: label(category),
      data: dashboard.schools.map(s => drawable(s.figures.concerns_by_category[category] ?? 0)),
      backgroundColor: PALETTE[n % PALETTE.length],
    })), true);
  trend(monthlyCanvas, dashboard, dashboard.total);
  ages(openCanvas, dashboard.total);
  if (lead) {
    await filteringView(trustId, dashboard);
    await acceptableUseView(trustId, dashboard);
  } else {
    await governorsSections(trustId);
  }
}

const AUDIENCES = { eyfs_ks1: 'EYFS and KS1', ks2: 'KS2', ks3_5: 'KS3 to 5', send_learners: 'SEND learners', staff: 'Staff',
  parents_carers: 'Parents and carers', visitors_volunteers: 'Visitors and volunteers', wifi_users: 'Wi-Fi users',
  social_media_staff: 'Staff running social media' };
const STANDINGS = { current: 'Current', due: 'Due to sign again', overdue: 'Overdue', missing: 'Never signed',
  declined: 'Declined', no_policy: 'No policy in force' };

/** Where each school's roster stands with its own acceptable-use policy today, the access on record
 * and the period's visitors (`schools`: name and figures): exact for leads, suppressed for governors. */
function acceptableUse(caption, schools, t) {
  const standing = (figures, ...which) => Object.values(figures.compliance).flatMap(counts => which.map(w => counts[w] ?? 0));
  const uncovered = standing(t, 'overdue', 'missing', 'declined', 'no_policy');
  const compliance = schools.flatMap(({ name, figures }) => Object.entries(figures.compliance).map(([audience, counts]) =>
    row([name, AUDIENCES[audience] ?? label(audience), ...Object.keys(STANDINGS).map(w => shown(counts[w]))])));
  const access = schools.map(({ name, figures: { grants, visitors_by_month } }) =>
    row([name, shown(grants.in_force), shown(grants.lapsed), shown(grants.granted_without_agreement), totalShown(Object.values(visitors_by_month))]));
  return el('div', { className: 'acceptable-use' },
    el('h2', { textContent: 'Acceptable use' }),
    el('p', { className: 'period', textContent: caption }),
    el('div', { className: 'tiles' },
      tile(totalShown(standing(t, 'current', 'due')), 'covered by a current agreement'),
      tile(totalShown(uncovered), 'not covered: overdue, never signed, declined', total(uncovered) !== 0),
      tile(shown(t.grants.lapsed), 'grants lapsed: renew or revoke', t.grants.lapsed !== 0),
      tile(shown(t.grants.granted_without_agreement), 'access given without an agreement', t.grants.granted_without_agreement !== 0),
      tile(totalShown(Object.values(t.visitors_by_month)), 'visitors')),
    table('compliance', ['School', 'Policy', ...Object.values(STANDINGS)], compliance),
    table('access', ['School', 'Access in force', 'Lapsed', 'Given without an agreement', 'Visitors'], access));
}

async function acceptableUseView(trustId, dashboard) {
  const figures = await api(`/api/v1/trusts/${encodeURIComponent(trustId)}/acceptable-use${periodQuery()}`);
  const section = el('section', { className: 'view' });
  section.dataset.acceptableUse = trustId;
  const schools = dashboard.schools.map(({ school_id, name }) => ({ name, figures: figures.schools[school_id] }));
  section.append(acceptableUse(`Standing and access today; visitors ${figures.from} to ${figures.to}`, schools, figures.total));
  views.append(section);
}

/** Filtering breaches across the trust's schools, and where each school stands with its DfE duties
 * (the trust's safeguarding lead alone). */
async function filteringView(trustId, dashboard) {
  const filtering = await api(`/api/v1/trusts/${encodeURIComponent(trustId)}/filtering${periodQuery()}`);
  const schools = dashboard.schools.filter(s => filtering.schools[s.school_id]);
  const section = el('section', { className: 'view' });
  section.dataset.filtering = trustId;
  const t = filtering.total;
  const [monthly, monthlyCanvas] = figure(`filtering-${trustId}-by-month`, 'Filtering breaches each month, by school');
  monthly.className = 'wide';
  section.append(
    el('h2', { textContent: 'Filtering' }),
    el('p', { className: 'period', textContent: `${filtering.from} to ${filtering.to} · breaches first seen in the period; open and overdue now` }),
    el('div', { className: 'tiles' },
      tile(total(Object.values(t.by_category)), 'breaches in the period'),
      tile(t.escalated, 'escalated to a concern'),
      tile(t.open, 'open now'),
      tile(t.overdue_triage, 'triage overdue', t.overdue_triage !== 0),
      tile(t.overdue_parents, 'parents not told in time', t.overdue_parents !== 0)),
    el('div', { className: 'charts' }, monthly),
    dutiesTable(schools, filtering.duties),
    patternList(filtering.patterns, Object.fromEntries(schools.map(s => [s.school_id, s.name]))));
  views.append(section);
  const months = monthsBetween(filtering.from.slice(0, 7), filtering.to.slice(0, 7));
  draw(monthlyCanvas, 'bar', months, schools.map((school, n) => ({
    label: school.name,
    data: months.map(m => filtering.schools[school.school_id].by_month[m] ?? 0),
    backgroundColor: PALETTE[n % PALETTE.length],
  })), true);
}

/** The governors' termly report's filtering and acceptable use. */
async function governorsSections(trustId) {
  const report = await api(`/api/v1/trusts/${encodeURIComponent(trustId)}/reports/governors?term=${term ?? recentTerms()[0]}`);
  governorsFilteringView(trustId, report);
  const section = el('section', { className: 'view' });
  section.dataset.acceptableUse = trustId;
  const { schools, total: t } = report.acceptable_use;
  section.append(acceptableUse(`Standing and access today; visitors ${report.from} to ${report.to}`, schools, t));
  views.append(section);
}

/** Filtering for the trust's governors, from their termly report: the term's breaches, suppressed as
 * the concerns' figures are, and where each school stands with the filtering duties they oversee. */
function governorsFilteringView(trustId, report) {
  const { schools, total: t } = report.filtering;
  const section = el('section', { className: 'view' });
  section.dataset.filtering = trustId;
  const overdue = value => value !== 0;
  const head = ['School', 'Breaches', 'Escalated', 'Open', 'Triage overdue', 'Parents not told in time'];
  const rows = schools.map(({ name, figures }) => el('tr', {},
    ...[name, totalShown(Object.values(figures.by_category)), shown(figures.escalated), shown(figures.open),
      shown(figures.overdue_triage), shown(figures.overdue_parents)].map(text => el('td', { textContent: text }))));
  section.append(
    el('h2', { textContent: 'Filtering' }),
    el('p', { className: 'period', textContent: `${report.from} to ${report.to} · breaches first seen in the term; open and overdue now` }),
    el('div', { className: 'tiles' },
      tile(totalShown(Object.values(t.by_category)), 'breaches in the term'),
      tile(shown(t.escalated), 'escalated to a concern'),
      tile(shown(t.open), 'open now'),
      tile(shown(t.overdue_triage), 'triage overdue', overdue(t.overdue_triage)),
      tile(shown(t.overdue_parents), 'parents not told in time', overdue(t.overdue_parents))),
    table('schools', head, rows),
    dutiesTable(schools, Object.fromEntries(schools.map(s => [s.school_id, s.duties]))));
  views.append(section);
}

/** The same blocked host (by the start of its key) or alert category at two schools within a week. */
function patternList(patterns, names) {
  const box = el('div', { className: 'patterns' }, el('h3', { textContent: `Seen at more than one school (${patterns.length})` }));
  if (patterns.length === 0) {
    box.append(el('p', { className: 'note', textContent: 'No host or alert category was seen at two schools within a week.' }));
    return box;
  }
  box.append(el('p', { className: 'note', textContent: 'Nobody is named, nor the host: each school’s DSL finds the reference beside the breach.' }));
  const head = ['Seen', 'Reference', 'Category', 'Schools', 'Breaches'];
  const rows = patterns.map(p => el('tr', {},
    ...[`${p.first_seen.slice(0, 10)} to ${p.last_seen.slice(0, 10)}`, p.kind === 'host' ? `host ${p.reference}` : `alerts: ${label(p.reference)}`,
      label(p.category), p.schools.map(id => names[id] ?? id).join(', '), String(p.breaches)]
      .map(text => el('td', { textContent: text }))));
  box.append(table('patterns', head, rows));
  return box;
}

function dutiesTable(schools, duties) {
  const head = ['School', 'Roles not named', 'Last check', 'Annual review', 'Changes awaiting'];
  const rows = schools.map(({ school_id, name }) => {
    const duty = duties[school_id];
    const check = duty.last_check_at ? duty.last_check_at.slice(0, 10) : 'never';
    const review = { current: `due by ${duty.next_review_by}`, overdue: `overdue since ${duty.next_review_by}`, not_recorded: 'not recorded' }[duty.review];
    return el('tr', {},
      el('td', { textContent: name }),
      el('td', { className: duty.roles_missing.length ? 'flag' : '', textContent: duty.roles_missing.map(label).join(', ') || 'none' }),
      el('td', { className: duty.check_due ? 'flag' : '', textContent: duty.check_due ? `${check}: a check is due` : check }),
      el('td', { className: duty.review === 'current' ? '' : 'flag', textContent: review }),
      el('td', { textContent: String(duty.changes_awaiting) }));
  });
  return table('duties', head, rows);
}

function schoolTable(dashboard, lead) {
  const head = ['School', 'Concerns', 'Open', 'Acknowledgements overdue', 'Steps overdue', 'Median to acknowledge', ''];
  const rows = dashboard.schools.map(({ school_id, name, figures }) => {
    const view = lead
      ? el('button', { type: 'button', textContent: 'School view', onclick: () => schoolView(school_id).catch(failed) })
      : null;
    const median = figures.median_minutes_to_acknowledge;
    return el('tr', {}, ...[name, totalShown(Object.values(figures.concerns_by_category)), totalShown(Object.values(figures.open_by_age)),
      shown(figures.overdue_acknowledgements), shown(figures.overdue_steps), median == null ? '–' : `${Math.round(median)} min`]
      .map(text => el('td', { textContent: text })), el('td', {}, view));
  });
  return table('schools', head, rows);
}

async function overdueList(trustId, dashboard) {
  const page = await api(`/api/v1/trusts/${encodeURIComponent(trustId)}/cases?overdue=true&limit=50`);
  const names = Object.fromEntries(dashboard.schools.map(s => [s.school_id, s.name]));
  const box = el('div', { className: 'overdue' }, el('h3', { textContent: `Overdue (${page.items.length}${page.next_cursor ? '+' : ''})` }));
  if (page.items.length === 0) {
    box.append(el('p', { className: 'note', textContent: 'Nothing is overdue.' }));
    return box;
  }
  const head = ['Case', 'School', 'Category', 'Status', 'Age (days)', 'Overdue', 'Escalated'];
  const rows = page.items.map(item => el('tr', {},
    ...[item.pseudonym, names[item.school_id] ?? item.school_id, label(item.category), label(item.status), String(item.age_days)]
      .map(text => el('td', { textContent: text })),
    el('td', { className: 'flag', textContent: [item.acknowledgement_overdue ? 'acknowledgement' : null,
      item.overdue_steps ? `${item.overdue_steps} step${item.overdue_steps > 1 ? 's' : ''}` : null].filter(Boolean).join(', ') }),
    el('td', { textContent: item.escalated ? 'yes: the school shared it' : '' })));
  box.append(table('cases', head, rows));
  return box;
}

async function schoolView(schoolId) {
  const dashboard = await api(`/api/v1/schools/${encodeURIComponent(schoolId)}/dashboard${periodQuery()}`);
  const agreements = await api(`/api/v1/schools/${encodeURIComponent(schoolId)}/acceptable-use${periodQuery()}`);
  showPeriod(dashboard);
  const [{ name, figures }] = dashboard.schools;
  views.querySelector(`section[data-school="${CSS.escape(schoolId)}"]`)?.remove();
  const section = el('section', { className: 'view' });
  section.dataset.school = schoolId;
  const [byCategory, byCategoryCanvas] = figure(`school-${schoolId}-by-category`, 'Concerns by category');
  const [monthly, monthlyCanvas] = figure(`school-${schoolId}-trend`, 'Opened and closed each month');
  const [open, openCanvas] = figure(`school-${schoolId}-ages`, 'Open concerns by age');
  section.append(
    el('h2', { textContent: name }),
    el('p', { className: 'period', textContent: `${dashboard.from} to ${dashboard.to}` }),
    tiles(figures),
    el('div', { className: 'charts' }, byCategory, monthly, open),
    acceptableUse(`Standing and access today; visitors ${agreements.from} to ${agreements.to}`,
      [{ name, figures: agreements.schools[schoolId] }], agreements.total));
  views.append(section);
  const categories = Object.keys(figures.concerns_by_category).sort();
  draw(byCategoryCanvas, 'bar', categories.map(label), [{
    label: 'Concerns',
    data: categories.map(category => drawable(figures.concerns_by_category[category])),
    backgroundColor: categories.map((_, n) => PALETTE[n % PALETTE.length]),
  }]);
  trend(monthlyCanvas, dashboard, figures);
  ages(openCanvas, figures);
  section.scrollIntoView({ block: 'start' });
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your token was not accepted (it may have expired). Sign in again.');
  } else {
    message(error.message);
  }
}

function signOut(why = '') {
  token = null;
  period = null;
  term = null;
  $('#term').replaceChildren();
  $('#from').value = '';
  $('#to').value = '';
  sessionStorage.removeItem(STORAGE_KEY);
  show().then(() => message(why));
}

async function signIn() {
  $('#sign-in').hidden = false;
  $('#sign-out').hidden = true;
  $('#period').hidden = true;
  $('#term-form').hidden = true;
  $('#who').textContent = '';
  await listDemoUsers($('#demo-users'), chosen => { token = chosen; sessionStorage.setItem(STORAGE_KEY, token); show(); });
  document.body.dataset.state = 'signed-out';
}

async function show() {
  document.body.dataset.state = 'loading';
  for (const canvas of views.querySelectorAll('canvas')) Chart.getChart(canvas)?.destroy();
  views.replaceChildren();
  message('');
  if (!token) return signIn();
  let claims;
  try {
    claims = claimsOf(token);
  } catch (error) {
    return signOut(error.message);
  }
  $('#sign-in').hidden = true;
  $('#sign-out').hidden = false;
  $('#period').hidden = false;
  $('#who').textContent = claims.name || claims.sub || '';
  const grants = claims.trustsafe || {};
  const wanted = [];
  for (const [trustId, roles] of Object.entries(grants.trusts || {})) {
    if (roles.some(role => TRUST_ROLES.includes(role))) wanted.push(() => trustView(trustId, roles.includes('trust_safeguarding_lead')));
  }
  for (const [schoolId, roles] of Object.entries(grants.schools || {})) {
    if (roles.some(role => SCHOOL_ROLES.includes(role))) wanted.push(() => schoolView(schoolId));
  }
  // Someone who sees only governors' figures picks a term; anyone else, months.
  const trustRoles = Object.values(grants.trusts || {}).flat();
  const schoolLead = Object.values(grants.schools || {}).flat().some(role => SCHOOL_ROLES.includes(role));
  const governorOnly = trustRoles.includes('trust_governor') && !trustRoles.includes('trust_safeguarding_lead') && !schoolLead;
  $('#period').hidden = wanted.length === 0 || governorOnly;
  $('#term-form').hidden = !governorOnly;
  if (governorOnly && $('#term').options.length === 0) {
    for (const name of recentTerms()) $('#term').append(el('option', { value: name, textContent: name.replace('-', ' ') }));
  }
  if (wanted.length === 0) {
    message('This account has no dashboard: dashboards are for DSLs, deputies, headteachers, trust safeguarding leads and trust governors.');
  }
  for (const view of wanted) {
    try {
      await view();
    } catch (error) {
      failed(error);
      if (!token) return;
    }
  }
  window.scrollTo(0, 0);
  document.body.dataset.state = 'ready';
}

$('#token-form').addEventListener('submit', event => {
  event.preventDefault();
  token = $('#token').value.trim();
  $('#token').value = '';
  sessionStorage.setItem(STORAGE_KEY, token);
  show();
});
$('#sign-out').addEventListener('click', () => signOut());
$('#term-form').addEventListener('submit', event => {
  event.preventDefault();
  term = $('#term').value;
  show();
});
$('#period').addEventListener('submit', event => {
  event.preventDefault();
  period = { from: $('#from').value, to: $('#to').value };
  show();
});
show();
