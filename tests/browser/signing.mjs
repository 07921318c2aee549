// The signing page in Debian's headless Chromium: `node signing.mjs http://127.0.0.1:8080`, against
// `trustsafe dev` with its demo history (the e2e test `the_dashboard_and_the_signing_page_in_a_real_browser`
// runs it after dashboard.mjs). A member of staff signs in at the desk; a pupil reads their policy and
// agrees; a parent signs for an infant; a policy that is not the pupil's is refused with the API's
// reason; a visitor agrees and gets a Wi-Fi code the captive portal accepts; a governor records nothing.

import assert from 'node:assert/strict';
import { demoUsers, launch, watchedPage } from './support.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const step = text => console.log(`signing: ${text}`);

const { api } = await demoUsers(base);

/** Someone at RAPS whose own policy is `audience`, with their name (as the school's DSL reads it). */
async function someoneOf(audience) {
  const compliance = await api(`/api/v1/schools/raps/aup-compliance?audience=${audience}`, 'raps dsl');
  const [{ person_id: id }] = compliance.people;
  const person = await api(`/api/v1/schools/raps/people/${id}`, 'raps dsl');
  return { id, forename: person.forename, surname: person.surname };
}

const latestAnswer = async id => (await api(`/api/v1/schools/raps/people/${id}/agreements`, 'raps dsl'))[0];

const sign = await fetch(`${base}/sign`);
step('the page is served under its own policy: its own script, style and API, and nothing kept');
const policy = sign.headers.get('content-security-policy');
assert.match(policy, /default-src 'none'/);
assert.match(policy, /connect-src 'self'/);
assert.ok(!policy.includes('img-src') && !policy.includes('unsafe'), policy);
assert.equal(sign.headers.get('cache-control'), 'no-store');

const browser = await launch();
try {
  const { page, errors, state } = await watchedPage(browser, { width: 1000, height: 900 });
  const done = () => page.waitForSelector('#done:not([hidden])', { timeout: 10_000 }).then(() => page.textContent('#done'));
  const choose = async someone => {
    await page.click('#for-person');
    await page.fill('#name', someone.forename);
    await page.click('#find-person button[type="submit"]');
    await page.click(`#found button[data-person-id="${someone.id}"]`);
    await page.waitForSelector('#chosen:not([hidden])');
  };

  step('a member of staff signs in at the desk');
  await page.goto(`${base}/sign`);
  await state('signed-out');
  await page.getByRole('button', { name: 'raps staff', exact: true }).click();
  await state('ready');
  assert.equal(await page.inputValue('#school'), 'raps');

  step('a KS2 pupil finds their name, reads the policy in force and agrees');
  const inForce = await api('/api/v1/schools/raps/aup', 'raps staff');
  const ks2 = inForce.find(p => p.audience === 'ks2');
  const pupil = await someoneOf('ks2');
  await choose(pupil);
  await page.selectOption('#audience', 'ks2');
  const shownPolicy = await page.textContent('#policy');
  assert.ok(shownPolicy.includes(`${ks2.title} (version ${ks2.version})`), shownPolicy);
  assert.ok(shownPolicy.includes(ks2.text), 'the whole text is read before the answer');
  await page.click('#agree');
  assert.match(await done(), /agreed to/);
  const agreed = await latestAnswer(pupil.id);
  assert.deepEqual([agreed.decision, agreed.audience, agreed.version, agreed.on_paper], ['agreed', 'ks2', ks2.version, false]);
  assert.ok(Date.now() - Date.parse(agreed.signed_at) < 60_000, 'signed now');

  step("a policy that is not the pupil's is refused with the API's reason, and nothing recorded");
  await choose(pupil);
  await page.selectOption('#audience', 'staff');
  await page.click('#decline');
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /not one this person signs/);
  assert.equal((await latestAnswer(pupil.id)).agreement_id, agreed.agreement_id);

  step('a parent with parental responsibility signs for an infant');
  const infant = await someoneOf('eyfs_ks1');
  await choose(infant);
  await page.selectOption('#audience', 'eyfs_ks1');
  await page.check('#by-parent');
  await page.fill('#parent-name', `${infant.forename} ${infant.surname}`);
  await page.click('#find-parent button[type="submit"]');
  await page.locator('#parents button').first().click();
  assert.match(await page.textContent('#parent-chosen'), /Signed by Parent of/);
  await page.click('#agree');
  assert.match(await done(), /agreed to/);
  const bySignature = await latestAnswer(infant.id);
  assert.equal(bySignature.audience, 'eyfs_ks1');
  assert.ok(bySignature.signed_by_parent, 'the parent is on record as the signer');

  step('a visitor reads the visitors’ policy, agrees and gets a Wi-Fi code the captive portal accepts');
  await page.click('#for-visitor');
  const visitors = inForce.find(p => p.audience === 'visitors_volunteers');
  assert.ok((await page.textContent('#visitor-policy')).includes(visitors.text));
  await page.fill('#visitor-name', 'Ada Visitor');
  await page.fill('#organisation', 'Kent Library Service');
  await page.click('#visitor-form button[type="submit"]');
  await page.waitForSelector('#wifi:not([hidden])');
  const code = await page.textContent('#code');
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
  const checked = await api(`/api/v1/schools/raps/wifi-codes/${code}`, 'raps captive_portal client');
  assert.equal(checked.valid, true);

  step('a governor records nothing here, and is told so');
  await page.click('#sign-out');
  await state('signed-out');
  await page.getByRole('button', { name: 'raps governor', exact: true }).click();
  await state('ready');
  assert.ok(await page.isHidden('#desk'));
  assert.match(await page.textContent('#message'), /cannot record agreements/);

  step('no script errors, nothing blocked by the policy');
  assert.deepEqual(errors.filter(error => !/status of (404|422)/.test(error)), []);
  step('passed');
} finally {
  await browser.close();
}
