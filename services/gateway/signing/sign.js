'use strict';
// The signing page (with /shared/page.js). A member of staff signs in at the school's desk or a kiosk;
// then someone on the roster (or a parent or carer for their child) reads the policy in force for them
// and answers, or a visitor reads the visitors' policy, agrees and is given a Wi-Fi code. It calls only
// the public API, which decides who may record what and whether a policy is the person's to sign.

const STORAGE_KEY = 'trustsafe.sign.token';
// The roles that record answers and welcome visitors (governors do neither).
const DESK_ROLES = ['dsl', 'deputy_dsl', 'headteacher', 'staff', 'technician'];
const VISITORS = 'visitors_volunteers';

const $ = selector => document.querySelector(selector);
let token = sessionStorage.getItem(STORAGE_KEY);
let policies = [];
let person = null;
let parent = null;

const api = (path, options) => request(token, path, options);
const school = () => encodeURIComponent($('#school').value);
const fullName = someone => [someone.forename, someone.surname].filter(Boolean).join(' ') || someone.mis_id || 'Unnamed';

function say(text, done = false) {
  $('#done').textContent = done ? text : '';
  $('#done').hidden = !done;
  $('#message').textContent = done ? '' : text;
  $('#message').hidden = done || !text;
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your token was not accepted (it may have expired). Sign in again.');
  } else {
    say(error.message);
  }
}

/** The policy's title and whole text, as the reader sees it before answering. */
function showPolicy(box, policy) {
  box.replaceChildren(
    el('h3', { textContent: `${policy.title} (version ${policy.version})` }),
    el('div', { className: 'text', textContent: policy.text }));
}

/** A list of people found by name, each a button choosing them. */
async function find(list, name, kind, choose) {
  const query = new URLSearchParams({ name, limit: '20' });
  if (kind) query.set('kind', kind);
  const page = await api(`/api/v1/schools/${school()}/people?${query}`);
  list.replaceChildren(...page.people.map(someone => el('li', {},
    el('button', { type: 'button', textContent: fullName(someone), onclick: () => choose(someone) }))));
  list.querySelectorAll('button').forEach((button, n) => { button.dataset.personId = page.people[n].id; });
  if (page.people.length === 0) say(`No one on the roster is called ${name}.`);
}

function choosePerson(someone) {
  person = someone;
  parent = null;
  say('');
  $('#found').replaceChildren();
  $('#chosen-name').textContent = fullName(someone);
  $('#by-parent').checked = false;
  $('#parent-box').hidden = true;
  $('#parent-chosen').textContent = '';
  $('#chosen').hidden = false;
  showPolicy($('#policy'), policies.find(policy => policy.audience === $('#audience').value));
}

async function answer(decision) {
  const policy = policies.find(p => p.audience === $('#audience').value);
  const signer = $('#by-parent').checked ? { by: 'parent_or_carer', parent_id: parent?.id } : { by: 'themselves' };
  if ($('#by-parent').checked && !parent) return say('Find and choose the parent or carer who signs.');
  const recorded = await api(`/api/v1/schools/${school()}/agreements`, {
    method: 'POST',
    body: { person_id: person.id, audience: policy.audience, decision, signer, version: policy.version },
  });
  $('#chosen').hidden = true;
  $('#name').value = '';
  say(`${fullName(person)}: ${recorded.decision === 'agreed' ? 'agreed to' : 'declined'} ${policy.title}, version ${recorded.version}. Thank you.`, true);
  person = null;
}

async function welcome(event) {
  event.preventDefault();
  const organisation = $('#organisation').value.trim();
  const welcomed = await api(`/api/v1/schools/${school()}/visitors`, {
    method: 'POST',
    body: { name: $('#visitor-name').value, organisation: organisation || null },
  });
  $('#visitor-form').hidden = true;
  $('#code').textContent = welcomed.wifi_code;
  $('#expires').textContent = `Valid until ${new Date(welcomed.expires_at).toLocaleString('en-GB')}.`;
  $('#wifi').hidden = false;
  say('Welcome: you have agreed to the visitors’ policy.', true);
}

/** The policies in force at the chosen school: the visitors' for visitors, the rest to choose from. */
async function loadSchool() {
  policies = await api(`/api/v1/schools/${school()}/aup`);
  const forPeople = policies.filter(policy => policy.audience !== VISITORS);
  $('#audience').replaceChildren(...forPeople.map(policy => el('option', { value: policy.audience, textContent: policy.title })));
  const visitors = policies.find(policy => policy.audience === VISITORS);
  $('#for-visitor').disabled = !visitors;
  if (visitors) showPolicy($('#visitor-policy'), visitors);
  $('#for-person').disabled = forPeople.length === 0;
  if (policies.length === 0) say('This school has no acceptable-use policy in force yet.');
}

function showPart(which) {
  say('');
  $('#person').hidden = which !== 'person';
  $('#visitor').hidden = which !== 'visitor';
  $('#chosen').hidden = true;
  $('#visitor-form').hidden = false;
  $('#visitor-form').reset();
  $('#wifi').hidden = true;
  document.body.dataset.open = which;
}

function signOut(why = '') {
  token = null;
  sessionStorage.removeItem(STORAGE_KEY);
  show().then(() => say(why));
}

async function show() {
  document.body.dataset.state = 'loading';
  say('');
  $('#desk').hidden = true;
  if (!token) {
    $('#sign-in').hidden = false;
    $('#sign-out').hidden = true;
    $('#who').textContent = '';
    await listDemoUsers($('#demo-users'), chosen => { token = chosen; sessionStorage.setItem(STORAGE_KEY, token); show(); });
    document.body.dataset.state = 'signed-out';
    return;
  }
  let claims;
  try {
    claims = claimsOf(token);
  } catch (error) {
    return signOut(error.message);
  }
  $('#sign-in').hidden = true;
  $('#sign-out').hidden = false;
  $('#who').textContent = claims.name || claims.sub || '';
  const schools = Object.entries(claims.trustsafe?.schools || {})
    .filter(([, roles]) => roles.some(role => DESK_ROLES.includes(role)))
    .map(([id]) => id);
  if (schools.length === 0) {
    say('This account cannot record agreements: that is for a school’s staff.');
  } else {
    $('#school').replaceChildren(...schools.map(id => el('option', { value: id, textContent: id })));
    $('#desk').hidden = false;
    showPart('');
    try {
      await loadSchool();
    } catch (error) {
      failed(error);
    }
  }
  document.body.dataset.state = 'ready';
}

/** Runs `action` for an event, showing what went wrong instead of throwing. */
const handled = action => event => Promise.resolve(action(event)).catch(failed);

$('#token-form').addEventListener('submit', event => {
  event.preventDefault();
  token = $('#token').value.trim();
  $('#token').value = '';
  sessionStorage.setItem(STORAGE_KEY, token);
  show();
});
$('#sign-out').addEventListener('click', () => signOut());
$('#school').addEventListener('change', handled(() => { showPart(''); return loadSchool(); }));
$('#for-person').addEventListener('click', () => showPart('person'));
$('#for-visitor').addEventListener('click', () => showPart('visitor'));
$('#find-person').addEventListener('submit', handled(event => {
  event.preventDefault();
  say('');
  $('#chosen').hidden = true;
  return find($('#found'), $('#name').value.trim(), null, choosePerson);
}));
$('#audience').addEventListener('change', () => showPolicy($('#policy'), policies.find(p => p.audience === $('#audience').value)));
$('#by-parent').addEventListener('change', () => { $('#parent-box').hidden = !$('#by-parent').checked; });
$('#find-parent').addEventListener('submit', handled(event => {
  event.preventDefault();
  return find($('#parents'), $('#parent-name').value.trim(), 'parent', someone => {
    parent = someone;
    $('#parents').replaceChildren();
    $('#parent-chosen').textContent = `Signed by ${fullName(someone)}`;
  });
}));
$('#agree').addEventListener('click', handled(() => answer('agreed')));
$('#decline').addEventListener('click', handled(() => answer('declined')));
$('#visitor-form').addEventListener('submit', handled(welcome));
show();
