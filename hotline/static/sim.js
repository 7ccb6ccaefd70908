// The web phone simulator (hotline/sim/web.py). Plain JavaScript, no libraries.
// Every text shown comes from the hotline or a person typing: it is always set with textContent.
"use strict";

(function () {
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const phones = Array.from(document.querySelectorAll(".phone")).map(setUpPhone);

  async function api(path, payload) {
    const options = payload === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(payload),
    };
    const response = await fetch("/sim/api/" + path, Object.assign({ credentials: "same-origin" }, options));
    let data;
    try { data = await response.json(); } catch (e) { data = { error: response.status + " " + response.statusText }; }
    if (!response.ok && !data.error) data.error = response.status + " " + response.statusText;
    return data;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setUpPhone(root) {
    const screen = root.querySelector(".screen");
    const numberInput = root.querySelector("input.number");
    const lineSelect = root.querySelector("select.line");
    const incall = root.querySelector(".incall");
    const status = root.querySelector(".callbar .status");
    const buffer = root.querySelector(".buffer");
    const speech = root.querySelector(".speech");
    const phone = { root: root, call: null, gather: null, digits: "" };

    phone.number = () => numberInput.value.trim();

    phone.show = function (kind, text, meta) {
      const item = element("li", kind);
      if (meta) item.appendChild(element("span", "meta", meta));
      item.appendChild(document.createTextNode(text));
      screen.appendChild(item);
      screen.scrollTop = screen.scrollHeight;
      return item;
    };

    function showTurn(turn) {
      for (const spoken of turn.spoken) {
        if (spoken.kind === "say") {
          const how = [spoken.language, spoken.voice].filter(Boolean).join(", ");
          phone.show("voice", spoken.text, "says" + (how ? " (" + how + ")" : ""));
        } else {
          phone.show("voice", spoken.text, "plays a recording");
        }
      }
      if (turn.dial) phone.show("note", "connecting to " + (turn.dial.numbers.join(", ") || "…"));
      if (turn.record) phone.show("note", "recording after the beep…");
      if (turn.gather) {
        const wants = turn.gather.input && turn.gather.input.indexOf("speech") >= 0 ? "keys or speech" : "keys";
        phone.show("note", "listening for " + wants +
          (turn.gather.numDigits ? " (" + turn.gather.numDigits + " digit" + (turn.gather.numDigits === "1" ? "" : "s") + ")" : ""));
      }
    }

    function showCall(data) {
      if (data.error) { phone.show("error", data.error); endCall(); return; }
      phone.call = data.call;
      for (const turn of data.turns) showTurn(turn);
      const last = data.turns[data.turns.length - 1] || {};
      phone.gather = last.gather || null;
      phone.digits = "";
      buffer.textContent = "";
      speech.hidden = !(last.gather && last.gather.input && last.gather.input.indexOf("speech") >= 0);
      root.querySelector(".record").hidden = !last.record;
      root.querySelectorAll(".dial").forEach((b) => { b.hidden = !last.dial; });
      if (data.ended) endCall(); else { incall.hidden = false; status.textContent = "on a call"; }
    }

    function endCall() {
      if (phone.call) phone.show("note", "call ended");
      phone.call = null;
      phone.gather = null;
      incall.hidden = true;
      status.textContent = "";
    }
    phone.showCall = showCall;

    root.querySelector(".compose").addEventListener("submit", async function (event) {
      event.preventDefault();
      const input = root.querySelector(".compose .body");
      const body = input.value;
      if (!body.trim()) return;
      input.value = "";
      phone.show("out", body, "to " + lineSelect.value);
      const data = await api("text", { from: phone.number(), line: lineSelect.value, body: body });
      if (data.error) { phone.show("error", data.error); return; }
      if (!data.replies.length) phone.show("note", "(no reply)");
      for (const reply of data.replies) phone.show("in", reply, "from " + lineSelect.value);
    });

    root.querySelector(".call").addEventListener("click", async function () {
      if (phone.call) return;
      phone.show("note", "calling " + lineSelect.value + "…");
      showCall(await api("call", { from: phone.number(), line: lineSelect.value }));
    });

    async function sendDigits(digits) {
      phone.show("out", "pressed " + digits);
      showCall(await api("press", { call: phone.call, digits: digits }));
    }

    // Keys collect like on a real call: sent once the gather has its number of digits, or when its
    // finish key (# by default) is pressed; "Say nothing" sends what was typed, as Twilio's timeout does.
    root.querySelectorAll(".key").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!phone.call) return;
        const key = button.dataset.key;
        const gather = phone.gather || {};
        const finish = gather.finishOnKey === undefined || gather.finishOnKey === null ? "#" : gather.finishOnKey;
        if (key === finish && phone.digits) { sendDigits(phone.digits); return; }
        phone.digits += key;
        const wanted = gather.numDigits ? parseInt(gather.numDigits, 10) : 0;
        if (wanted && phone.digits.length >= wanted) { sendDigits(phone.digits); return; }
        buffer.textContent = "keys: " + phone.digits + (finish ? "  (press " + finish + " to send)" : "");
      });
    });

    speech.addEventListener("submit", async function (event) {
      event.preventDefault();
      const input = speech.querySelector("input");
      const said = input.value;
      input.value = "";
      phone.show("out", "said: " + said);
      showCall(await api("say", { call: phone.call, speech: said }));
    });

    root.querySelector(".silence").addEventListener("click", async function () {
      if (phone.digits) { sendDigits(phone.digits); return; }   // Twilio sends what was typed on timeout
      phone.show("out", "(silence)");
      showCall(await api("silence", { call: phone.call }));
    });
    root.querySelector(".record").addEventListener("click", async function () {
      phone.show("out", "(leaves a 12-second voicemail)");
      showCall(await api("record", { call: phone.call }));
    });
    root.querySelectorAll(".dial").forEach(function (button) {
      button.addEventListener("click", async function () {
        phone.show("note", "dial result: " + button.dataset.status);
        showCall(await api("dial", { call: phone.call, status: button.dataset.status }));
      });
    });
    root.querySelector(".hangup").addEventListener("click", async function () {
      if (phone.call) await api("hangup", { call: phone.call });
      endCall();
    });

    // What the hotline sends to this phone's number.
    phone.receive = function (item) {
      if (item.kind === "sms") {
        phone.show("push", item.body, "text from " + item.from);
        // Replying goes back to the line that wrote (the legal office answers ACK 101 on the staff line).
        if (Array.from(lineSelect.options).some((o) => o.value === item.from)) lineSelect.value = item.from;
        return;
      }
      const ring = phone.show("push", "", "call from " + item.from);
      ring.appendChild(document.createTextNode("Incoming call"));
      const answer = element("button", "primary", "Answer");
      ring.appendChild(document.createElement("br"));
      ring.appendChild(answer);
      answer.addEventListener("click", async function () {
        answer.disabled = true;
        if (phone.call) { phone.show("error", "already on a call"); return; }
        phone.show("note", "answered");
        showCall(await api("answer", { sid: item.sid }));
      }, { once: true });
    };
    return phone;
  }

  // The outbox, every second: each item to the phone with its number, and into the list below.
  const outboxList = document.getElementById("outbox");
  let seen = 0;
  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const data = await api("outbox?since=" + seen);
      if (data.items) {
        seen = data.next;
        for (const item of data.items) {
          const what = item.kind === "sms" ? item.body : "call, script " + item.url;
          const entry = element("li", "", "");
          entry.appendChild(element("time", "", new Date(item.time * 1000).toLocaleTimeString()));
          entry.appendChild(element("span", "kind", item.kind === "sms" ? "text" : "call"));
          entry.appendChild(element("span", "text", item.from + " → " + item.to + ": " + what));
          outboxList.prepend(entry);
          for (const phone of phones) if (phone.number() === item.to) phone.receive(item);
        }
      }
    } catch (e) {
      // The server restarted or is busy: try again on the next tick.
    } finally {
      polling = false;
    }
  }
  poll();
  setInterval(poll, 1000);
})();
