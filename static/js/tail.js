// The live tail page: asks the server for what arrived (each answer long-polls the queue for a second), shows
// each event as pretty JSON, newest first; filter, pause, copy, download as JSON Lines; and when the page
// closes, tells the server to remove the temporary rule and queue (navigator.sendBeacon).
(function () {
  "use strict";
  var root = document.getElementById("tail");
  if (!root) return;
  var eventsUrl = root.dataset.eventsUrl, stopUrl = root.dataset.stopUrl;
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var list = document.getElementById("tail-events"), empty = document.getElementById("tail-empty");
  var stateBadge = root.querySelector("[data-testid=tail-state]"), errorBox = root.querySelector("[data-testid=tail-error]");
  var filterBox = document.getElementById("tail-filter"), pauseButton = document.getElementById("tail-pause");
  var count = document.getElementById("tail-count"), heldNote = document.getElementById("tail-held");
  var warning = document.getElementById("tail-warning");
  var all = [], held = [], paused = false, live = ["starting", "open"].indexOf(root.dataset.state) >= 0;
  var stopped = false;

  function matchesFilter(text) {
    var wanted = filterBox.value.trim().toLowerCase();
    return !wanted || text.toLowerCase().indexOf(wanted) >= 0;
  }

  function show(item) {
    var li = document.createElement("li");
    li.className = "card mb-2 tail-event";
    li.dataset.text = item.text;
    var body = document.createElement("div");
    body.className = "card-body py-2";
    var head = document.createElement("div");
    head.className = "d-flex justify-content-between small text-secondary";
    var label = document.createElement("span");
    var event = item.event || {};
    label.textContent = item.received + " · " + (event.source || "") + " · " + (event["detail-type"] || "");
    var copy = document.createElement("button");
    copy.type = "button";
    copy.className = "btn btn-link btn-sm p-0";
    copy.textContent = "Copy";
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(item.pretty).then(function () { copy.textContent = "Copied"; },
        function () { copy.textContent = "Copy failed: select the text instead"; });
    });
    head.appendChild(label);
    head.appendChild(copy);
    var pre = document.createElement("pre");
    pre.className = "json mb-0 small";
    var code = document.createElement("code");
    code.textContent = item.pretty;
    pre.appendChild(code);
    body.appendChild(head);
    body.appendChild(pre);
    li.appendChild(body);
    li.hidden = !matchesFilter(item.text);
    list.insertBefore(li, list.firstChild);
    empty.hidden = true;
  }

  function add(received) {
    var item = {event: received.event, received: new Date().toISOString().slice(11, 19),
                pretty: JSON.stringify(received.event, null, 2), line: JSON.stringify(received.event)};
    item.text = item.pretty;
    all.push(item);
    if (paused) held.push(item); else show(item);
    count.textContent = String(all.length);
    heldNote.textContent = held.length ? " (" + held.length + " held while paused)" : "";
  }

  function setState(body) {
    stateBadge.textContent = body.state_label + (body.closed_reason ? " (" + body.closed_reason + ")" : "");
    errorBox.textContent = body.error || "";
    warning.textContent = body.warning || "";
    root.dataset.state = body.state;
    live = ["starting", "open"].indexOf(body.state) >= 0;
    if (!live && !all.length) empty.textContent = "This tail is closed.";
  }

  function poll() {
    if (!live || stopped) return;
    var form = new FormData();
    fetch(eventsUrl, {method: "POST", body: form, headers: {"X-CSRFToken": csrf}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) throw new Error("The server answered " + response.status);
        return response.json();
      })
      .then(function (body) {
        setState(body);
        body.events.forEach(add);
        setTimeout(poll, body.state === "open" ? 200 : 1000);
      })
      .catch(function (error) {
        warning.textContent = "Could not read the tail (" + error.message + "); trying again.";
        setTimeout(poll, 2000);
      });
  }

  filterBox.addEventListener("input", function () {
    list.querySelectorAll(".tail-event").forEach(function (li) { li.hidden = !matchesFilter(li.dataset.text); });
  });
  pauseButton.addEventListener("click", function () {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    pauseButton.setAttribute("aria-pressed", String(paused));
    if (!paused) { held.forEach(show); held = []; heldNote.textContent = ""; }
  });
  document.getElementById("tail-clear").addEventListener("click", function () {
    all = []; held = []; list.textContent = ""; count.textContent = "0"; heldNote.textContent = "";
    empty.hidden = false;
  });
  document.getElementById("tail-download").addEventListener("click", function () {
    var text = all.map(function (item) { return item.line; }).join("\n") + (all.length ? "\n" : "");
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: "application/x-ndjson"}));
    link.download = root.dataset.name + ".jsonl";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  var stopForm = root.querySelector("form[action='" + stopUrl + "']");
  if (stopForm) stopForm.addEventListener("submit", function () { stopped = true; });
  // Leaving the page (closing the tab, navigating away): remove the temporary rule and queue.
  window.addEventListener("pagehide", function () {
    if (!live || stopped) return;
    stopped = true;
    var form = new FormData();
    form.append("csrfmiddlewaretoken", csrf);
    form.append("beacon", "1");
    navigator.sendBeacon(stopUrl, form);
  });
  poll();
})();
