// Starling's small script: the compose box's character counter and image preview. Everything works without it; nothing here is inline (CSP).
(function () {
  "use strict";

  function updateCounter(textarea) {
    var form = textarea.form;
    var output = form && form.querySelector("[data-counter-for='" + textarea.id + "']");
    if (!output) return;
    var limit = parseInt(textarea.getAttribute("data-limit"), 10) || 500;
    var warning = form.querySelector("[name=spoiler_text]");
    var used = Array.from(textarea.value).length + (warning ? Array.from(warning.value).length : 0);
    var left = limit - used;
    output.textContent = left;
    output.classList.toggle("over", left < 0);
    output.setAttribute("aria-label", left + " characters left");
    var submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = left < 0;
  }

  function previewImage(input) {
    var target = document.getElementById(input.getAttribute("data-preview"));
    if (!target) return;
    target.textContent = "";
    var file = input.files && input.files[0];
    if (!file || !/^image\//.test(file.type)) return;
    var img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    var alt = input.form && input.form.querySelector("[name=description]");
    img.alt = alt && alt.value ? alt.value : "Preview of the image to upload";
    target.appendChild(img);
  }

  function wire(root) {
    root.querySelectorAll("textarea[data-limit]").forEach(function (textarea) {
      if (textarea.dataset.wired) return;
      textarea.dataset.wired = "1";
      var update = function () { updateCounter(textarea); };
      textarea.addEventListener("input", update);
      var warning = textarea.form && textarea.form.querySelector("[name=spoiler_text]");
      if (warning) warning.addEventListener("input", update);
      update();
    });
    root.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
      if (input.dataset.wired) return;
      input.dataset.wired = "1";
      input.addEventListener("change", function () { previewImage(input); });
    });
  }

  // j / k move between posts, n jumps to the compose box (not while typing in a field).
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "n") {
      var box = document.getElementById("compose-text");
      if (box) { event.preventDefault(); box.focus(); }
      return;
    }
    if (event.key !== "j" && event.key !== "k") return;
    var posts = Array.from(document.querySelectorAll("article.status"));
    if (!posts.length) return;
    var current = target.closest ? target.closest("article.status") : null;
    var index = posts.indexOf(current);
    var next = event.key === "j" ? index + 1 : (index < 0 ? 0 : index - 1);
    next = Math.max(0, Math.min(posts.length - 1, next));
    event.preventDefault();
    posts[next].focus();
    posts[next].scrollIntoView({block: "nearest"});
  });

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();
