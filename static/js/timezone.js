/* EventConsole: the browser's time zone, for the pages that show or ask for times.
 *
 * Every page: keep the cookie "browser_time_zone" at the zone this browser is in, so the server draws
 * time zone pickers and run tables in it when the person has not picked a zone yet
 * (accounts/preferences.py). A picker the server could not fill (no pick, no cookie yet) carries
 * data-browser-zone; it gets the browser's zone here when the list knows it.
 */
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (!/^[A-Za-z0-9_+\-\/]{1,50}$/.test(zone)) return;
  document.cookie = "browser_time_zone=" + zone + "; path=/; max-age=31536000; SameSite=Lax";

  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    var list = input.list;
    var known = !list || Array.prototype.some.call(list.options, function (o) { return o.value === zone; });
    if (known && input.value !== zone) {
      input.value = zone;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
