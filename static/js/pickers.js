/* Searchable pickers and the All APIs input skeleton (no inline scripts: CSP allows 'self' only).

   <input list="…" data-pick-into="id_of_select">: typing or choosing a value the select holds (its value or
   its text) picks it in the select and fires "change", so the page reacts as if the select was used.

   <input data-filter-options="id_of_select">: typing narrows the select to the options whose name or value
   holds the text (any case); the element [data-filter-count-for="id_of_select"] says how many match.

   #universal-skeleton: when an API is picked, its request skeleton is fetched and put in the input box,
   but only when the box is empty, "{}", or still holds the skeleton put there before: nothing typed is lost. */
(function () {
  "use strict";

  function pick(search) {
    var select = document.getElementById(search.dataset.pickInto);
    var wanted = (search.value || "").trim().toLowerCase();
    if (!select || !wanted) return;
    for (var i = 0; i < select.options.length; i++) {
      var option = select.options[i];
      if (option.value && (option.value.toLowerCase() === wanted || option.text.trim().toLowerCase() === wanted)) {
        if (select.value !== option.value) {
          select.value = option.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
        return;
      }
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.dataset && event.target.dataset.pickInto) pick(event.target);
  });
  document.addEventListener("input", function (event) {
    // a datalist choice arrives as an "input" event whose value is an exact option
    if (event.target.dataset && event.target.dataset.pickInto && event.inputType !== "insertText") pick(event.target);
  });

  function filter(search) {
    var select = document.getElementById(search.dataset.filterOptions);
    if (!select) return;
    var wanted = (search.value || "").trim().toLowerCase();
    var shown = 0, total = 0;
    for (var i = 0; i < select.options.length; i++) {
      var option = select.options[i];
      if (!option.value) continue;  // "Choose an API" stays
      total += 1;
      var match = !wanted || option.text.toLowerCase().indexOf(wanted) >= 0 ||
        option.value.toLowerCase().indexOf(wanted) >= 0;
      option.hidden = !match;
      if (match) shown += 1;
    }
    var count = document.querySelector('[data-filter-count-for="' + select.id + '"]');
    if (count) {
      count.textContent = wanted ? shown + " of " + total + " " + (count.dataset.noun || "match") +
        (shown ? "" : ": try fewer letters") : "";
    }
  }
  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.filterOptions) filter(event.target);
  });
  document.querySelectorAll("[data-filter-options]").forEach(function (search) {
    if (search.value) filter(search);  // a value the browser kept when the page came back
  });

  var marker = document.getElementById("universal-skeleton");
  if (!marker) return;
  var input = document.getElementById(marker.dataset.input);
  var action = document.getElementById(marker.dataset.action);
  var service = document.getElementById(marker.dataset.service);
  if (!input || !action || !service) return;
  var filled = input.value.trim();  // what the page put there (a skeleton or what was typed)

  function replaceable() {
    var now = input.value.trim();
    return now === "" || now === "{}" || now === filled;
  }
  action.addEventListener("change", function () {
    if (!action.value || !service.value || !replaceable()) return;
    var url = marker.dataset.skeletonUrl + "&service=" + encodeURIComponent(service.value) +
      "&action=" + encodeURIComponent(action.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || !replaceable()) return;  // the person typed meanwhile: keep it
        input.value = body.skeleton;
        filled = body.skeleton.trim();
        input.dispatchEvent(new Event("input", { bubbles: true }));
      })
      .catch(function () { /* no skeleton: the box stays as it is */ });
  });
})();
