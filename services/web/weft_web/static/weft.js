// Weft's page behaviour. Every page works without it; this only makes things quicker and live.
// No inline script anywhere (the CSP forbids it): behaviour hangs on data-* attributes.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("live-announcements");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  // After a boosted navigation, move focus to the page's heading, as a full page load would
  // put a screen reader at the top of the new page.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) {
      var target = document.querySelector("#error-summary") || document.querySelector("main h1") || document.getElementById("main");
      if (target) {
        if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.focus();
      }
      connectLive();
    }
  });

  // Buttons that need a second thought: <button data-confirm="Cancel your place?">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // Uploads with a progress bar: <form data-upload-progress> with a <progress> inside.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-upload-progress") || event.defaultPrevented) return;
    var bar = form.querySelector("progress");
    if (!bar || !window.XMLHttpRequest) return;
    event.preventDefault();
    event.stopPropagation();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.max = e.total;
        bar.value = e.loaded;
        bar.textContent = Math.round((e.loaded / e.total) * 100) + "%";
      }
    });
    xhr.addEventListener("load", function () {
      // Show the answer as a page load would: the page a success redirects to (its one-time
      // message was in this answer, so it is not fetched again), or the form with its messages.
      var posted = new URL(form.action, window.location.href).href;
      if (xhr.responseURL && xhr.responseURL !== posted) window.history.pushState(null, "", xhr.responseURL);
      document.open(); document.write(xhr.responseText); document.close();
    });
    xhr.addEventListener("error", function () { announce(form.getAttribute("data-upload-error") || "Upload failed"); });
    bar.hidden = false;
    xhr.send(new FormData(form));
  }, false);

  // Live updates: one EventSource per page to /live (the web app forwards the person's
  // notification stream; the token stays on the server). Elements opt in:
  //   data-live="unread-count"     shows the unread count (hidden at 0)
  //   data-live-refresh            re-fetched (hx-get) when a notification arrives
  var source = null;
  function connectLive() {
    if (!window.EventSource || !document.querySelector("[data-live]")) return;
    if (source) return;
    source = new EventSource("/live");
    source.addEventListener("unread", function (e) {
      var data = JSON.parse(e.data);
      document.querySelectorAll('[data-live="unread-count"]').forEach(function (el) {
        el.textContent = data.unread > 0 ? String(data.unread) : "";
        el.hidden = !(data.unread > 0);
        el.setAttribute("aria-label", data.unread + " unread");
      });
    });
    source.addEventListener("notification", function (e) {
      var data = JSON.parse(e.data);
      if (data.title) announce(data.title);
      // A one-time message from before ("You are on the waitlist") may no longer be true once
      // the part of the page it speaks of is refreshed; on pages with nothing live it stays.
      var refreshing = document.querySelectorAll("[data-live-refresh]");
      if (refreshing.length) document.querySelectorAll("main > .flash").forEach(function (el) { el.remove(); });
      var toast = document.getElementById("live-toast");
      if (toast && data.title) { toast.textContent = data.title; toast.hidden = false; }
      document.body.dispatchEvent(new CustomEvent("weft:live", { detail: data }));
      if (window.htmx) {
        refreshing.forEach(function (el) { window.htmx.trigger(el, "weft:refresh"); });
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connectLive);
  else connectLive();
})();
