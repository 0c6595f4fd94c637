/* wsactions: live password strength meter. Plain JavaScript, no build step.
 *
 * Every <input data-strength="<CheckPasswordStrength handle id>"
 *               data-strength-csrf="<its wscsrf token>"
 *               data-strength-meter="<id of the meter's container>">
 * is rated while the customer types: the page's URL is posted the action
 * (Accept: application/json) and the answer's data.value (0..4),
 * data.accepted and data.breached (breached-password screening) update the <meter>
 * and the aria-live text of the container.
 * The host framework's CSRF field is sent too when the input names it
 * (data-strength-host-name / data-strength-host-value).
 *
 * The password is sent only in the request body, over the page's own origin;
 * it is never logged, stored or put into the URL.
 */
(function () {
  "use strict";

  var DELAY = 200; // ms after the last keystroke

  function connect(input) {
    var container = document.getElementById(input.getAttribute("data-strength-meter") || "");
    if (!container || !window.fetch || !window.FormData) {
      return;
    }
    var meter = container.querySelector("meter");
    var text = container.querySelector("[aria-live]");
    var labels;
    try {
      labels = JSON.parse(container.getAttribute("data-labels") || "[]");
    } catch (e) {
      labels = [];
    }
    var timer = null;
    var sequence = 0;
    var controller = null;

    function show(value, accepted, breached) {
      if (meter) {
        meter.value = value;
      }
      if (text) {
        var label = labels[value] || "";
        var which = breached ? "data-breached" : accepted ? "data-accepted" : "data-rejected";
        var verdict = container.getAttribute(which) || "";
        text.textContent = label && verdict ? label + ". " + verdict : label || verdict;
      }
    }

    function reset() {
      if (meter) {
        meter.value = 0;
      }
      if (text) {
        text.textContent = "";
      }
    }

    function rate() {
      var password = input.value;
      var mine = ++sequence;
      if (controller) {
        controller.abort();
      }
      if (!password) {
        reset();
        return;
      }
      var body = new FormData();
      body.append("wsact", input.getAttribute("data-strength"));
      body.append("wscsrf", input.getAttribute("data-strength-csrf") || "");
      body.append("password", password);
      var hostName = input.getAttribute("data-strength-host-name");
      if (hostName) {
        body.append(hostName, input.getAttribute("data-strength-host-value") || "");
      }
      controller = window.AbortController ? new AbortController() : null;
      fetch(location.pathname, {
        method: "POST",
        headers: { "Accept": "application/json" },
        body: body,
        credentials: "same-origin",
        cache: "no-store",
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (mine !== sequence || !answer || !answer.data) {
            return; // a newer keystroke is being rated, or no usable answer
          }
          var value = Number(answer.data.value);
          if (!(value >= 0 && value <= 4)) {
            return;
          }
          show(value, answer.data.accepted === true, answer.data.breached === true);
        })
        .catch(function () {
          /* aborted or offline: the form still works without the meter */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(rate, DELAY);
    });
    container.hidden = false;
    if (input.value) {
      rate();
    }
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-strength]");
    for (var i = 0; i < inputs.length; i++) {
      connect(inputs[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
