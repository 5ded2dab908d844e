/* The marker editor: venues and markers on a map; click to place, drag to move, a form to edit. */
"use strict";
(function () {
  const S = window.Staff;
  const C = window.Curator;
  const { t, byId: $ } = S;
  const { root, api: API, map, mode } = C.editor("marker-editor");  // mode: {kind: "venue", id} while a click places a venue
  const VENUES = root.dataset.venues;
  const venueLayer = L.layerGroup().addTo(map);
  const markerLayer = L.layerGroup().addTo(map);

  const markers = new Map();   // id -> {data, pin, circle}
  const venues = new Map();    // id -> {data, dot}
  let selected = null;
  let dirty = false;

  const form = $("marker-form");
  const field = function (name, code) { return $("m-" + name + "-" + code); };
  const radius = $("m-radius");
  const radiusRange = $("m-radius-range");
  const lat = $("m-lat");
  const lon = $("m-lon");
  const venueSelect = $("m-venue");

  function title(m) { return C.pick(m.title) || t("untitled", { id: m.id }); }
  function round6(x) { return Math.round(x * 1e6) / 1e6; }

  // --- the map ------------------------------------------------------------------------

  function pinKind(m) {
    if (selected === m.id) { return "selected"; }
    return m.editable ? "" : "other";
  }

  function draw(m) {
    let entry = markers.get(m.id);
    if (!entry) {
      const pin = L.marker([m.lat, m.lon], { draggable: m.editable, keyboard: true, title: title(m),
        alt: title(m), icon: C.icon("", pinKind(m)), riseOnHover: true });
      const circle = L.circle([m.lat, m.lon], { radius: m.radius_m, interactive: false,
        className: "geofence geofence-" + m.id, weight: 2, fillOpacity: 0.12 });
      pin.on("click", function () { select(m.id); });
      pin.on("drag", function (e) {
        circle.setLatLng(e.target.getLatLng());
        if (selected === m.id) { C.setCoordinates(lat, lon, e.target.getLatLng().lat, e.target.getLatLng().lng); }
      });
      pin.on("dragend", function (e) { move(m.id, e.target.getLatLng()); });
      pin.on("add", function () { label(markers.get(m.id)); });
      circle.addTo(markerLayer);
      pin.addTo(markerLayer);
      entry = { data: m, pin: pin, circle: circle };
      markers.set(m.id, entry);
    }
    entry.data = m;
    entry.pin.setLatLng([m.lat, m.lon]);
    entry.circle.setLatLng([m.lat, m.lon]);
    entry.circle.setRadius(m.radius_m);
    entry.pin.setIcon(C.icon("", pinKind(m)));
    label(entry);
    if (entry.pin.dragging) { m.editable ? entry.pin.dragging.enable() : entry.pin.dragging.disable(); }
    return entry;
  }

  function label(entry) {
    const element = entry && entry.pin.getElement();
    if (!element) { return; }
    element.dataset.markerId = entry.data.id;
    element.setAttribute("title", title(entry.data));
    element.setAttribute("aria-label", title(entry.data));
  }

  function drawVenue(v) {
    let entry = venues.get(v.id);
    if (entry && entry.dot) { venueLayer.removeLayer(entry.dot); }
    entry = { data: v, dot: null };
    venues.set(v.id, entry);
    if (!v.placed) { return entry; }
    const dot = L.circleMarker([v.lat, v.lon], { radius: 7, weight: 2,
      fillOpacity: 0.9, className: "venue venue-" + v.id });
    dot.bindTooltip(S.el("span", { text: v.name }));
    const popup = S.el("div", {}, [
      S.el("strong", { text: v.name }), S.el("br"), S.el("span", { className: "small", text: v.address }),
      S.el("br"),
      S.el("button", { type: "button", text: t("marker_at_venue"), onclick: function () {
        map.closePopup(); create(L.latLng(v.lat, v.lon), v.id);
      } }),
      v.editable ? S.el("button", { type: "button", className: "secondary", text: t("venue_move"),
        onclick: function () { map.closePopup(); startVenueMode(v); } }) : null,
    ]);
    dot.bindPopup(popup);
    dot.addTo(venueLayer);
    entry.dot = dot;
    return entry;
  }

  function fit() {
    const points = [];
    markers.forEach(function (e) { points.push([e.data.lat, e.data.lon]); });
    venues.forEach(function (e) { if (e.data.placed) { points.push([e.data.lat, e.data.lon]); } });
    if (points.length) { map.fitBounds(points, { padding: [30, 30], maxZoom: 17 }); }
    else { map.setView([20, 0], 2); }
  }

  map.on("click", function (e) {
    const current = mode.get();
    if (current && current.kind === "venue") { placeVenue(current.id, e.latlng); return; }
    if (dirty && !window.confirm(t("confirm_discard"))) { return; }
    dirty = false;
    create(e.latlng);
  });


  // --- markers ------------------------------------------------------------------------

  async function create(latlng, venueId) {
    try {
      const body = { lat: round6(latlng.lat), lon: round6(latlng.lng) };
      if (venueId) {
        body.venue_id = venueId;
        const v = venues.get(venueId).data;
        body.title = { de: v.name, en: v.name };
      }
      const m = await S.api("POST", API, body);
      draw(m);
      renderList();
      select(m.id, true);
      C.status(t("marker_created"), "ok", { label: t("undo"), run: function () { remove(m.id, true); } });
    } catch (e) {
      C.status(e.message, "error");
    }
  }

  async function move(id, latlng) {
    const entry = markers.get(id);
    const before = entry.data;
    try {
      const m = await S.api("PATCH", API + "/" + id, { lat: round6(latlng.lat), lon: round6(latlng.lng) });
      draw(m);
      if (selected === id) { fillPosition(m); }
      C.status(t("marker_moved", { title: title(m) }), "ok", { label: t("undo"), run: async function () {
        try { draw(await S.api("PATCH", API + "/" + id, { lat: before.lat, lon: before.lon })); if (selected === id) { fillPosition(markers.get(id).data); } }
        catch (e) { C.status(e.message, "error"); }
      } });
    } catch (e) {
      draw(before);
      if (selected === id) { fillPosition(before); }
      C.status(e.message, "error");
    }
  }

  async function remove(id, undo) {
    const m = markers.get(id).data;
    if (!undo && !window.confirm(t("confirm_delete_marker", { title: title(m) }))) { return; }
    try {
      await S.api("DELETE", API + "/" + id);
      const entry = markers.get(id);
      markerLayer.removeLayer(entry.pin);
      markerLayer.removeLayer(entry.circle);
      markers.delete(id);
      if (selected === id) { close(true); }
      renderList();
      C.status(undo ? t("marker_undone") : t("marker_deleted", { title: title(m) }));
    } catch (e) {
      C.status(e.message, "error");
      if (selected === id) { showFormError(e.message); }
    }
  }

  // --- the form -----------------------------------------------------------------------

  function fillPosition(m) { C.setCoordinates(lat, lon, m.lat, m.lon); }

  function fillVenues(m) {
    venueSelect.replaceChildren(S.el("option", { value: "", text: t("no_venue") }));
    Array.from(venues.values()).map(function (e) { return e.data; })
      .sort(function (a, b) { return a.name.localeCompare(b.name); })
      .forEach(function (v) {
        venueSelect.append(S.el("option", { value: v.id, text: v.name, selected: m.venue_id === v.id }));
      });
  }

  function fillImage(m) {
    const img = $("m-image");
    img.hidden = !m.image_url;
    $("m-no-image").hidden = !!m.image_url;
    if (m.image_url) { img.src = m.image_url; img.alt = t("image_of", { title: title(m) }); }
    else { img.removeAttribute("src"); }
    $("m-image-remove").disabled = !m.image_url || !m.editable;
    $("m-image-error").hidden = true;
    $("m-image-file").value = "";
  }

  function fill(m) {
    ["title", "clue", "story"].forEach(function (name) {
      S.textLanguages.forEach(function (code) { field(name, code).value = m[name][code] || ""; });
    });
    radius.value = m.radius_m;
    radiusRange.value = Math.min(m.radius_m, 200);
    fillPosition(m);
    fillVenues(m);
    fillImage(m);
    $("marker-form-title").textContent = t("edit_marker", { title: title(m) });
    $("marker-owner").textContent = m.owner ? t("owned_by", { name: m.owner.username }) : t("no_owner");
    $("marker-readonly").hidden = m.editable;
    form.querySelectorAll("input, textarea, select, #m-save, #m-delete").forEach(function (x) { x.disabled = !m.editable; });
    radiusRange.disabled = !m.editable;
    $("m-image-file").disabled = !m.editable;
    $("m-image-upload").disabled = !m.editable;
    const used = $("marker-rallies");
    used.replaceChildren();
    if (m.rallies.length) {
      used.append(t("used_in") + " ");
      m.rallies.forEach(function (r, i) {
        if (i) { used.append(", "); }
        used.append(S.el("a", { href: root.dataset.rallyUrl.replace(/0$/, String(r.id)), text: r.slug }));
      });
    } else { used.textContent = t("used_nowhere"); }
    ["m-radius-msg", "m-coords-msg", "m-form-error"].forEach(function (id) { $(id).hidden = true; });
    dirty = false;
  }

  function select(id, focusTitle) {
    if (dirty && selected !== id && !window.confirm(t("confirm_discard"))) { return; }
    const previous = selected;
    selected = id;
    if (previous !== null && previous !== id && markers.has(previous)) { draw(markers.get(previous).data); }
    const entry = markers.get(id);
    draw(entry.data);
    fill(entry.data);
    $("marker-form-section").hidden = false;
    if (!map.getBounds().contains(entry.pin.getLatLng())) { map.panTo(entry.pin.getLatLng()); }
    history.replaceState(null, "", "#marker-" + id);
    renderList();
    if (focusTitle && entry.data.editable) { field("title", S.lang).focus(); }
  }

  function close(force) {
    if (!force && dirty && !window.confirm(t("confirm_discard"))) { return; }
    const id = selected;
    selected = null;
    dirty = false;
    $("marker-form-section").hidden = true;
    if (id !== null && markers.has(id)) { draw(markers.get(id).data); }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    renderList();
  }

  function showFormError(message) {
    const box = $("m-form-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function readRadius() {
    const value = Number(radius.value);
    const bad = radius.value === "" || !Number.isFinite(value) || value < 5 || value > 500;
    radius.setAttribute("aria-invalid", bad ? "true" : "false");
    $("m-radius-msg").textContent = bad ? t("radius_range") : "";
    $("m-radius-msg").hidden = !bad;
    return bad ? null : value;
  }

  function previewShape() {
    if (selected === null) { return; }
    const entry = markers.get(selected);
    const r = Number(radius.value);
    if (Number.isFinite(r) && r >= 5 && r <= 500) { entry.circle.setRadius(r); }
    const la = Number(lat.value.replace(",", ".")), lo = Number(lon.value.replace(",", "."));
    if (lat.value && lon.value && Number.isFinite(la) && Number.isFinite(lo) && Math.abs(la) <= 90 && Math.abs(lo) <= 180) {
      entry.circle.setLatLng([la, lo]);
      entry.pin.setLatLng([la, lo]);
    }
  }

  radiusRange.addEventListener("input", function () { radius.value = radiusRange.value; dirty = true; previewShape(); });
  radius.addEventListener("input", function () { radiusRange.value = Math.min(Number(radius.value) || 5, 200); dirty = true; previewShape(); });
  lat.addEventListener("change", previewShape);
  lon.addEventListener("change", previewShape);
  form.addEventListener("input", function () { dirty = true; });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (selected === null) { return; }
    showFormError("");
    const r = readRadius();
    const position = C.readCoordinates(lat, lon, $("m-coords-msg"));
    if (r === null || position === null) { return; }
    const body = { lat: position.lat, lon: position.lon, radius_m: r,
      venue_id: venueSelect.value ? Number(venueSelect.value) : null };
    ["title", "clue", "story"].forEach(function (name) {
      body[name] = {};
      S.textLanguages.forEach(function (code) { body[name][code] = field(name, code).value.trim(); });
    });
    try {
      const m = await S.api("PATCH", API + "/" + selected, body);
      dirty = false;
      draw(m);
      fill(m);
      renderList();
      C.status(t("saved"));
    } catch (e) {
      showFormError(e.message);
      const name = e.data && e.data.error && e.data.error.field;
      const input = name && form.querySelector('[name="' + name.replace(/"/g, "") + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    }
  });

  $("m-close").addEventListener("click", function () {
    if (selected !== null && dirty && markers.has(selected)) {
      if (!window.confirm(t("confirm_discard"))) { return; }
      draw(markers.get(selected).data);
    }
    close(true);
  });
  $("m-delete").addEventListener("click", function () { if (selected !== null) { remove(selected); } });

  $("m-image-upload").addEventListener("click", async function () {
    const input = $("m-image-file");
    const error = $("m-image-error");
    error.hidden = true;
    if (!input.files.length) { error.textContent = t("image_none_chosen"); error.hidden = false; input.focus(); return; }
    const file = input.files[0];
    if (!/^image\/(jpeg|png)$/.test(file.type)) { error.textContent = t("image_type"); error.hidden = false; return; }
    try {
      const m = await S.upload(API + "/" + selected + "/image", "image", file);
      markers.get(m.id).data = m;
      fillImage(m);
      C.status(t("image_saved"));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });

  $("m-image-remove").addEventListener("click", async function () {
    if (!window.confirm(t("confirm_remove_image"))) { return; }
    try {
      const m = await S.api("DELETE", API + "/" + selected + "/image");
      markers.get(m.id).data = m;
      fillImage(m);
      C.status(t("image_removed"));
    } catch (e) { C.status(e.message, "error"); }
  });

  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });

  // --- adding by coordinates ----------------------------------------------------------

  $("add-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const position = C.readCoordinates($("add-lat"), $("add-lon"), $("add-coords-msg"));
    if (position === null) { return; }
    map.setView([position.lat, position.lon], Math.max(map.getZoom(), 16));
    create(L.latLng(position.lat, position.lon));
    $("add-lat").value = "";
    $("add-lon").value = "";
  });

  // --- the list of markers and of venues without a position ---------------------------

  function renderList() {
    const list = $("marker-list");
    const onlyMine = $("only-mine").checked;
    list.replaceChildren();
    Array.from(markers.values()).map(function (e) { return e.data; })
      .filter(function (m) { return !onlyMine || (m.owner && m.owner.id === C.me.id); })
      .sort(function (a, b) { return title(a).localeCompare(title(b)); })
      .forEach(function (m) {
        const details = [m.venue, m.owner ? m.owner.username : t("no_owner")].filter(Boolean).join(" · ");
        list.append(S.el("li", { "aria-current": selected === m.id ? "true" : null, "data-marker-id": m.id }, [
          S.el("button", { type: "button", className: "link", text: title(m), onclick: function () { select(m.id, true); } }),
          S.el("span", { className: "small", text: " " + details }),
        ]));
      });
    if (!list.children.length) { list.append(S.el("li", { className: "small", text: t("no_markers") })); }
  }
  $("only-mine").addEventListener("change", renderList);

  function startVenueMode(v) {
    mode.set({ kind: "venue", id: v.id }, t("place_venue_mode", { name: v.name }));
  }

  async function placeVenue(id, latlng, inputs) {
    try {
      const v = await S.api("PATCH", VENUES + "/" + id, { lat: round6(latlng.lat), lon: round6(latlng.lng) });
      mode.set(null);
      drawVenue(v);
      renderUnplaced();
      fillVenues(selected !== null ? markers.get(selected).data : { venue_id: null });
      C.status(t("venue_placed", { name: v.name }));
    } catch (e) {
      C.status(e.message, "error");
      if (inputs) { inputs.message.textContent = e.message; inputs.message.hidden = false; }
    }
  }

  function renderUnplaced() {
    const list = $("unplaced");
    list.replaceChildren();
    const todo = Array.from(venues.values()).map(function (e) { return e.data; }).filter(function (v) { return !v.placed; });
    todo.forEach(function (v) {
      const latIn = S.el("input", { id: "venue-" + v.id + "-lat", inputmode: "decimal", autocomplete: "off" });
      const lonIn = S.el("input", { id: "venue-" + v.id + "-lon", inputmode: "decimal", autocomplete: "off" });
      const message = S.el("p", { className: "field-error", role: "alert", hidden: true });
      const form = S.el("form", { novalidate: true, "aria-label": t("venue_position_of", { name: v.name }) }, [
        S.el("div", {}, [S.el("label", { for: latIn.id, text: t("lat") }), latIn]),
        S.el("div", {}, [S.el("label", { for: lonIn.id, text: t("lon") }), lonIn]),
        S.el("button", { type: "submit", className: "secondary", text: t("save") }),
        message,
      ]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        const position = C.readCoordinates(latIn, lonIn, message);
        if (position) { placeVenue(v.id, L.latLng(position.lat, position.lon), { message: message }); }
      });
      list.append(S.el("li", { className: "venue-row", "data-venue-id": v.id }, [
        S.el("span", {}, [S.el("strong", { text: v.name }), S.el("br"), S.el("span", { className: "small", text: v.address })]),
        S.el("button", { type: "button", text: t("place_on_map"), disabled: !v.editable,
          onclick: function () { startVenueMode(v); } }),
        form,
      ]));
    });
    if (!todo.length) { list.append(S.el("li", { className: "small", text: t("all_venues_placed") })); }
  }

  // --- start --------------------------------------------------------------------------

  async function load() {
    try {
      const [vs, ms] = await Promise.all([S.api("GET", VENUES), S.api("GET", API)]);
      vs.venues.forEach(drawVenue);
      ms.markers.forEach(draw);
      renderUnplaced();
      renderList();
      fit();
      const wanted = /^#marker-(\d+)$/.exec(window.location.hash);
      if (wanted && markers.has(Number(wanted[1]))) {
        const id = Number(wanted[1]);
        map.setView(markers.get(id).pin.getLatLng(), Math.max(map.getZoom(), 17));
        select(id);
      }
      root.dataset.ready = "true";
    } catch (e) {
      C.status(e.message, "error");
    }
  }
  load();
})();
