/* Shared map set-up for the staff pages: tiles from the configured URL, markers even without tiles. */
"use strict";
window.ArtMap = (function () {
  const settings = JSON.parse(document.getElementById("map-settings").textContent);
  function create(element, options) {
    const map = L.map(element, Object.assign({ zoomControl: false }, options || {}));
    L.control.zoom({ zoomInTitle: settings.zoom_in, zoomOutTitle: settings.zoom_out }).addTo(map);
    const tiles = L.tileLayer(settings.tile_url, Object.assign(
      { maxZoom: 19, attribution: settings.attribution }, settings.tile_options));
    tiles.on("tileerror", function () { element.classList.add("tiles-missing"); });
    tiles.addTo(map);
    return map;
  }
  return { create: create, settings: settings };
})();
