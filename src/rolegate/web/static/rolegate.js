// Rolegate admin UI: small enhancements; every page works without them, and the
// server stays the authority (it recomputes every box on each change, and saving
// goes through the services).
(function () {
  "use strict";

  function requiresOf(box) {
    return (box.dataset.requires || "").split(" ").filter(Boolean);
  }

  function grantBoxes(form) {
    var map = new Map();
    form.querySelectorAll('input[type="checkbox"][name="grants"]').forEach(function (b) { map.set(b.value, b); });
    return map;
  }

  // E6: what a permission needs, transitively, that is not ticked yet (and can be).
  function missingRequirements(map, box, out) {
    requiresOf(box).forEach(function (key) {
      var req = map.get(key);
      if (req && !req.checked && !req.disabled && out.indexOf(req) < 0) {
        out.push(req);
        missingRequirements(map, req, out);
      }
    });
    return out;
  }

  // E6: what is ticked and needs this permission, transitively.
  function dependents(map, key, out) {
    map.forEach(function (b) {
      if (b.checked && !b.disabled && requiresOf(b).indexOf(key) >= 0 && out.indexOf(b) < 0) {
        out.push(b);
        dependents(map, b.value, out);
      }
    });
    return out;
  }

  function labels(boxes) {
    return boxes.map(function (b) { return b.dataset.label; }).join(", ");
  }

  // Issue 15: the notice goes in the row of the box that caused it (its dep-* status,
  // which the box's aria-describedby names); any earlier notice is cleared.
  function say(box, text) {
    document.querySelectorAll(".dep-notice").forEach(function (n) { n.textContent = ""; });
    var notice = document.getElementById("dep-" + box.value);
    if (notice) notice.textContent = text;
  }

  // Capture phase: runs before htmx sends the form's change to the server.
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!(box instanceof HTMLInputElement) || box.name !== "grants" || !box.form) return;
    var map = grantBoxes(box.form);
    if (box.checked) {
      var add = missingRequirements(map, box, []);
      add.forEach(function (b) { b.checked = true; });
      say(box, add.length ? "Also ticked " + labels(add) + ": " + box.dataset.label + " needs " + (add.length > 1 ? "them." : "it.") : "");
      return;
    }
    var deps = dependents(map, box.value, []);
    if (!deps.length) { say(box, ""); return; }
    var question = "Unticking " + box.dataset.label + " also unticks what needs it:\n- " +
      deps.map(function (b) { return b.dataset.label; }).join("\n- ") + "\n\nContinue?";
    if (window.confirm(question)) {
      deps.forEach(function (b) { b.checked = false; });
      say(box, "Also unticked " + labels(deps) + ": " + (deps.length > 1 ? "they need " : "it needs ") + box.dataset.label + ".");
    } else {
      box.checked = true;
      say(box, "");
    }
  }, true);

  // The workspace switcher changes workspace as soon as one is chosen.
  document.addEventListener("change", function (ev) {
    var select = ev.target;
    if (select instanceof HTMLSelectElement && select.form && select.form.hasAttribute("data-autosubmit")) {
      select.form.submit();
    }
  });

  // Confirmations loaded by htmx open in the page's dialog.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    var dialog = document.getElementById("dialog");
    if (target && target.id === "dialog-content" && dialog && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("button, a");
      if (first) first.focus();
    }
  });

  document.addEventListener("click", function (ev) {
    var closer = ev.target instanceof Element ? ev.target.closest("[data-close-dialog]") : null;
    var dialog = document.getElementById("dialog");
    if (closer && dialog && dialog.open && dialog.contains(closer)) {
      ev.preventDefault();
      dialog.close();
    }
  });
})();

// K11 on the Field permissions tab: write includes read; unticking read unticks write.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!(box instanceof HTMLInputElement) || !box.form || box.form.id !== "fields-form") return;
    var parts = box.name.split(":");
    if (parts.length !== 2) return;
    var other = box.form.elements.namedItem((parts[0] === "write" ? "read:" : "write:") + parts[1]);
    if (!(other instanceof HTMLInputElement) || other.disabled) return;
    if (parts[0] === "write" && box.checked) other.checked = true;
    if (parts[0] === "read" && !box.checked) other.checked = false;
  });
})();

// The embeddable portal (issue 15): tell the host page what was just done (role
// saved, member invited, member disabled). Only to the origin the host's backend
// named when it asked for the link, never "*": another page framing us learns nothing.
(function () {
  "use strict";
  function announce() {
    var body = document.body;
    var origin = body.dataset.portalOrigin;
    var event = body.dataset.portalEvent;
    if (!origin || !event || window.parent === window) return;
    try {
      window.parent.postMessage(JSON.parse(event), origin);
    } catch (e) { /* a malformed event is dropped, the page works on */ }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", announce);
  else announce();
})();

// Safe by default (issue 15): a form marked data-confirm asks first, in a native
// <dialog> that says who is affected ({field} is the chosen option's text). Cancel
// is focused first; Escape cancels. Without JavaScript the server still refuses
// what the rules forbid.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    ev.preventDefault();
    var text = form.dataset.confirm;
    form.querySelectorAll("select").forEach(function (sel) {
      var chosen = sel.selectedOptions[0];
      text = text.split("{" + sel.name + "}").join(chosen ? chosen.textContent.trim() : "");
    });
    document.getElementById("confirm-title").textContent = form.dataset.confirmTitle || "Are you sure?";
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = form.dataset.confirmAction || "Confirm";
    var submitter = ev.submitter;
    dialog.returnValue = "";
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      if (dialog.returnValue !== "confirm") return;
      form.dataset.confirmed = "1";
      if (typeof form.requestSubmit === "function") form.requestSubmit(submitter || undefined);
      else form.submit();
    });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  }, true);

  document.addEventListener("click", function (ev) {
    var button = ev.target instanceof Element ? ev.target.closest("#confirm-dialog [data-answer]") : null;
    if (button) document.getElementById("confirm-dialog").close(button.getAttribute("data-answer"));
  });
})();

// matrix and features: the area filter applies as soon as an area is chosen (htmx swaps
// the table in), so its "Show" button is only for pages without scripts.
(function () {
  "use strict";
  function liveFilters() {
    if (!window.htmx) return;
    document.querySelectorAll("form.matrix-filter button[type=submit]").forEach(function (b) { b.hidden = true; });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", liveFilters);
  else liveFilters();
})();

// permission grid (issue 15): the role editor's one table.
(function () {
  "use strict";
  // Validation after interaction only: the fields the user typed in or changed are
  // posted in `touched`, so the live preview checks a new role's name once it was
  // typed in, not while the user is still ticking boxes.
  function touch(ev) {
    var el = ev.target;
    var form = el instanceof Element ? el.closest("#role-form") : null;
    var touched = form ? form.querySelector("#role-touched") : null;
    if (!touched || !el.name || el.name === "touched") return;
    var names = touched.value.split(" ").filter(Boolean);
    if (names.indexOf(el.name) < 0) { names.push(el.name); touched.value = names.join(" "); }
  }
  document.addEventListener("input", touch, true);
  document.addEventListener("change", touch, true);
  document.addEventListener("focusout", function (ev) {
    if (ev.target instanceof HTMLInputElement && ev.target.id === "role-name") touch(ev);
  }, true);

  // A preview re-sends each box's note out of band: the box's wrapper takes the state
  // the server gave it (inert, gated ...), the box itself is never replaced.
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var note = ev.target;  // the note swapped in (detail.target is the one it replaced)
    if (!(note instanceof Element) || !note.id || note.id.indexOf("note-") !== 0) return;
    var wrapper = note.closest(".perm");
    var state = note.getAttribute("data-state");
    if (wrapper && state) wrapper.className = "perm perm-" + state;
  });

  // K11 in the create flow's field permissions, as on the Field permissions tab: write
  // includes read; unticking read unticks write.
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!(box instanceof HTMLInputElement) || !box.form || box.form.id !== "role-form") return;
    var parts = box.name.split(":");
    if (parts.length !== 2 || (parts[0] !== "read" && parts[0] !== "write")) return;
    var other = box.form.elements.namedItem((parts[0] === "write" ? "read:" : "write:") + parts[1]);
    if (!(other instanceof HTMLInputElement) || other.disabled) return;
    if (parts[0] === "write" && box.checked) other.checked = true;
    if (parts[0] === "read" && !box.checked) other.checked = false;
  }, true);
})();

// team page
// Issue 15: one actions menu per member, a <details> disclosure (it opens without
// JavaScript too). Here: aria-expanded follows it, one menu is open at a time, Escape
// closes it and gives the focus back to its button, the arrow keys move between its
// items, a click elsewhere closes it; an item that opens a dialog closes the menu, and
// closing the dialog brings the focus back to the menu's button.
(function () {
  "use strict";
  var opener = null;

  function menus() { return Array.prototype.slice.call(document.querySelectorAll("details.row-menu")); }
  function summaryOf(menu) { return menu.querySelector("summary"); }
  function itemsOf(menu) { return Array.prototype.slice.call(menu.querySelectorAll(".menu-item")); }
  function sync(menu) {
    var s = summaryOf(menu);
    if (s) s.setAttribute("aria-expanded", menu.open ? "true" : "false");
  }

  // `toggle` does not bubble: listen in the capture phase.
  document.addEventListener("toggle", function (ev) {
    var menu = ev.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("row-menu")) return;
    sync(menu);
    if (menu.open) menus().forEach(function (other) { if (other !== menu && other.open) other.open = false; });
  }, true);

  document.addEventListener("keydown", function (ev) {
    var el = ev.target instanceof Element ? ev.target : null;
    var menu = el ? el.closest("details.row-menu") : null;
    if (!menu) return;
    if (ev.key === "Escape" && menu.open) {
      ev.preventDefault();
      menu.open = false;
      sync(menu);
      summaryOf(menu).focus();
      return;
    }
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    var items = itemsOf(menu);
    if (!items.length) return;
    ev.preventDefault();
    if (!menu.open) { menu.open = true; sync(menu); }
    var i = items.indexOf(el);
    var next = ev.key === "ArrowDown" ? (i + 1) % items.length : (i <= 0 ? items.length - 1 : i - 1);
    items[next].focus();
  });

  document.addEventListener("click", function (ev) {
    var el = ev.target instanceof Element ? ev.target : null;
    menus().forEach(function (menu) { if (menu.open && !(el && menu.contains(el))) { menu.open = false; sync(menu); } });
    var item = el ? el.closest("details.row-menu .menu-item") : null;
    if (!item) return;
    var menu = item.closest("details.row-menu");
    opener = summaryOf(menu);
    // After the click's own action (a submit, an htmx request) has started.
    window.setTimeout(function () { menu.open = false; sync(menu); }, 0);
  });

  ["dialog", "confirm-dialog"].forEach(function (id) {
    var dialog = document.getElementById(id);
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      if (opener && document.contains(opener) && !document.querySelector("dialog[open]")) opener.focus();
      if (!document.querySelector("dialog[open]")) opener = null;
    });
  });

  // A dialog loaded by htmx starts on its own first field (the role picker), when it names
  // one. htmx wires the new content's hx- attributes only once it settles (20 ms later):
  // wire them now, so that a choice made at once already fetches its preview.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    if (!target || target.id !== "dialog-content") return;
    if (window.htmx) window.htmx.process(target);
    var first = target.querySelector("[autofocus]");
    if (first instanceof HTMLElement) first.focus();
  });
})();
