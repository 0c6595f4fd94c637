// Passkeys in the template pack: the browser side of PasskeyRegister and PasskeyLogin.
// A form with data-wsa-passkey="register" or "login" carries the handles of its options
// action (data-options-act, data-options-csrf); this script asks the server for the
// options (the pack's page answers JSON to Accept: application/json), lets the browser
// create or pick a passkey, and posts the credential with the form. No framework; the
// forms stay hidden in browsers without passkeys (PublicKeyCredential's JSON methods).
"use strict";

(function () {
  const PKC = window.PublicKeyCredential;
  const supported =
    PKC && typeof PKC.parseCreationOptionsFromJSON === "function" &&
    typeof PKC.parseRequestOptionsFromJSON === "function";

  function problem(form, text) {
    const box = form.querySelector("[data-wsa-passkey-problem]");
    if (box) {
      box.textContent = text;
      box.hidden = !text;
    }
  }

  async function options(form) {
    const body = new URLSearchParams({
      wsact: form.dataset.optionsAct,
      wscsrf: form.dataset.optionsCsrf,
    });
    const response = await fetch(location.href, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: body,
    });
    const answer = await response.json();
    if (!answer.success) {
      throw new Error((answer.errors[0] && answer.errors[0].message) || "");
    }
    return JSON.parse(answer.data.options);
  }

  function send(form, credential) {
    form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  async function register(form) {
    const publicKey = PKC.parseCreationOptionsFromJSON(await options(form));
    send(form, await navigator.credentials.create({ publicKey: publicKey }));
  }

  let waiting = null; // the autofill request (conditional mediation), while it waits

  async function login(form, conditional) {
    if (waiting) {
      waiting.abort();
    }
    const controller = new AbortController();
    const request = { publicKey: PKC.parseRequestOptionsFromJSON(await options(form)) };
    if (conditional) {
      request.mediation = "conditional";
      request.signal = controller.signal;
      waiting = controller;
    }
    const credential = await navigator.credentials.get(request);
    if (credential) {
      send(form, credential);
    }
  }

  function attempt(form, work, quiet) {
    problem(form, "");
    work().catch(function (error) {
      if (quiet || (error && error.name === "AbortError")) {
        return; // the autofill's own request (nobody asked for it), or replaced by another
      }
      problem(form, error && error.message && error.name === "Error"
        ? error.message : form.dataset.failed || "");
    });
  }

  for (const form of document.querySelectorAll("form[data-wsa-passkey]")) {
    if (!supported) {
      continue;
    }
    form.hidden = false;
    const kind = form.dataset.wsaPasskey;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      attempt(form, kind === "register" ? () => register(form) : () => login(form, false));
    });
    if (kind === "login" && typeof PKC.isConditionalMediationAvailable === "function") {
      PKC.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          attempt(form, () => login(form, true), true);
        }
      });
    }
  }
  for (const note of document.querySelectorAll("[data-wsa-passkey-unsupported]")) {
    note.hidden = Boolean(supported);
  }
})();
