/* Staff page layout (base.html): the menu is open beside the brand on a wide screen and a button
   that folds it on a narrow one (this runs right after the menu, so a wide screen never sees it
   closed); each table.list gets its column names on its cells, for its card layout on a phone. */
"use strict";
(function () {
  const menu = document.getElementById("menu");
  if (menu) {
    const wide = window.matchMedia("(min-width: 62rem)");
    const fit = function () {
      menu.open = wide.matches;
      menu.classList.toggle("wide", wide.matches);
    };
    fit();
    wide.addEventListener("change", fit);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open && !wide.matches) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  // A stacked table keeps its meaning for screen readers: the roles CSS display would drop.
  function label(table) {
    const names = Array.from(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    if (!names.length) { return; }
    table.setAttribute("role", "table");
    table.querySelectorAll("thead, tbody").forEach(function (g) { g.setAttribute("role", "rowgroup"); });
    table.querySelectorAll("thead th").forEach(function (th) { th.setAttribute("role", "columnheader"); });
    table.querySelectorAll("tr").forEach(function (tr) {
      tr.setAttribute("role", "row");
      Array.from(tr.children).forEach(function (cell, i) {
        if (cell.tagName !== "TD") { return; }
        cell.setAttribute("role", "cell");
        if (names[i] && !cell.hasAttribute("colspan")) { cell.dataset.label = names[i]; }
      });
    });
    table.classList.add("labelled");
  }
  function labelAll() {
    document.querySelectorAll("body.staff table.list").forEach(function (table) {
      label(table);
      new MutationObserver(function () { label(table); })
        .observe(table.tBodies[0] || table, { childList: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", labelAll);
  } else {
    labelAll();
  }
})();
