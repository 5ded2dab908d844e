/* The team page's map (search areas, found markers, the team's last position) and the "I am here"
   check-in: the browser's position goes into the check-in form, which the server judges. */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("play-map-data").textContent);
  const texts = data.texts;
  const element = document.getElementById("play-map");
  const form = document.getElementById("checkin-form");
  const status = document.getElementById("checkin-status");
  const button = document.getElementById("here");

  function drawMap() {
    if (!window.L || !window.ArtMap) { return; }
    element.hidden = false;
    const map = window.ArtMap.create(element, { scrollWheelZoom: false });
    const bounds = [];
    data.areas.forEach(function (a) {
      const circle = L.circle([a.lat, a.lon], { radius: a.radius_m, className: "search-area", weight: 3, fillOpacity: 0.15 });
      circle.bindTooltip(a.label);
      circle.addTo(map);
      const box = L.latLng(a.lat, a.lon).toBounds(2 * a.radius_m);
      bounds.push(box.getNorthWest(), box.getSouthEast());
    });
    data.found.forEach(function (f) {
      L.circleMarker([f.lat, f.lon], { radius: 7, className: "found-marker", weight: 2, fillOpacity: 0.9 })
        .bindTooltip(f.label).addTo(map);
      bounds.push(L.latLng(f.lat, f.lon));
    });
    const p = data.position;
    if (p) {
      if (p.accuracy_m > 0) {
        L.circle([p.lat, p.lon], { radius: p.accuracy_m, className: "team-accuracy", weight: 1, fillOpacity: 0.1, interactive: false }).addTo(map);
      }
      L.circleMarker([p.lat, p.lon], { radius: 9, className: "team-position", weight: 3, fillOpacity: 1 })
        .bindTooltip(texts.you).addTo(map);
      bounds.push(L.latLng(p.lat, p.lon));
    }
    if (bounds.length) {
      map.fitBounds(L.latLngBounds(bounds), { padding: [20, 20], maxZoom: 17 });
    } else {
      map.setView([0, 0], 2);
    }
  }

  function say(text, problem) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(problem));
  }

  function failed(error) {
    button.disabled = false;
    const code = error && error.code;
    if (code === 1) { say(texts.denied, true); }
    else if (code === 3) { say(texts.timeout, true); }
    else { say(texts.unavailable, true); }
  }

  function located(position) {
    const c = position.coords;
    const accuracy = Math.round(c.accuracy || 0);
    say(texts.located.replace("{acc}", String(accuracy)), false);
    document.getElementById("checkin-lat").value = String(c.latitude);
    document.getElementById("checkin-lon").value = String(c.longitude);
    document.getElementById("checkin-accuracy").value = String(accuracy);
    form.submit();
  }

  button.addEventListener("click", function () {
    if (!navigator.geolocation) { failed(null); return; }
    button.disabled = true;
    say(texts.locating, false);
    navigator.geolocation.getCurrentPosition(located, failed, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });

  drawMap();
  // Browsers give a position only to https pages (and localhost): on the box's plain http
  // address the button could only fail, so the page says so instead.
  if (!window.isSecureContext) { button.hidden = true; say(texts.insecure, false); }
  form.hidden = false;
})();
