/* The curator start page: create a rally and open its editor. */
"use strict";
(function () {
  const S = window.Staff;
  const t = S.t;
  const form = document.getElementById("new-rally");
  const error = document.getElementById("new-rally-error");
  const slug = document.getElementById("new-slug");
  const titleDe = document.getElementById("new-title-de");
  const titleEn = document.getElementById("new-title-en");

  function slugify(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/ß/g, "ss")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  }
  let slugTouched = false;
  slug.addEventListener("input", function () { slugTouched = slug.value !== ""; });
  [titleDe, titleEn].forEach(function (input) {
    input.addEventListener("input", function () {
      if (!slugTouched) { slug.value = slugify(titleDe.value || titleEn.value); }
    });
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    error.hidden = true;
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug.value)) {
      error.textContent = t("slug_invalid");
      error.hidden = false;
      slug.setAttribute("aria-invalid", "true");
      slug.focus();
      return;
    }
    slug.removeAttribute("aria-invalid");
    try {
      const rally = await S.api("POST", form.dataset.api, {
        slug: slug.value, title: { de: titleDe.value.trim(), en: titleEn.value.trim() },
      });
      window.location.assign(form.dataset.editor.replace(/0$/, String(rally.id)));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
})();
