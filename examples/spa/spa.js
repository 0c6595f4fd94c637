// A customer account page that talks to wsactions only through its headless API
// (browser client: the shop's session cookie, the CSRF token in X-CSRF-Token).
// No framework, no innerHTML: every text from the server goes in as textContent.
"use strict";

const API = document.documentElement.dataset.api || "/_wsa/v1/";
const OPTIN_ACTIONS = ["EmailVerify", "AccountActivateOptIn", "EmailUpdateOptIn"];
let csrfToken = "";

const $ = (id) => document.getElementById(id);

function show(answer) {
  // The messages come in the browser's language (Accept-Language), from the shop's catalogues.
  $("status").textContent = answer.notice || "";
  const list = $("errors");
  list.replaceChildren();
  for (const error of answer.errors || []) {
    const item = document.createElement("li");
    item.textContent = error.message;
    item.dataset.code = error.code;
    list.append(item);
  }
}

async function request(path, options = {}) {
  const response = await fetch(API + path, {
    credentials: "include", // the shop's session cookie (same site; see docs/headless.md)
    ...options,
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  const answer = await response.json();
  if (answer.meta && answer.meta.csrfToken) {
    csrfToken = answer.meta.csrfToken; // it changes at login and logout
  }
  return answer;
}

function run(action, values) {
  return request("browser/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: JSON.stringify(values),
  });
}

function render(state) {
  const account = state.account;
  $("anonymous").hidden = Boolean(account);
  $("account").hidden = !account;
  const pending = state.meta.flow && state.meta.flow.id === "secondFactor";
  $("second-factor").hidden = !pending;
  $("login").hidden = pending;
  if (!account) {
    return;
  }
  $("email").textContent = account.email;
  const list = $("addresses");
  list.replaceChildren();
  for (const address of account.addresses) {
    const f = address.fields;
    const item = document.createElement("li");
    item.textContent = [f.firstName, f.lastName, f.street, f.zip, f.city, f.country]
      .filter(Boolean)
      .join(", ");
    list.append(item);
  }
}

async function refresh() {
  render(await request("browser/account"));
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const values = Object.fromEntries(new FormData(form));
  form.querySelector("button").disabled = true;
  try {
    const answer = await run(form.dataset.action, values);
    show(answer);
    if (answer.success) {
      form.reset();
    }
    await refresh();
  } finally {
    form.querySelector("button").disabled = false;
  }
}

async function followMailedLink() {
  // A mailed link (wsact + wsoptin) opened on this page: run it through the API, then
  // take the token out of the address bar and the history.
  const query = new URLSearchParams(location.search);
  const action = query.get("wsact");
  const token = query.get("wsoptin");
  if (!token || !OPTIN_ACTIONS.includes(action)) {
    return;
  }
  history.replaceState(null, "", location.pathname);
  show(await run(action, { wsoptin: token }));
}

async function start() {
  for (const form of document.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", submit);
  }
  $("logout").addEventListener("click", async () => {
    show(await run("Logout", {}));
    await refresh();
  });
  await refresh(); // also fetches the first CSRF token
  await followMailedLink();
  await refresh();
  document.body.dataset.ready = "true";
}

start();
