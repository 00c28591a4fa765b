// The appconnect playground: plays the App Connect client against this server.
// Plain JavaScript, no build step. Each action sends the request the client would send and
// records the exchange in "HTTP exchanges".
"use strict";

const state = {
  token: null, platform: null, platforms: [], sessionId: null, callId: null, startTime: null,
  contact: null, logId: null, messages: [], conversationId: null, exchanges: 0,
};

const $ = (id) => document.getElementById(id);

function setStatus(text, ok = true) {
  const el = $("status");
  el.textContent = text;
  el.className = ok ? "" : "bad";
}

function show(el, text, ok) {
  el.textContent = text;
  el.className = ok ? "ok" : "bad";
}

function pretty(value) {
  if (value === undefined || value === null || value === "") return "(empty)";
  if (typeof value === "string") {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
  }
  return JSON.stringify(value, null, 2);
}

function recordExchange(method, url, requestBody, status, responseText) {
  const li = document.createElement("li");
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  state.exchanges += 1;
  summary.textContent = `#${state.exchanges} ${method} ${url} → ${status}`;
  summary.className = `status-${String(status)[0]}`;
  const req = document.createElement("pre");
  req.textContent = "request: " + pretty(requestBody);
  const res = document.createElement("pre");
  res.textContent = "response: " + pretty(responseText);
  details.append(summary, req, res);
  li.append(details);
  const list = $("exchanges");
  list.insertBefore(li, list.firstChild);
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.token) headers["Authorization"] = `Bearer ${state.token}`;
  const options = { method, headers };
  if (body !== undefined) options.body = JSON.stringify(body);
  let status = 0;
  let text = "";
  try {
    const response = await fetch(path, options);
    status = response.status;
    text = await response.text();
    const refreshed = response.headers.get("x-refreshed-jwt-token");
    if (refreshed) state.token = refreshed;
  } catch (error) {
    text = String(error);
  }
  recordExchange(method, path, body, status, text);
  let json = null;
  try { json = JSON.parse(text); } catch (e) { json = null; }
  return { status, json, text };
}

function e164(number) {
  return number.replace(/[^+\d]/g, "");
}

function message(reply, fallback) {
  return (reply.json && reply.json.returnMessage && reply.json.returnMessage.message)
    || (reply.json && reply.json.error) || reply.text || fallback;
}

// -- 1. login ------------------------------------------------------------------------------

async function loadPlatforms() {
  const reply = await api("GET", "/playground/info");
  const select = $("platform");
  select.textContent = "";
  for (const p of (reply.json && reply.json.platforms) || []) {
    state.platforms.push(p);
    const option = document.createElement("option");
    option.value = p.platform;
    option.textContent = `${p.displayName} (${p.platform}, ${p.authType || "?"})`;
    select.append(option);
  }
  updateLoginHint();
}

function currentPlatform() {
  return state.platforms.find((p) => p.platform === $("platform").value) || null;
}

function updateLoginHint() {
  const p = currentPlatform();
  $("login-hint").textContent = p && p.authType === "oauth"
    ? "OAuth platforms log in through the CRM's consent page: use the real client for those."
    : "Any key your connector accepts (the demo accepts any text).";
}

async function login(event) {
  event.preventDefault();
  const platform = $("platform").value;
  const reply = await api("POST", "/apiKeyLogin", { platform, apiKey: $("api-key").value });
  if (reply.status === 200 && reply.json && reply.json.jwtToken) {
    state.token = reply.json.jwtToken;
    state.platform = platform;
    setStatus(`Logged in to ${platform} as ${reply.json.name || "(no name)"}.`);
  } else {
    setStatus(`Login failed: ${message(reply, reply.status)}`, false);
  }
}

// -- 2. call pop and contact match ------------------------------------------------------------

function renderMatches(contacts) {
  const box = $("matches");
  box.textContent = "";
  const real = contacts.filter((c) => !c.isNewContact);
  if (!real.length) {
    const p = document.createElement("p");
    p.id = "no-match";
    p.textContent = "No contact matches this number: create one below.";
    box.append(p);
  }
  real.forEach((c, i) => {
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "contact";
    radio.value = String(c.id);
    radio.checked = i === 0;
    radio.addEventListener("change", () => { state.contact = c; });
    label.append(radio, ` ${c.name} (${c.type || "contact"}, id ${c.id})`);
    label.className = "match";
    box.append(label);
  });
  state.contact = real[0] || null;
  $("contact-form").hidden = false;
}

async function popCall(event) {
  event.preventDefault();
  if (!state.token) { setStatus("Log in first.", false); return; }
  const now = Date.now();
  state.sessionId = `pg-${now}`;
  state.callId = `pg-call-${now}`;
  state.startTime = new Date(now).toISOString();
  state.logId = null;
  $("edit-call").disabled = true;
  const query = new URLSearchParams({ phoneNumber: e164($("phone").value) });
  const reply = await api("GET", `/contact?${query}`);
  if (reply.status === 200 && reply.json && reply.json.successful !== false) {
    renderMatches(reply.json.contact || []);
    const direction = document.querySelector("input[name=direction]:checked").value;
    if (!$("subject").value) {
      $("subject").value = `${direction} call ${direction === "Inbound" ? "from" : "to"} ${
        state.contact ? state.contact.name : $("phone").value}`;
    }
    setStatus(`Call ${state.sessionId}: ${(reply.json.contact || []).filter((c) => !c.isNewContact).length} match(es).`);
  } else {
    setStatus(`Contact look-up failed: ${message(reply, reply.status)}`, false);
  }
}

async function createContact(event) {
  event.preventDefault();
  const reply = await api("POST", "/contact", {
    phoneNumber: e164($("phone").value), newContactName: $("contact-name").value,
    newContactType: "contact",
  });
  if (reply.json && reply.json.successful && reply.json.contact) {
    renderMatches([reply.json.contact]);
    setStatus(`Contact ${reply.json.contact.name} created.`);
  } else {
    setStatus(`Create contact failed: ${message(reply, reply.status)}`, false);
  }
}

// -- 3. log and edit --------------------------------------------------------------------------

function parties() {
  const them = { phoneNumber: e164($("phone").value), name: state.contact ? state.contact.name : undefined };
  const me = { phoneNumber: e164($("my-phone").value), name: "Playground Agent" };
  const direction = document.querySelector("input[name=direction]:checked").value;
  return direction === "Inbound" ? { direction, from: them, to: me } : { direction, from: me, to: them };
}

async function logCall(event) {
  event.preventDefault();
  if (!state.sessionId || !state.contact) { show($("log-result"), "Simulate a call and pick a contact first.", false); return; }
  const p = parties();
  const body = {
    logInfo: {
      id: state.callId, sessionId: state.sessionId, telephonySessionId: `tel-${state.sessionId}`,
      direction: p.direction, from: p.from, to: p.to, startTime: state.startTime,
      duration: Number($("duration").value), result: $("result").value,
      customSubject: $("subject").value,
    },
    contactId: state.contact.id, contactType: state.contact.type || "contact",
    contactName: state.contact.name, note: $("note").value, additionalSubmission: {},
  };
  const reply = await api("POST", "/callLog", body);
  if (reply.json && reply.json.successful) {
    state.logId = reply.json.logId;
    $("edit-call").disabled = false;
    show($("log-result"), `Call logged (log id ${state.logId}).`, true);
    await refreshCrm();
  } else {
    show($("log-result"), `Logging failed: ${message(reply, reply.status)}`, false);
  }
}

async function editCall() {
  const p = parties();
  const reply = await api("PATCH", "/callLog", {
    sessionId: state.sessionId, subject: $("subject").value, note: $("note").value,
    startTime: state.startTime, duration: Number($("duration").value), result: $("result").value,
    direction: p.direction, from: p.from, to: p.to,
  });
  if (reply.json && reply.json.successful) {
    show($("log-result"), `Call log ${state.logId} updated.`, true);
    await refreshCrm();
  } else {
    show($("log-result"), `Edit failed: ${message(reply, reply.status)}`, false);
  }
}

// -- 4. SMS -----------------------------------------------------------------------------------

function addMessage(event) {
  event.preventDefault();
  const direction = $("sms-direction").value;
  const them = { phoneNumber: e164($("phone").value), name: state.contact ? state.contact.name : undefined };
  const me = { phoneNumber: e164($("my-phone").value), name: "Playground Agent" };
  const id = `pg-msg-${Date.now()}-${state.messages.length}`;
  state.messages.push({
    id, type: "SMS", direction, subject: $("sms-text").value,
    from: direction === "Inbound" ? them : me, to: [direction === "Inbound" ? me : them],
    creationTime: new Date().toISOString(),
  });
  const li = document.createElement("li");
  li.textContent = `${direction === "Inbound" ? "them" : "me"}: ${$("sms-text").value}`;
  $("sms-list").append(li);
  $("log-sms").disabled = false;
  $("sms-text").value = "";
  $("sms-text").focus();
}

async function logSms() {
  if (!state.contact) { show($("sms-result"), "Simulate a call and pick a contact first.", false); return; }
  state.conversationId = state.conversationId || `pg-conv-${Date.now()}`;
  const day = new Date().toISOString().slice(0, 10);
  const reply = await api("POST", "/messageLog", {
    logInfo: {
      conversationId: state.conversationId, conversationLogId: `${state.conversationId}-${day}`,
      correspondents: [{ phoneNumber: e164($("phone").value), name: state.contact.name }],
      messages: state.messages,
    },
    contactId: state.contact.id, contactType: state.contact.type || "contact",
    contactName: state.contact.name, additionalSubmission: {},
  });
  if (reply.json && reply.json.successful) {
    show($("sms-result"), `Conversation logged (${(reply.json.logIds || []).length} message(s)).`, true);
    state.messages = [];
    $("sms-list").textContent = "";
    $("log-sms").disabled = true;
    await refreshCrm();
  } else {
    show($("sms-result"), `SMS logging failed: ${message(reply, reply.status)}`, false);
  }
}

// -- 5. CRM view ------------------------------------------------------------------------------

function renderRecord(title, body) {
  const div = document.createElement("div");
  div.className = "record";
  const h = document.createElement("h3");
  h.textContent = title;
  const pre = document.createElement("pre");
  pre.textContent = body;
  div.append(h, pre);
  return div;
}

async function refreshCrm() {
  const view = $("crm-view");
  if (!state.token) { view.textContent = "Log in first."; return; }
  const platform = state.platforms.find((p) => p.platform === state.platform);
  if (platform && platform.records) {
    const reply = await api("GET", "/playground/crm");
    view.textContent = "";
    for (const r of (reply.json && reply.json.records) || []) {
      view.append(renderRecord(`${r.kind} #${r.id}: ${r.subject}`, r.body));
    }
    if (!view.childElementCount) view.textContent = "No records yet.";
    return;
  }
  if (!state.sessionId) { view.textContent = "Log a call first."; return; }
  const query = new URLSearchParams({ sessionIds: state.sessionId, requireDetails: "true" });
  const reply = await api("GET", `/callLog?${query}`);
  view.textContent = "";
  const log = reply.json && reply.json.logs && reply.json.logs[0];
  if (log && log.logData) {
    view.append(renderRecord(`call #${log.logId}: ${log.logData.subject || ""}`,
      log.logData.fullBody || log.logData.note || ""));
  } else {
    view.textContent = "The connector returned no call log details (getCallLog).";
  }
}

// -- wiring -----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("platform").addEventListener("change", updateLoginHint);
  $("call-form").addEventListener("submit", popCall);
  $("contact-form").addEventListener("submit", createContact);
  $("log-form").addEventListener("submit", logCall);
  $("edit-call").addEventListener("click", editCall);
  $("sms-form").addEventListener("submit", addMessage);
  $("log-sms").addEventListener("click", logSms);
  $("refresh-crm").addEventListener("click", refreshCrm);
  $("clear-log").addEventListener("click", () => { $("exchanges").textContent = ""; });
  loadPlatforms();
});
