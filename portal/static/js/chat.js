// The case page as a live chat, on the subscriber's and the agent's side alike: while the page is
// visible it asks every few seconds for the messages after the last one it shows and adds them to
// the conversation (an aria-live list, so screen readers hear them), and a reply form marked
// data-chat-form is posted in the background, its outcome said where the page's flash messages
// are. Without JavaScript the form posts and a reload shows what is new. Message text only ever
// goes in through textContent.
document.addEventListener("DOMContentLoaded", function () {
  var POLL_MS = 3000;
  var AUTHORS = ["customer", "staff", "system"];
  var list = document.querySelector("ol[data-feed-url]");
  if (!list || !window.fetch) return;
  var lastId = Number(list.dataset.lastId) || 0;
  var polling = false;
  var pollAgain = false;

  function add(message) {
    if (message.id <= lastId) return;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    var item = document.createElement("li");
    var author = AUTHORS.indexOf(message.author) >= 0 ? message.author : "system";
    item.className = "message message--" + author + (message.internal ? " message--internal" : "");
    var meta = document.createElement("p");
    meta.className = "muted";
    meta.textContent = message.meta;
    var body = document.createElement("p");
    body.className = list.dataset.bodyClass || "";
    body.textContent = message.body;
    item.appendChild(meta);
    item.appendChild(body);
    // A list that scrolls (the console's) follows new messages while it is read at its end.
    var atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(item);
    if (atEnd) list.scrollTop = list.scrollHeight;
    lastId = message.id;
  }

  function poll() {
    // One request at a time; asked for during one, it runs again when that one ends.
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    fetch(list.dataset.feedUrl + "?after=" + lastId, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (body) {
      body.messages.forEach(add);
    }).catch(function () {
      // Offline or signed out: the next round tries again, and a reload still shows everything.
    }).then(function () {
      polling = false;
      if (pollAgain) {
        pollAgain = false;
        poll();
      }
    });
  }

  window.setInterval(function () {
    if (document.visibilityState === "visible") poll();
  }, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") poll();
  });

  var form = document.querySelector("form[data-chat-form]");
  if (!form) return;
  var button = form.querySelector("button[type=submit]");
  var flash = document.querySelector(".flash-region");

  function say(text, kind) {
    var line = document.createElement("p");
    line.className = "flash flash--" + kind;
    line.textContent = text;
    flash.replaceChildren(line);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        // Not JSON with a key (signed out: the sign-in page) is a failure too.
        if (!response.ok || !body.key) throw new Error((body.error && body.error.message) || form.dataset.errorText);
        return body;
      });
    }).then(function (body) {
      form.reset();
      form.querySelector("textarea").value = "";
      // A fresh id for the next message (posting the last one's id again stores nothing).
      form.querySelector("input[name=key]").value = body.key;
      say(body.message, "success");
      poll();
    }).catch(function (error) {
      say(error.message || form.dataset.errorText, "error");
    }).then(function () {
      button.disabled = false;
    });
  });
});
