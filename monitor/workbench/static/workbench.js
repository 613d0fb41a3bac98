// Keyboard triage of the review queue; every write carries the page's CSRF token.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var flags = Array.prototype.slice.call(queue.querySelectorAll(".flag"));
  var at = 0;
  var done = [];
  var saving = new WeakMap();  // flag -> its decision's request, which an undo waits for

  function select(index) {
    if (!flags.length) { return; }
    at = Math.max(0, Math.min(flags.length - 1, index));
    flags.forEach(function (f, i) { f.classList.toggle("current", i === at); });
    flags[at].scrollIntoView({block: "nearest"});
  }

  function show(flag, decision) {
    flag.setAttribute("data-decision", decision);
    flag.querySelector(".status").textContent = decision || "unreviewed";
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
      return response.json();
    });
  }

  function decide(decision) {
    var flag = flags[at];
    var id = parseInt(flag.getAttribute("data-listing"), 10);
    var note = flag.querySelector(".note-input").value;
    flag.classList.add("saving");
    // Undo takes back decisions in the order they were made, whatever order the answers come in.
    done.push(flag);
    saving.set(flag, post("/api/decide", {listing_id: id, decision: decision, note: note}).then(function (answer) {
      flag.classList.remove("saving");
      show(flag, answer.decision);
    }).catch(function (error) {
      var index = done.lastIndexOf(flag);
      if (index >= 0) { done.splice(index, 1); }
      flag.querySelector(".status").textContent = "not saved: " + error.message;
    }));
    select(at + 1);
  }

  function undo() {
    var flag = done.pop();
    if (!flag) { return; }
    (saving.get(flag) || Promise.resolve()).then(function () {
      return post("/api/undo", {listing_id: parseInt(flag.getAttribute("data-listing"), 10)});
    }).then(function (answer) {
      show(flag, answer.decision);
    });
    select(flags.indexOf(flag));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("note-input")) {
      if (event.key === "Enter" || event.key === "Escape") { target.blur(); event.preventDefault(); }
      return;
    }
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key;
    if (key === "j" || key === "ArrowDown") { select(at + 1); }
    else if (key === "k" || key === "ArrowUp") { select(at - 1); }
    else if (key === "c") { decide("confirmed"); }
    else if (key === "r") { decide("rejected"); }
    else if (key === "u") { undo(); }
    else if (key === "n") { flags[at].querySelector(".note-input").focus(); }
    else if (key === "o") { window.location.href = flags[at].querySelector("a.title").getAttribute("href"); }
    else { return; }
    event.preventDefault();
  });
  select(0);
}());
