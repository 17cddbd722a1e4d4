/* EventConsole: the little JavaScript the forms need (no framework; htmx does the rest). */
(function () {
  "use strict";

  // Formsets: "Add another target" / "Add new tag" clone the empty form and bump TOTAL_FORMS.
  document.querySelectorAll("[data-formset]").forEach(function (set) {
    var prefix = set.dataset.formset;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = parseInt(set.dataset.formsetMax || "1000", 10);
    var limit = set.querySelector("[data-formset-limit]");
    set.querySelector("[data-formset-add]").addEventListener("click", function () {
      var count = parseInt(total.value, 10);
      if (count >= max) {
        limit.textContent = set.dataset.formsetMaxMessage;
        limit.classList.remove("d-none");
        return;
      }
      var html = set.querySelector("template[data-formset-empty]").innerHTML
        .replace(/__prefix__/g, String(count)).replace(/__number__/g, String(count + 1));
      var none = set.querySelector("[data-formset-none]");
      if (none) none.remove();
      set.querySelector("[data-formset-forms]").insertAdjacentHTML("beforeend", html);
      total.value = String(count + 1);
      if (window.htmx) htmx.process(set);
      document.dispatchEvent(new Event("formset:added"));
    });
  });

  // Show a part of a form only when a radio or select says so: data-show-if="input_mode=part,constant".
  // The name is matched by suffix within the closest formset form (or the whole form), so it works for
  // every target of a formset.
  function applyShowIf(root) {
    root.querySelectorAll("[data-show-if]").forEach(function (el) {
      var rule = el.dataset.showIf.split("=");
      var scope = el.closest("[data-formset-form]") || el.closest("form") || document;
      var inputs = scope.querySelectorAll('[name$="' + rule[0] + '"]');
      var value = null;
      inputs.forEach(function (input) {
        if ((input.type === "radio" || input.type === "checkbox") ? input.checked : true) value = input.value;
      });
      el.classList.toggle("d-none", rule[1].split(",").indexOf(value) < 0);
    });
  }
  document.addEventListener("change", function () { applyShowIf(document); });
  document.addEventListener("htmx:afterSwap", function () { applyShowIf(document); });
  document.addEventListener("formset:added", function () { applyShowIf(document); });
  applyShowIf(document);

  // Copy and Prettify buttons for JSON text.
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copy);
      var text = source.value !== undefined ? source.value : source.textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text);
      copy.textContent = "Copied";
      setTimeout(function () { copy.textContent = "Copy"; }, 1500);
    }
    var pretty = event.target.closest("[data-prettify]");
    if (pretty) {
      var area = document.querySelector(pretty.dataset.prettify);
      try { area.value = JSON.stringify(JSON.parse(area.value), null, 2); area.classList.remove("is-invalid"); }
      catch (e) { area.classList.add("is-invalid"); }
    }
  });
})();
