// otap's dashboard. Hand-written, no framework. Every string from the store
// reaches the page through textContent (never innerHTML), links only as
// http(s), and the token only as a bearer header (sessionStorage).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: null, role: null, name: null, envs: [], lastEvent: null,
  ledgerAfter: null, ledgerStack: [], es: null, refreshTimer: null, historyEnv: null };

// ---- building the page safely ---------------------------------------------------------------
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = String(v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
// a link only for http(s); anything else is shown as text
function link(url, text) {
  if (typeof url === "string" && /^https?:\/\//i.test(url))
    return el("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: text || url });
  return document.createTextNode(text || String(url || ""));
}
const short = (d) => (d || "").replace(/^sha256:/, "").slice(0, 12);
const when = (t) => (t ? String(t).replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
function mark(ok, word) { return el("span", { class: ok === null ? "unknown" : ok ? "ok" : "bad", text: word }); }
function dl(pairs) {
  return el("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
}

// ---- the API -------------------------------------------------------------------------------------
async function api(path, opts = {}) {
  if (!state.token) throw new Error("signed out"); // a late timer must not ask without a token
  const headers = Object.assign({ Authorization: "Bearer " + state.token }, opts.headers || {});
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method: opts.method || "GET", headers, cache: "no-store",
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  if (r.status === 401) { signOut("The token is not valid any more."); throw new Error("unauthorized"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok && !opts.any) throw Object.assign(new Error((body.error && body.error.message) || r.statusText), { body, status: r.status });
  return body;
}

// ---- sign-in -------------------------------------------------------------------------------------
async function signIn(token) {
  state.token = token;
  const me = await api("/api/v2/whoami");
  state.role = me.role; state.name = me.name;
  sessionStorage.setItem("otap.token", token);
  $("who-name").textContent = `${me.name} (${me.role}${me.env ? ", " + me.env + " only" : ""})`;
  $("project").textContent = me.project || "";
  $("who").hidden = false; $("signin").hidden = true; $("app").hidden = false;
  await refresh();
  await loadLedger(null);
  connect();
}
function signOut(why) {
  sessionStorage.removeItem("otap.token");
  state.token = null;
  clearTimeout(state.refreshTimer);
  state.lastEvent = null;
  if (state.es) state.es.abort();
  $("app").hidden = true; $("who").hidden = true; $("signin").hidden = false;
  $("signin-error").textContent = why || "";
  setLive(false, "signed out");
}
const canAct = (env) => state.role === "admin" || (state.role === "deployer" && !env.protected);

// ---- the board -----------------------------------------------------------------------------------
let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const data = await api("/api/v2/environments");
    state.envs = data.environments || [];
    renderBoard();
    fillHistorySelect();
    await Promise.all([loadHistory(), loadFlags()]);
  })().finally(() => { refreshing = null; });
  return refreshing;
}
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refresh().catch(() => {}), 100);
}

function renderBoard() {
  const board = $("board");
  board.replaceChildren();
  state.envs.forEach((env, i) => {
    const next = state.envs[i + 1];
    const live = env.live;
    const col = el("article", { class: "stage", "data-env": env.name, "aria-label": env.name },
      el("h3", {}, el("span", { class: "letter", text: env.stage }), env.name,
        env.protected ? el("span", { class: "protected", text: " (protected)" }) : null));
    if (live) {
      col.append(dl([
        ["version", el("span", { class: "version", text: live.version || "—" })],
        ["build", el("code", { text: short(live.digest) })],
        ["since", when(live.finished_at || live.started_at)],
        ["by", live.actor],
        ["state", live.state],
      ]));
    } else {
      col.append(el("p", { class: "note", text: "nothing live" }));
    }
    const health = el("div", { class: "health" }, el("span", { class: "unknown", text: "health: checking" }));
    col.append(health);
    loadHealth(env, health);
    if (env.backup) col.append(backupBlock(env.backup));
    if (live) {
      const gates = el("div", { class: "gates" });
      col.append(gates);
      loadGates(live, gates);
    }
    if (live && next) {
      const needs = el("div", { class: "needs" }, el("p", { class: "note", text: `to ${next.name}: checking` }));
      col.append(needs);
      loadNeeds(live, next, needs);
    }
    const acts = actions(env, next);
    if (acts) col.append(acts);
    board.append(col);
  });
}

function backupBlock(b) {
  const items = [];
  if (b.last) items.push(["backup", `${when(b.last.finished || b.last.at)} (${Math.round((b.last.size || 0) / 1024)} KiB)`]);
  if (b.drill) items.push(["drill", el("span", {}, mark(!!b.drill.ok, b.drill.ok ? "passed" : "failed"), ` ${when(b.drill.at)}, RTO ${((b.drill.rto_ms || 0) / 1000).toFixed(1)} s`)]);
  else items.push(["drill", mark(null, "never")]);
  return dl(items);
}

async function loadHealth(env, box) {
  try {
    const h = await api(`/api/v2/environments/${encodeURIComponent(env.name)}/health`);
    const by = {};
    for (const c of h.checks || []) (by[c.check] = by[c.check] || []).push(c);
    const parts = ["liveness", "health", "readiness"].map((k) => {
      const cs = by[k];
      if (!cs) return el("li", {}, mark(null, `${k}: not declared`));
      const ok = cs.every((c) => c.ok);
      const why = cs.filter((c) => !c.ok).map((c) => c.reason).join("; ");
      return el("li", {}, mark(ok, `${k}: ${ok ? "ok" : "failing"}`), why ? el("span", { class: "note", text: " " + why }) : null);
    });
    box.replaceChildren(el("p", {}, mark(h.state === "healthy" ? true : h.state === "unhealthy" ? false : null, `health now: ${h.state}`),
      h.reason ? el("span", { class: "note", text: " " + h.reason }) : null), el("ul", { class: "plain" }, parts));
  } catch (e) { box.replaceChildren(mark(null, "health: cannot be probed")); }
}

async function loadGates(live, box) {
  try {
    const g = await api(`/api/v2/gates?build=${encodeURIComponent(live.digest)}&limit=50`);
    const seen = new Set();
    const items = [];
    for (const r of g.gates || []) {
      if (seen.has(r.gate)) continue;
      seen.add(r.gate);
      items.push(el("li", {}, mark(r.result === "pass", `${r.gate}: ${r.result}`), r.url ? [" ", link(r.url, "run")] : null));
    }
    if (items.length) box.replaceChildren(el("p", { class: "note", text: "gates of this build" }), el("ul", { class: "plain" }, items));
  } catch (e) { /* shown as nothing: the needs say what is missing */ }
}

async function loadNeeds(live, next, box) {
  try {
    const c = await api(`/api/v2/check?env=${encodeURIComponent(next.name)}&artifact=${encodeURIComponent(live.digest)}`);
    if (c.already_live) { box.replaceChildren(el("p", {}, mark(true, `live in ${next.name} too`))); return; }
    if (c.safe) { box.replaceChildren(el("p", {}, mark(true, `ready for ${next.name}`))); return; }
    box.replaceChildren(el("p", {}, mark(false, `${next.name} needs:`)),
      el("ul", { class: "plain" }, (c.unmet || []).map((u) => el("li", { text: u }))));
  } catch (e) { box.replaceChildren(el("p", { class: "note", text: `to ${next.name}: ${e.message}` })); }
}

// ---- actions: promote, roll back, sign off -----------------------------------------------------
function actions(env, next) {
  if (state.role !== "deployer" && state.role !== "admin") return null; // a viewer sees no buttons
  const box = el("div", { class: "actions" });
  const live = env.live;
  if (live && next) {
    const b = el("button", { type: "button", class: "primary", "data-action": "promote", text: `Promote to ${next.name}`,
      onclick: () => promote(live, next) });
    if (!canAct(next)) { b.disabled = true; b.title = `${next.name} is protected: an admin promotes`; }
    box.append(b);
  }
  if (live) {
    const r = el("button", { type: "button", "data-action": "rollback", text: "Roll back", onclick: () => rollback(env) });
    if (!canAct(env)) { r.disabled = true; r.title = `${env.name} is protected: an admin rolls back`; }
    box.append(r);
    box.append(el("button", { type: "button", "data-action": "signoff", text: "Sign off", onclick: () => signoff(env, live) }));
  }
  if (!box.children.length) return null;
  if ([...box.querySelectorAll("button")].some((b) => b.disabled))
    box.append(el("p", { class: "note", text: "protected environments need an admin token" }));
  return box;
}

function confirmDialog(title, body, wantNote) {
  const d = $("confirm");
  $("confirm-h").textContent = title;
  $("confirm-body").replaceChildren(...body);
  $("confirm-note").hidden = $("confirm-note-label").hidden = !wantNote;
  $("confirm-note").value = "";
  return new Promise((resolve) => {
    d.addEventListener("close", () => resolve(d.returnValue === "ok" ? { note: $("confirm-note").value } : null), { once: true });
    d.showModal();
  });
}

async function promote(live, next) {
  let check = { conditions: [], unmet: [] };
  try { check = await api(`/api/v2/check?env=${encodeURIComponent(next.name)}&artifact=${encodeURIComponent(live.digest)}`); } catch (e) { /* shown below */ }
  const ok = await confirmDialog(`Promote ${live.version || short(live.digest)} to ${next.name}?`, [
    el("p", { text: "otap checks, in this order:" }),
    el("ul", { class: "plain" }, (check.conditions || []).map((c) => el("li", { text: c }))),
    check.unmet && check.unmet.length ? el("div", {}, el("p", {}, mark(false, "not met now:")),
      el("ul", { class: "plain" }, check.unmet.map((u) => el("li", { text: u })))) : el("p", {}, mark(true, "every condition holds now")),
  ]);
  if (!ok) return;
  await act(() => api("/api/v2/promotions", { method: "POST", body: { artifact: live.digest, env: next.name }, any: true }), `promotion to ${next.name}`);
}

async function rollback(env) {
  const ok = await confirmDialog(`Roll back ${env.name}?`, [
    el("p", { text: `otap redeploys the build that was live in ${env.name} before ${env.live.version || short(env.live.digest)}; the marker and the contract are checked first.` })]);
  if (!ok) return;
  await act(() => api("/api/v2/rollbacks", { method: "POST", body: { env: env.name }, any: true }), `rollback of ${env.name}`);
}

async function signoff(env, live) {
  const ok = await confirmDialog(`Sign off ${live.version || short(live.digest)} in ${env.name}?`, [
    el("p", { text: `Recorded for this very build, as ${state.name}: the next stage may require it.` })], true);
  if (!ok) return;
  await act(() => api("/api/v2/signoffs", { method: "POST", body: { env: env.name, artifact: live.digest, by: state.name, note: ok.note || "" }, any: true }), `sign-off in ${env.name}`);
}

async function act(call, what) {
  setLive(true, `${what}: under way`);
  try {
    const r = await call();
    const refused = r.refusals && r.refusals.length ? ": " + r.refusals.join("; ") : "";
    const failed = r.failure ? `: ${r.failure.step} failed (${r.failure.reason})` : "";
    setLive(true, r.ok ? `${what}: done` : `${what}: refused${refused}${failed}${r.error ? ": " + r.error.message : ""}`);
  } catch (e) { setLive(true, `${what}: ${e.message}`); }
  scheduleRefresh();
}

// ---- history ---------------------------------------------------------------------------------------
function fillHistorySelect() {
  const sel = $("history-env");
  const cur = state.historyEnv || sel.value || (state.envs.find((e) => e.live) || state.envs[0] || {}).name;
  sel.replaceChildren(...state.envs.map((e) => el("option", { value: e.name, text: `${e.stage} ${e.name}`, selected: e.name === cur })));
  state.historyEnv = cur;
}
async function loadHistory() {
  const env = state.historyEnv;
  if (!env) return;
  const [d, l] = await Promise.all([
    api(`/api/v2/deployments?env=${encodeURIComponent(env)}&limit=20`),
    api(`/api/v2/ledger?env=${encodeURIComponent(env)}&limit=1000`)]);
  const steps = {};
  for (const e of l.entries || [])
    if (e.action === "deploy.step" && e.details) (steps[e.details.deployment] = steps[e.details.deployment] || []).push(e.details);
  const rows = (d.deployments || []).map((x) => el("tr", {},
    el("td", { text: x.id }), el("td", { text: x.kind }),
    el("td", {}, el("span", { class: "version", text: x.version || short(x.digest) })),
    el("td", {}, x.state === "superseded" ? el("span", { text: x.state })
      : mark(x.state === "live" ? true : x.state === "running" ? null : false, x.state)),
    el("td", { text: when(x.started_at) }), el("td", { text: x.actor }),
    el("td", {}, (steps[x.id] || []).map((s) => el("div", {}, mark(!!s.ok, `${s.step} ${s.ms} ms`), s.detail && !s.ok ? el("span", { class: "note", text: " " + s.detail }) : null)),
      x.reason ? el("div", { class: "note", text: x.reason }) : null)));
  $("history").replaceChildren(rows.length ? el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ["#", "kind", "build", "state", "started", "by", "steps"].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows))) : el("p", { class: "note", text: "no promotion yet" }));
}

// ---- flags ----------------------------------------------------------------------------------------
async function loadFlags() {
  const f = await api("/api/v2/flags");
  const flags = f.flags || [];
  $("flags-section").hidden = !flags.length;
  if (!flags.length) return;
  const envs = state.envs.map((e) => e.name);
  $("flags").replaceChildren(el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "flag" }), el("th", { text: "owner" }), envs.map((e) => el("th", { text: e })))),
    el("tbody", {}, flags.map((fl) => el("tr", {}, el("td", { text: fl.key }), el("td", { text: fl.owner || "" }),
      envs.map((name) => {
        const s = (fl.environments || []).find((x) => x.env === name);
        if (!s) return el("td", { text: "" });
        const w = Array.isArray(s.weights) ? " " + s.weights.map((p) => p.join("=")).join(",") : "";
        return el("td", {}, mark(!!s.enabled, s.enabled ? "on" : "off"), w, el("span", { class: "note", text: ` (${s.source})` }));
      })))))));
}

// ---- the ledger, and its chain checked here -------------------------------------------------------
async function sha256hex(text) {
  const buf = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
// the entry's hash as otap computes it: [seq, at, actor, action, env, subject, prev] as
// compact JSON, a newline, then the details as stored
async function entryHash(e) {
  const head = JSON.stringify([e.seq, e.at, e.actor, e.action, e.env === undefined ? null : e.env,
    e.subject === undefined ? null : e.subject, e.prev_hash]);
  return sha256hex(head + "\n" + (e.details_text || ""));
}
async function loadLedger(after) {
  const q = after === null ? "" : `&after=${after}`;
  const l = await api(`/api/v2/ledger?limit=25&verify=1${q}`);
  state.ledgerAfter = after;
  const entries = l.entries || [];
  state.ledgerLast = l.next_after === undefined;
  $("ledger-next").disabled = state.ledgerLast;
  $("ledger-next").onclick = () => { state.ledgerStack.push(after); loadLedger(l.next_after).catch(() => {}); };
  $("ledger-prev").disabled = !state.ledgerStack.length;
  $("ledger-range").textContent = entries.length ? `#${entries[0].seq}–#${entries[entries.length - 1].seq}` : "empty";
  $("ledger").replaceChildren(el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ["#", "at", "actor", "action", "env", "subject", "details"].map((h) => el("th", { text: h })))),
    el("tbody", {}, entries.map((e) => el("tr", { "data-seq": e.seq },
      el("td", { text: e.seq }), el("td", { text: when(e.at) }), el("td", { text: e.actor }),
      el("td", { text: e.action }), el("td", { text: e.env || "" }), el("td", {}, el("code", { text: short(e.subject) })),
      el("td", {}, el("code", { class: "details", text: e.details_text || JSON.stringify(e.details) }))))))));
  // the entry before the page too, so the page's first link is checked as well
  let before = [];
  if (after !== null && after > 0)
    before = ((await api(`/api/v2/ledger?limit=1&verify=1&after=${after - 1}`)).entries || []).slice(0, 1);
  await verifyChain(before.concat(entries), entries);
}
async function verifyChain(chain, entries) {
  const out = $("chain");
  if (!crypto.subtle) { out.replaceChildren(mark(null, "this browser cannot hash here (needs https or localhost)")); return; }
  for (let i = 0; i < chain.length; i++) {
    const e = chain[i];
    if ((await entryHash(e)) !== e.hash) { out.replaceChildren(mark(false, `chain broken: entry #${e.seq} does not hash to what it says`)); return; }
    if (i && e.prev_hash !== chain[i - 1].hash) { out.replaceChildren(mark(false, `chain broken: #${e.seq} does not follow #${chain[i - 1].seq}`)); return; }
  }
  if (entries.length && entries[0].seq === 1 && !/^0+$/.test(entries[0].prev_hash)) {
    out.replaceChildren(mark(false, "chain broken: #1 does not start from the genesis hash"));
    return;
  }
  const link = chain.length > entries.length ? `, linked to #${chain[0].seq}` : "";
  out.replaceChildren(mark(true, entries.length
    ? `chain verified in this browser (SHA-256) for #${entries[0].seq}–#${entries[entries.length - 1].seq}${link}`
    : "no entries yet"));
}

// ---- live: the ledger's events ----------------------------------------------------------------------
function setLive(on, text) { const p = $("live"); p.className = "live " + (on ? "on" : "off"); p.textContent = text; }
// EventSource cannot send a bearer header, so the stream is read with fetch
async function connect() {
  if (!state.token) return;
  const ctl = new AbortController();
  state.es = ctl;
  const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
  if (state.lastEvent !== null) headers["Last-Event-ID"] = String(state.lastEvent);
  try {
    const r = await fetch("/api/v2/events", { headers, signal: ctl.signal, cache: "no-store" });
    if (r.status === 401) { signOut("The token is not valid any more."); return; }
    if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
    setLive(true, "live");
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onEvent(block);
      }
    }
  } catch (e) { if (ctl.signal.aborted) return; }
  if (state.es !== ctl || !state.token) return;
  setLive(false, "reconnecting");
  setTimeout(connect, 2000);
}
function onEvent(block) {
  let id = null, data = null;
  for (const line of block.split("\n")) {
    if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("data:")) data = line.slice(5).trim();
  }
  if (id === null || data === null) return;
  state.lastEvent = Number(id);
  let entry = {};
  try { entry = JSON.parse(data); } catch (e) { return; }
  setLive(true, `live: #${entry.seq} ${entry.action}${entry.env ? " in " + entry.env : ""}`);
  scheduleRefresh();
  // the page showing the newest entries takes the new one in
  if (state.ledgerLast) loadLedger(state.ledgerAfter).catch(() => {});
}

// ---- wiring ---------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token").value.trim();
    $("token").value = "";
    signIn(t).catch((e) => signOut(e.message === "unauthorized" ? "That token is not valid." : e.message));
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("history-env").addEventListener("change", (ev) => { state.historyEnv = ev.target.value; loadHistory().catch(() => {}); });
  $("ledger-first").addEventListener("click", () => { state.ledgerStack = []; loadLedger(null).catch(() => {}); });
  $("ledger-prev").addEventListener("click", () => { loadLedger(state.ledgerStack.pop() ?? null).catch(() => {}); });
  const saved = sessionStorage.getItem("otap.token");
  if (saved) signIn(saved).catch(() => signOut(""));
});
