// What the browser tests share: the demo users' tokens and API reads as them, and Debian's Chromium
// launched headless with nothing of its own going out.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

/** The demo users of `trustsafe dev` at `base`: a token by who they are, and a read as one of them. */
export async function demoUsers(base) {
  const users = await (await fetch(`${base}/dev/demo-users`)).json();
  const tokenOf = who => users.find(user => user.who === who)?.token ?? assert.fail(`no demo user ${who}`);
  async function api(path, who) {
    const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${tokenOf(who)}` } });
    assert.equal(response.status, 200, path);
    return response.json();
  }
  return { tokenOf, api };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A page that collects its script errors and console errors into `errors`, and waits on its state. */
export async function watchedPage(browser, viewport) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', error => errors.push(error.message));
  page.on('console', entry => entry.type() === 'error' && errors.push(entry.text()));
  const state = value => page.waitForSelector(`body[data-state="${value}"]`, { timeout: 30_000 });
  return { page, errors, state };
}
