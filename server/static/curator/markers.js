/* The marker editor: venues and markers on a map; click to place, drag to move, a form to edit;
   a geofence is a circle or a polygon drawn corner by corner; a venue is placed after a confirmation,
   with an undo. */
"use strict";
(function () {
  const S = window.Staff;
  const C = window.Curator;
  const { t, byId: $ } = S;
  const { root, api: API, map, mode } = C.editor("marker-editor");  // mode: {kind: "venue", id} while a click places a venue
  const VENUES = root.dataset.venues;
  const venueLayer = L.layerGroup().addTo(map);
  const markerLayer = L.layerGroup().addTo(map);
  const fenceLayer = L.layerGroup().addTo(map);   // the selected marker's polygon as edited, with its corners
  const MAX_CORNERS = 50;

  const markers = new Map();   // id -> {data, pin, circle}
  const venues = new Map();    // id -> {data, dot}
  let selected = null;
  let dirty = false;
  let fence = null;            // the selected marker's geofence as edited: null (its circle) or [[lat, lon], ...]
  let venueOpen = null;        // the venue shown in the venue panel
  let proposal = null;         // a venue position waiting for Confirm: {id, pin}

  const form = $("marker-form");
  const field = function (name, code) { return $("m-" + name + "-" + code); };
  const radius = $("m-radius");
  const radiusRange = $("m-radius-range");
  const lat = $("m-lat");
  const lon = $("m-lon");
  const venueSelect = $("m-venue");

  function title(m) { return C.pick(m.title) || t("untitled", { id: m.id }); }
  function round6(x) { return Math.round(x * 1e6) / 1e6; }
  function shifted(polygon, dLat, dLon) {
    return polygon.map(function (p) { return [round6(p[0] + dLat), round6(p[1] + dLon)]; });
  }

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
      const poly = L.polygon([], { interactive: false, className: "geofence fence-polygon geofence-" + m.id,
        weight: 2, fillOpacity: 0.12 });
      let from = null, draft = null;
      pin.on("click", function () { select(m.id); });
      pin.on("dragstart", function (e) { from = e.target.getLatLng(); draft = fence; });
      pin.on("drag", function (e) {
        const at = e.target.getLatLng();
        circle.setLatLng(at);
        const saved = markers.get(m.id).data.polygon;
        if (saved) { poly.setLatLngs(shifted(saved, at.lat - from.lat, at.lng - from.lng)); }
        if (selected === m.id) {
          C.setCoordinates(lat, lon, at.lat, at.lng);
          if (draft) { fence = shifted(draft, at.lat - from.lat, at.lng - from.lng); renderFence(); }
        }
      });
      pin.on("dragend", function (e) {
        const at = e.target.getLatLng();
        move(m.id, at, at.lat - from.lat, at.lng - from.lng);
      });
      pin.on("add", function () { label(markers.get(m.id)); });
      pin.addTo(markerLayer);
      entry = { data: m, pin: pin, circle: circle, poly: poly };
      markers.set(m.id, entry);
    }
    entry.data = m;
    entry.pin.setLatLng([m.lat, m.lon]);
    entry.circle.setLatLng([m.lat, m.lon]);
    entry.circle.setRadius(m.radius_m);
    showShape(entry);
    entry.pin.setIcon(C.icon("", pinKind(m)));
    label(entry);
    if (entry.pin.dragging) { m.editable ? entry.pin.dragging.enable() : entry.pin.dragging.disable(); }
    return entry;
  }

  /* A marker's fence on the map: its saved circle or polygon; the selected marker's polygon as
     edited is drawn by renderFence instead. */
  function showShape(entry) {
    const m = entry.data;
    const editing = selected === m.id;
    const polygon = editing ? fence : m.polygon;
    if (polygon) { markerLayer.removeLayer(entry.circle); } else { entry.circle.addTo(markerLayer); }
    if (polygon && !editing) { entry.poly.setLatLngs(polygon); entry.poly.addTo(markerLayer); }
    else { markerLayer.removeLayer(entry.poly); }
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
    const dot = L.circleMarker([v.lat, v.lon], { radius: 7, weight: 2, bubblingMouseEvents: false,
      fillOpacity: 0.9, className: "venue venue-" + v.id });
    dot.bindTooltip(S.el("span", { text: v.name }));
    // While placing or drawing, a click on a venue's dot is a click on the map at that spot.
    dot.on("click", function (e) {
      if (proposal || mode.get()) { map.fire("click", { latlng: e.latlng }); return; }
      openVenue(v.id);
    });
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
    if (proposal) { propose(proposal.id, e.latlng); return; }
    if (current && current.kind === "venue") { propose(current.id, e.latlng); return; }
    if (current && current.kind === "fence") { addCorner(e.latlng); return; }
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

  /* The marker dragged to latlng, its saved polygon shifted along (dLat, dLon). */
  async function move(id, latlng, dLat, dLon) {
    const entry = markers.get(id);
    const before = entry.data;
    const body = { lat: round6(latlng.lat), lon: round6(latlng.lng) };
    if (before.polygon) { body.polygon = shifted(before.polygon, dLat, dLon); }
    try {
      const m = await S.api("PATCH", API + "/" + id, body);
      draw(m);
      if (selected === id) { fillPosition(m); }
      C.status(t("marker_moved", { title: title(m) }), "ok", { label: t("undo"), run: async function () {
        try {
          draw(await S.api("PATCH", API + "/" + id, { lat: before.lat, lon: before.lon, polygon: before.polygon }));
          if (selected === id) { fillPosition(markers.get(id).data); }
        } catch (e) { C.status(e.message, "error"); }
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
      markerLayer.removeLayer(entry.poly);
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
    ["m-radius-msg", "m-coords-msg", "m-form-error", "m-fence-msg"].forEach(function (id) { $(id).hidden = true; });
    fence = m.polygon ? m.polygon.map(function (p) { return [p[0], p[1]]; }) : null;
    if (drawing()) { mode.set(null); }
    renderFence();
    dirty = false;
  }

  // --- the polygon fence of the selected marker ---------------------------------------

  function drawing() { const current = mode.get(); return !!current && current.kind === "fence"; }

  function renderFence() {
    fenceLayer.clearLayers();
    const entry = selected !== null ? markers.get(selected) : null;
    if (entry) { showShape(entry); }
    const editable = !!entry && entry.data.editable;
    const info = $("m-fence-info");
    if (!entry) { info.textContent = ""; }
    else if (fence === null) { info.textContent = t("fence_circle_info", { radius: radius.value || entry.data.radius_m }); }
    else if (drawing()) { info.textContent = t("fence_drawing_info", { n: fence.length }); }
    else { info.textContent = t("fence_polygon_info", { n: fence.length }); }
    radius.disabled = radiusRange.disabled = !editable || fence !== null;
    $("m-fence-draw").disabled = !editable;
    $("m-fence-close").disabled = !editable || !drawing();
    $("m-fence-clear").disabled = !editable || fence === null || !fence.length;
    $("m-fence-circle").disabled = !editable || fence === null;
    if (!entry || fence === null) { return; }
    const style = { interactive: false, className: "fence-draft", weight: 2, fillOpacity: 0.12 };
    const shape = (drawing() ? L.polyline(fence, style) : L.polygon(fence, style)).addTo(fenceLayer);
    fence.forEach(function (p, i) {
      const name = t("fence_corner", { n: i + 1 });
      const corner = L.marker(p, { draggable: editable, keyboard: false, title: name, alt: name, zIndexOffset: 500,
        icon: L.divIcon({ className: "fence-vertex" + (i === 0 ? " first" : ""), iconSize: [12, 12] }) });
      corner.on("drag", function (e) {
        const at = e.target.getLatLng();
        fence[i] = [round6(at.lat), round6(at.lng)];
        shape.setLatLngs(fence);
      });
      corner.on("dragend", function () { dirty = true; renderFence(); });
      corner.on("click", function () { if (drawing() && i === 0) { closeFence(); } });
      corner.addTo(fenceLayer);
      corner.getElement().dataset.corner = String(i + 1);
    });
  }

  function fenceMessage(text) {
    $("m-fence-msg").textContent = text || "";
    $("m-fence-msg").hidden = !text;
  }

  function startFence() {
    fence = [];
    dirty = true;
    fenceMessage("");
    mode.set({ kind: "fence" }, t("fence_mode"));
    renderFence();
  }

  function addCorner(latlng) {
    if (fence.length >= MAX_CORNERS) { fenceMessage(t("fence_too_many", { max: MAX_CORNERS })); return; }
    fence.push([round6(latlng.lat), round6(latlng.lng)]);
    dirty = true;
    fenceMessage("");
    renderFence();
  }

  function closeFence() {
    if (fence === null) { return true; }
    if (fence.length < 3) { fenceMessage(t("fence_too_few")); return false; }
    if (drawing()) { mode.set(null); C.status(t("fence_closed")); }
    fenceMessage("");
    renderFence();
    return true;
  }

  $("m-fence-draw").addEventListener("click", startFence);
  $("m-fence-clear").addEventListener("click", startFence);
  $("m-fence-close").addEventListener("click", closeFence);
  $("m-fence-circle").addEventListener("click", function () {
    fence = null;
    dirty = true;
    if (drawing()) { mode.set(null); }
    fenceMessage("");
    renderFence();
  });
  $("map-mode").addEventListener("click", function () { renderFence(); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { setTimeout(renderFence, 0); } });

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
    fence = null;
    if (drawing()) { mode.set(null); }
    renderFence();
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
    if (Number.isFinite(r) && r >= 5 && r <= 500) { entry.circle.setRadius(r); renderFence(); }
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
    if (r === null || position === null || !closeFence()) { return; }
    const body = { lat: position.lat, lon: position.lon, radius_m: r, polygon: fence,
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
      if (name === "polygon") { fenceMessage(e.message); }
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

  // --- venues: the panel, placing with a confirmation, undo ---------------------------

  function openVenue(id) {
    const v = venues.get(id).data;
    venueOpen = id;
    const section = $("venue-section");
    section.hidden = false;
    section.dataset.venueId = id;
    $("venue-title").textContent = v.name;
    $("venue-address").textContent = v.address;
    $("venue-position").textContent = v.placed
      ? t("venue_position", { lat: S.number(v.lat, 6), lon: S.number(v.lon, 6) }) : t("venue_no_position");
    $("venue-placer").textContent = v.placed_by ? t("venue_placed_by", { name: v.placed_by.username }) : "";
    $("venue-readonly").textContent = t("venue_readonly");
    $("venue-readonly").hidden = v.editable;
    const stepFree = $("v-step-free");
    stepFree.value = v.step_free === null || v.step_free === undefined ? "" : String(v.step_free);
    stepFree.disabled = !v.editable;
    $("v-place").textContent = v.placed ? t("venue_move") : t("place_on_map");
    $("v-place").disabled = !v.editable;
    $("v-marker").disabled = !v.placed;
    $("v-error").hidden = true;
  }

  function startVenueMode(v) {
    openVenue(v.id);
    clearProposal();
    mode.set({ kind: "venue", id: v.id }, t("place_venue_mode", { name: v.name }));
  }

  /* A click on the map in venue mode proposes the spot: a dashed pin (draggable) and Confirm/Cancel. */
  function propose(id, latlng) {
    const v = venues.get(id).data;
    if (proposal) { map.removeLayer(proposal.pin); }
    mode.set(null);
    const name = t("venue_proposed", { name: v.name });
    const pin = L.marker(latlng, { draggable: true, title: name, alt: name, zIndexOffset: 1000, icon: C.icon("?", "proposed") });
    pin.addTo(map);
    pin.getElement().dataset.proposedVenue = String(id);
    proposal = { id: id, pin: pin };
    $("venue-confirm-text").textContent = t(v.placed ? "venue_propose_move" : "venue_propose", { name: v.name });
    $("venue-confirm").hidden = false;
    $("venue-confirm-yes").focus();
  }

  function clearProposal() {
    if (proposal) { map.removeLayer(proposal.pin); }
    proposal = null;
    $("venue-confirm").hidden = true;
  }

  $("venue-confirm-yes").addEventListener("click", function () {
    if (!proposal) { return; }
    const id = proposal.id, at = proposal.pin.getLatLng();
    clearProposal();
    placeVenue(id, at);
  });
  $("venue-confirm-no").addEventListener("click", clearProposal);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && proposal) { clearProposal(); } });

  function showVenue(v) {
    drawVenue(v);
    renderUnplaced();
    fillVenues(selected !== null ? markers.get(selected).data : { venue_id: null });
    if (venueOpen === v.id) { openVenue(v.id); }
  }

  async function placeVenue(id, latlng, inputs) {
    const before = venues.get(id).data;
    try {
      const v = await S.api("PATCH", VENUES + "/" + id, { lat: round6(latlng.lat), lon: round6(latlng.lng) });
      mode.set(null);
      showVenue(v);
      C.status(t(before.placed ? "venue_moved" : "venue_placed", { name: v.name }), "ok",
        { label: t("undo"), seconds: 30, run: function () { undoVenue(before); } });
    } catch (e) {
      C.status(e.message, "error");
      if (inputs) { inputs.message.textContent = e.message; inputs.message.hidden = false; }
    }
  }

  /* Back to where the venue was before the last placement: no position, or the old one. */
  async function undoVenue(before) {
    try {
      const v = before.placed
        ? await S.api("PATCH", VENUES + "/" + before.id, { lat: before.lat, lon: before.lon })
        : await S.api("DELETE", VENUES + "/" + before.id + "/position");
      showVenue(v);
      C.status(before.placed ? t("undone") : t("venue_unplaced", { name: v.name }));
    } catch (e) { C.status(e.message, "error"); }
  }

  $("v-place").addEventListener("click", function () { if (venueOpen !== null) { startVenueMode(venues.get(venueOpen).data); } });
  $("v-marker").addEventListener("click", function () {
    const v = venueOpen !== null && venues.get(venueOpen).data;
    if (v && v.placed) { create(L.latLng(v.lat, v.lon), v.id); }
  });
  $("v-close").addEventListener("click", function () {
    venueOpen = null;
    clearProposal();
    $("venue-section").hidden = true;
  });
  $("v-step-free").addEventListener("change", async function () {
    const id = venueOpen;
    const value = this.value === "" ? null : this.value === "true";
    try {
      showVenue(await S.api("PATCH", VENUES + "/" + id, { step_free: value }));
      C.status(t("saved"));
    } catch (e) {
      $("v-error").textContent = e.message;
      $("v-error").hidden = false;
    }
  });

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
        map.setView(markers.get(id).pin.getLatLng(), Math.max(map.getZoom(), 17), { animate: false });
        select(id);
      }
      root.dataset.ready = "true";
    } catch (e) {
      C.status(e.message, "error");
    }
  }
  load();
})();
