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

  // No inline handlers (the Content-Security-Policy refuses them); the markup says what to do instead.

  // <select data-autosubmit>: submit its form on change (filters).
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.submit();
  });

  // <form data-confirm="Question?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);

  // Refresh a step when a field that shapes it changes. A hidden submit button with
  // data-refresh-on="id ..." is clicked when one of those fields changes; an element with
  // data-refresh-on-name="name ..." submits its form with _go=refresh when an input of that name changes.
  document.addEventListener("change", function (event) {
    var field = event.target;
    document.querySelectorAll("[data-refresh-on], [data-refresh-on-name]").forEach(function (marker) {
      var ids = (marker.dataset.refreshOn || "").split(" ");
      var names = (marker.dataset.refreshOnName || "").split(" ");
      if (!((field.id && ids.indexOf(field.id) >= 0) || (field.name && names.indexOf(field.name) >= 0))) return;
      // data-refresh-unless="value": no refresh when the field is set back to what the page was shown with.
      if (marker.dataset.refreshUnless !== undefined && marker.dataset.refreshUnless === field.value) return;
      if (marker.tagName === "BUTTON") { marker.click(); return; }
      var form = marker.closest("form");
      if (!form) return;
      var button = document.createElement("button");
      button.type = "submit"; button.name = "_go"; button.value = "refresh"; button.hidden = true; button.formNoValidate = true;
      form.appendChild(button);
      button.click();
    });
  });

  // Show a block only while the inputs it depends on have the right values: data-show-when="name=a|b&other=on".
  function fieldValue(name) {
    var els = document.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.type === "radio") { if (el.checked) return el.value; continue; }
      if (el.type === "checkbox") return el.checked ? "on" : "";
      return el.value;
    }
    return "";
  }
  function applyShowWhen() {
    document.querySelectorAll("[data-show-when]").forEach(function (block) {
      block.hidden = !block.dataset.showWhen.split("&").every(function (condition) {
        var parts = condition.split("=");
        return parts[1].split("|").indexOf(fieldValue(parts[0])) !== -1;
      });
    });
  }
  document.addEventListener("change", applyShowWhen);
  applyShowWhen();

  // Sample event picker (sandbox, "which rules match"): picking a sample fills the event box.
  var sampleData = document.getElementById("sample-events");
  var sampleSelect = document.getElementById("id_sample_key"), sampleBox = document.getElementById("id_event");
  if (sampleData && sampleSelect && sampleBox) {
    var samples = JSON.parse(sampleData.textContent);
    var fillSample = function () {
      if (sampleSelect.value && samples[sampleSelect.value]) sampleBox.value = JSON.stringify(samples[sampleSelect.value], null, 2);
    };
    sampleSelect.addEventListener("change", fillSample);
    if (!sampleBox.value.trim()) fillSample();
  }

  // Upcoming runs: marks placed along a strip by data-left (a percentage).
  document.querySelectorAll(".strip .mark[data-left]").forEach(function (mark) {
    mark.style.left = mark.dataset.left + "%";
  });
})();
