/* Searchable pickers and the All APIs input skeleton (no inline scripts: CSP allows 'self' only).

   <input list="…" data-pick-into="id_of_select">: typing or choosing a value the select holds (its value or
   its text) picks it in the select and fires "change", so the page reacts as if the select was used.

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
