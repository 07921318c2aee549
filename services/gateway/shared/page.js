'use strict';
// What the dashboard and the signing page share: building elements, calling the API with a token
// (a problem's detail becomes the error's message), reading a token's claims, the dev sign-in list.

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter(child => child != null));
  return node;
}

class ApiError extends Error {
  constructor(status, title) {
    super(title);
    this.status = status;
  }
}

/** `path` of the API as the holder of `token`; `body`, if given, is sent as JSON. */
async function request(token, path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(response.status, problem.detail || problem.title || response.statusText);
  }
  return response.json();
}

/** The claims of a token, unverified: the API verifies every request. */
function claimsOf(text) {
  const parts = text.split('.');
  if (parts.length !== 3) throw new Error('That is not an access token (it has three parts separated by dots).');
  const binary = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, c => c.charCodeAt(0))));
}

/** In dev mode, a button per demo user in `box`'s list (shown), each calling `choose` with a token. */
async function listDemoUsers(box, choose) {
  const list = box.querySelector('ul');
  list.replaceChildren();
  const response = await fetch('/dev/demo-users').catch(() => null);
  if (!response?.ok) return;
  for (const user of await response.json()) {
    list.append(el('li', {}, el('button', { type: 'button', textContent: user.who, onclick: () => choose(user.token) })));
  }
  box.hidden = false;
}
