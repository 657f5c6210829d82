// swf-iam's web UI: reads /ui/api (the emulator's read-only SWF calls, the decision log,
// the access analysis) and refreshes every two seconds without reloading the page.
"use strict";

const main = document.getElementById("main");
const statusEl = document.getElementById("status");
const REFRESH_MS = 2000;
let overview = null;
let decisions = [];      // every decision-log entry seen, oldest first
let lastSeq = 0;
const openRaw = new Set(); // raw events the user opened (kept across refreshes)
const MAX_KEPT = 10000;

// An IAM denial (not a refusal, which decides nothing).
function isDenial(d) {
  return d.decision === "explicitDeny" || d.decision === "implicitDeny";
}

function esc(s) {
  return String(s === undefined || s === null ? "" : s)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function iso(epoch) {
  if (epoch === undefined || epoch === null || epoch === "") return "";
  const d = new Date(Number(epoch) * 1000);
  return isNaN(d) ? String(epoch) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  const v = await r.json();
  if (!r.ok) throw new Error(v.message || (v.__type + ": " + v.message) || r.status);
  return v;
}

function swf(op, region, body) {
  const q = encodeURIComponent(JSON.stringify(body || {}));
  return api(`/ui/api/swf/${op}?region=${encodeURIComponent(region)}&q=${q}`);
}

async function refreshDecisions() {
  const v = await api(`/ui/api/decisions?after=${lastSeq}`);
  for (const e of v.entries) decisions.push(e);
  if (decisions.length > MAX_KEPT) decisions = decisions.slice(decisions.length - MAX_KEPT);
  lastSeq = v.last;
}

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [path, query] = h.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  return { page: parts[0] || "executions", args: parts.slice(1), params };
}

function setParams(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, "", `#/${page}${s ? "?" + s : ""}`);
}

function regionOf(params) {
  return params.get("region") || (overview && overview.defaultRegion) || "us-east-1";
}

// ---- pages -------------------------------------------------------------------------

async function allDomains(region) {
  const out = [];
  for (const status of ["REGISTERED", "DEPRECATED"]) {
    const v = await swf("ListDomains", region, { registrationStatus: status });
    for (const d of v.domainInfos || []) out.push(d);
  }
  return out;
}

function regionSelect(region) {
  const regions = new Set([...(overview ? overview.regions : []), region]);
  return `<label>Region<select id="f-region">${[...regions].sort().map(r =>
    `<option ${r === region ? "selected" : ""}>${esc(r)}</option>`).join("")}</select></label>`;
}

async function pageDomains(r) {
  const region = regionOf(r.params);
  const domains = await allDomains(region);
  let html = `<h1>Domains and types</h1><div class="filters">${regionSelect(region)}</div>`;
  if (!domains.length) html += `<p class="muted">No domain in ${esc(region)}.</p>`;
  html += `<div class="cards">`;
  for (const d of domains) {
    const types = [];
    for (const [op, key, label] of [["ListActivityTypes", "typeInfos", "activity type"], ["ListWorkflowTypes", "typeInfos", "workflow type"]]) {
      for (const status of ["REGISTERED", "DEPRECATED"]) {
        const v = await swf(op, region, { domain: d.name, registrationStatus: status });
        for (const t of v[key] || []) {
          const ty = t.activityType || t.workflowType;
          types.push(`<li>${esc(label)} <code>${esc(ty.name)}</code> v${esc(ty.version)} <span class="badge">${esc(t.status)}</span></li>`);
        }
      }
    }
    html += `<div class="card" data-domain="${esc(d.name)}"><h3>${esc(d.name)} <span class="badge">${esc(d.status)}</span></h3>
      <div class="muted mono">${esc(d.arn || "")}</div>${d.description ? `<div>${esc(d.description)}</div>` : ""}
      <ul class="plain">${types.join("") || '<li class="muted">no types</li>'}</ul>
      <a href="#/executions?region=${encodeURIComponent(region)}&domain=${encodeURIComponent(d.name)}">executions</a></div>`;
  }
  main.innerHTML = html + `</div>`;
  bindRegion("domains", r);
}

function bindRegion(page, r) {
  const sel = document.getElementById("f-region");
  if (sel) sel.onchange = () => { const p = Object.fromEntries(r.params); p.region = sel.value; setParams(page, p); render(); };
}

const CLOSE_STATUSES = ["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT"];

async function pageExecutions(r) {
  const region = regionOf(r.params);
  const domains = await allDomains(region);
  const p = r.params;
  const domain = p.get("domain") || (domains[0] && domains[0].name) || "";
  const state = p.get("state") || "open";
  const f = { workflowId: p.get("workflowId") || "", type: p.get("type") || "", tag: p.get("tag") || "",
    from: p.get("from") || "", to: p.get("to") || "", closeStatus: p.get("closeStatus") || "" };
  let html = `<h1>Executions</h1><form class="filters" id="filters">${regionSelect(region)}
    <label>Domain<select name="domain">${domains.map(d => `<option ${d.name === domain ? "selected" : ""}>${esc(d.name)}</option>`).join("")}</select></label>
    <label>State<select name="state"><option value="open" ${state === "open" ? "selected" : ""}>open</option><option value="closed" ${state === "closed" ? "selected" : ""}>closed</option></select></label>
    <label>Workflow ID<input name="workflowId" value="${esc(f.workflowId)}"></label>
    <label>Type name<input name="type" value="${esc(f.type)}"></label>
    <label>Tag<input name="tag" value="${esc(f.tag)}"></label>
    <label>Started from (UTC)<input name="from" type="datetime-local" value="${esc(f.from)}"></label>
    <label>Started to (UTC)<input name="to" type="datetime-local" value="${esc(f.to)}"></label>
    <label>Close status<select name="closeStatus"><option value="">any</option>${CLOSE_STATUSES.map(c => `<option ${c === f.closeStatus ? "selected" : ""}>${c}</option>`).join("")}</select></label>
    <button type="submit">Filter</button></form>`;
  let rows = [];
  if (domain) {
    const body = { domain, startTimeFilter: { oldestDate: f.from ? Date.parse(f.from + "Z") / 1000 : 0 } };
    if (f.to) body.startTimeFilter.latestDate = Date.parse(f.to + "Z") / 1000;
    // SWF takes one of these filters a call: the first given goes to the API, the
    // others are applied to its answer.
    if (f.workflowId) body.executionFilter = { workflowId: f.workflowId };
    else if (f.type) body.typeFilter = { name: f.type };
    else if (f.tag) body.tagFilter = { tag: f.tag };
    else if (f.closeStatus && state === "closed") body.closeStatusFilter = { status: f.closeStatus };
    const op = state === "open" ? "ListOpenWorkflowExecutions" : "ListClosedWorkflowExecutions";
    const v = await swf(op, region, body);
    rows = (v.executionInfos || []).filter(e =>
      (!f.workflowId || e.execution.workflowId === f.workflowId) &&
      (!f.type || e.workflowType.name === f.type) &&
      (!f.tag || (e.tagList || []).includes(f.tag)) &&
      (!f.closeStatus || e.closeStatus === f.closeStatus));
  }
  const denied = (wid, run) => decisions.filter(d => d.workflow_id === wid && d.run_id === run && isDenial(d)).length;
  html += `<table id="executions"><thead><tr><th>Workflow ID</th><th>Run ID</th><th>Type</th><th>Started</th><th>Closed</th><th>Status</th><th>Tags</th><th>Denied</th></tr></thead><tbody>`;
  for (const e of rows) {
    const x = e.execution, n = denied(x.workflowId, x.runId);
    const href = `#/execution/${[region, domain, x.workflowId, x.runId].map(encodeURIComponent).join("/")}`;
    html += `<tr${n ? ' class="denied"' : ""}><td><a href="${href}">${esc(x.workflowId)}</a></td><td class="mono">${esc(x.runId)}</td>
      <td>${esc(e.workflowType.name)} v${esc(e.workflowType.version)}</td><td>${esc(iso(e.startTimestamp))}</td><td>${esc(iso(e.closeTimestamp))}</td>
      <td><span class="badge ${e.executionStatus === "OPEN" ? "open" : ""}">${esc(e.closeStatus || e.executionStatus)}</span></td>
      <td>${(e.tagList || []).map(t => `<span class="badge">${esc(t)}</span>`).join(" ")}</td><td>${n ? `<span class="badge deny">${n}</span>` : ""}</td></tr>`;
  }
  html += `</tbody></table>${rows.length ? "" : '<p class="muted">No execution matches.</p>'}`;
  main.innerHTML = html;
  bindRegion("executions", r);
  document.getElementById("filters").onsubmit = (ev) => {
    ev.preventDefault();
    const fd = new FormData(ev.target);
    const q = { region: document.getElementById("f-region").value };
    for (const [k, v] of fd.entries()) q[k] = v;
    setParams("executions", q);
    render();
  };
}

function category(type) {
  if (/Failed$/.test(type) && type !== "WorkflowExecutionFailed" && type !== "ActivityTaskFailed") return "denied";
  if (type.startsWith("DecisionTask")) return "decision";
  if (type.startsWith("ActivityTask") || type.includes("ActivityTask")) return "activity";
  if (type.startsWith("Timer") || type.includes("Timer")) return "timer";
  if (type.includes("Signal")) return "signal";
  if (type.includes("Child")) return "child";
  return "workflow";
}

function attrsOf(e) {
  const k = Object.keys(e).find(k => k.endsWith("EventAttributes"));
  return k ? e[k] : {};
}

function summary(e) {
  const a = attrsOf(e);
  const bits = [];
  if (a.activityType) bits.push(`activity <code>${esc(a.activityType.name)}</code> v${esc(a.activityType.version)}`);
  if (a.activityId) bits.push(`id <code>${esc(a.activityId)}</code>`);
  if (a.timerId) bits.push(`timer <code>${esc(a.timerId)}</code>`);
  if (a.signalName) bits.push(`signal <code>${esc(a.signalName)}</code>`);
  if (a.workflowId) bits.push(`workflow <code>${esc(a.workflowId)}</code>`);
  if (a.workflowType && !a.activityType) bits.push(`type <code>${esc(a.workflowType.name)}</code>`);
  if (a.timeoutType) bits.push(`timeout <b>${esc(a.timeoutType)}</b>`);
  if (a.details !== undefined && e.eventType !== "ActivityTaskTimedOut") bits.push(`details <code>${esc(a.details)}</code>`);
  if (a.details !== undefined && e.eventType === "ActivityTaskTimedOut") bits.push(`last heartbeat <code>${esc(a.details)}</code>`);
  if (a.reason) bits.push(`reason ${esc(a.reason)}`);
  if (a.cause) bits.push(`cause <b>${esc(a.cause)}</b>`);
  if (a.result !== undefined) bits.push(`result <code>${esc(a.result)}</code>`);
  if (a.identity) bits.push(`by <code>${esc(a.identity)}</code>`);
  return bits.join(", ");
}

function denialHtml(d) {
  return `<div class="denial" data-denial="${esc(d.seq)}"><div><span class="badge deny">${esc(d.decision)}</span> <code>${esc(d.action)}</code>
    by <code>${esc(d.principal)}</code>${d.level === "decision" ? " (a decision)" : ` (call ${esc(d.operation)})`} at ${esc(iso(d.epochSeconds))}</div>
    <div class="reason">${esc(d.reason)}</div>
    ${d.statement ? `<div>deciding statement: <code>${esc(d.statement)}</code></div>` : ""}
    ${d.missing_keys ? `<div>missing context keys: <code>${esc(d.missing_keys)}</code></div>` : ""}
    ${d.swf_keys && d.swf_keys !== "{}" ? `<div>condition keys: <code>${esc(d.swf_keys)}</code></div>` : ""}
    ${d.enforce && d.enforce !== "strict" ? `<div class="muted">enforce ${esc(d.enforce)}: it proceeded</div>` : ""}</div>`;
}

async function pageExecution(r) {
  const [region, domain, workflowId, runId] = r.args;
  const execution = { workflowId, runId };
  const desc = await swf("DescribeWorkflowExecution", region, { domain, execution });
  let events = [], token;
  for (let page = 0; page < 50; page++) {
    const body = { domain, execution, maximumPageSize: 1000 };
    if (token) body.nextPageToken = token;
    const v = await swf("GetWorkflowExecutionHistory", region, body);
    events = events.concat(v.events || []);
    token = v.nextPageToken;
    if (!token) break;
  }
  const info = desc.executionInfo;
  const mine = decisions.filter(d => d.workflow_id === workflowId && d.run_id === runId && isDenial(d));
  // Denied decisions sit at their `<Decision>Failed` event (same action, in order); denied
  // calls sit where they happened in time.
  const byAction = {};
  for (const d of mine.filter(d => d.level === "decision")) (byAction[d.action] = byAction[d.action] || []).push(d);
  const rows = events.map(e => ({ t: Number(e.eventTimestamp), e }));
  for (const d of mine.filter(d => d.level !== "decision")) rows.push({ t: Number(d.epochSeconds), d });
  // Heartbeats are not history events in SWF: the decision log shows them.
  for (const d of decisions) {
    if (d.workflow_id === workflowId && d.run_id === runId && d.decision === "allowed" && d.operation === "RecordActivityTaskHeartbeat") {
      rows.push({ t: Number(d.epochSeconds), beat: d });
    }
  }
  rows.sort((a, b) => a.t - b.t || (a.e ? 0 : 1) - (b.e ? 0 : 1));
  let html = `<h1>Execution <code>${esc(workflowId)}</code></h1>
    <p class="mono muted">${esc(region)} · domain ${esc(domain)} · run ${esc(runId)}</p>
    <p>Type <code>${esc(info.workflowType.name)}</code> v${esc(info.workflowType.version)} ·
    <span class="badge ${info.executionStatus === "OPEN" ? "open" : ""}" id="exec-status">${esc(info.closeStatus || info.executionStatus)}</span> ·
    started ${esc(iso(info.startTimestamp))}${info.closeTimestamp ? " · closed " + esc(iso(info.closeTimestamp)) : ""} ·
    open activities ${esc(desc.openCounts.openActivityTasks)}, timers ${esc(desc.openCounts.openTimers)}, decision tasks ${esc(desc.openCounts.openDecisionTasks)} ·
    <span id="denied-count">${mine.length}</span> denied</p>
    <h2>History</h2><table class="timeline" id="timeline"><thead><tr><th></th><th>#</th><th>Time</th><th>Event</th><th>What</th></tr></thead><tbody>`;
  const used = {};
  for (const row of rows) {
    if (row.beat) {
      html += `<tr data-kind="heartbeat"><td class="cat cat-activity"></td><td></td><td>${esc(iso(row.t))}</td><td class="muted">heartbeat</td><td class="muted">RecordActivityTaskHeartbeat by <code>${esc(row.beat.principal)}</code> (from the decision log)</td></tr>`;
      continue;
    }
    if (row.d) {
      html += `<tr class="denied" data-kind="call"><td class="cat cat-denied"></td><td></td><td>${esc(iso(row.t))}</td><td>Denied call</td><td>${denialHtml(row.d)}</td></tr>`;
      continue;
    }
    const e = row.e, a = attrsOf(e), cat = category(e.eventType);
    let denial = "";
    if (a.cause === "OPERATION_NOT_PERMITTED") {
      const action = "swf:" + e.eventType.replace(/Failed$/, "");
      const i = used[action] || 0;
      const d = (byAction[action] || [])[i];
      used[action] = i + 1;
      denial = d ? denialHtml(d) : `<div class="denial"><span class="reason">denied by IAM</span> <span class="muted">(not in the decision log this server kept)</span></div>`;
    }
    const id = `${workflowId}/${runId}/${e.eventId}`;
    html += `<tr data-event="${esc(e.eventType)}" class="${denial ? "denied" : ""}"><td class="cat cat-${cat}"></td><td>${esc(e.eventId)}</td><td>${esc(iso(e.eventTimestamp))}</td>
      <td>${esc(e.eventType)}</td><td>${summary(e)}${denial}
      <details data-raw="${esc(id)}" ${openRaw.has(id) ? "open" : ""}><summary>raw event</summary><pre>${esc(JSON.stringify(e, null, 2))}</pre></details></td></tr>`;
  }
  main.innerHTML = html + `</tbody></table>`;
  for (const d of main.querySelectorAll("details[data-raw]")) {
    d.ontoggle = () => d.open ? openRaw.add(d.dataset.raw) : openRaw.delete(d.dataset.raw);
  }
}

async function pageDecisions(r) {
  const p = r.params;
  const f = { principal: p.get("principal") || "", action: p.get("action") || "", domain: p.get("domain") || "", decision: p.get("decision") || "" };
  const shown = decisions.filter(d =>
    (!f.principal || (d.principal || "").includes(f.principal)) &&
    (!f.action || (d.action || "").toLowerCase().includes(f.action.toLowerCase())) &&
    (!f.domain || (d.resource || "").endsWith("/domain/" + f.domain)) &&
    (!f.decision || (f.decision === "denied" ? isDenial(d) : d.decision === f.decision))).slice(-500).reverse();
  let html = `<h1>Decision log <span class="muted">(live; ${decisions.length} kept)</span></h1><form class="filters" id="filters">
    <label>Principal<input name="principal" value="${esc(f.principal)}"></label>
    <label>Action<input name="action" value="${esc(f.action)}"></label>
    <label>Domain<input name="domain" value="${esc(f.domain)}"></label>
    <label>Decision<select name="decision"><option value="">any</option>${["allowed", "denied", "explicitDeny", "implicitDeny", "refused"].map(x => `<option ${x === f.decision ? "selected" : ""}>${x}</option>`).join("")}</select></label>
    <button type="submit">Filter</button></form>
    <table id="decisions"><thead><tr><th>Time</th><th>Principal</th><th>Call</th><th>Action</th><th>Resource</th><th>Decision</th><th>Why</th></tr></thead><tbody>`;
  for (const d of shown) {
    const deny = d.decision !== "allowed";  // denials and refusals
    const exec = d.workflow_id ? ` <span class="muted">${esc(d.workflow_id)}</span>` : "";
    html += `<tr class="${deny ? "denied" : ""}"><td>${esc(iso(d.epochSeconds))}</td><td class="mono">${esc(d.principal)}</td><td>${esc(d.operation)}${d.level === "decision" ? " (decision)" : ""}${exec}</td>
      <td><code>${esc(d.action || "")}</code></td><td class="mono">${esc(d.resource || "")}</td>
      <td><span class="badge ${deny ? "deny" : "allow"}">${esc(d.decision)}</span>${d.enforce && d.enforce !== "strict" ? ` <span class="muted">${esc(d.enforce)}</span>` : ""}</td>
      <td>${esc(d.reason || d.error || "")}${d.statement ? `<div class="mono muted">${esc(d.statement)}</div>` : ""}</td></tr>`;
  }
  main.innerHTML = html + `</tbody></table>`;
  document.getElementById("filters").onsubmit = (ev) => {
    ev.preventDefault();
    setParams("decisions", Object.fromEntries(new FormData(ev.target).entries()));
    render();
  };
}

let principalsCache = null;
async function pagePrincipals() {
  if (!principalsCache) principalsCache = await api("/ui/api/principals");
  let html = `<h1>Principals <span class="muted">(what each may do: <code>swf-iam access</code>)</span></h1><div class="cards">`;
  for (const p of principalsCache.principals) {
    const acts = p.access.actions.filter(a => a.access !== "never");
    const never = p.access.actions.filter(a => a.access === "never").length;
    html += `<div class="card" data-principal="${esc(p.principal)}"><h3 class="mono">${esc(p.principal)}</h3><ul class="plain">`;
    for (const a of acts) {
      // As `swf-iam access` words it: no domain named means any domain.
      const where = a.allowed.map(x => `${esc(x.region)}: on ${x.domains.map(d => esc(d.description)).join(" or ") || "any domain"}${x.when.length ? " when " + x.when.map(w => `${esc(w.key)} ${w.values.map(esc).join(" or ")}`).join(" and ") : ""}`).join("; ");
      html += `<li><code>${esc(a.action)}</code> <span class="badge">${esc(a.access)}</span> <span class="muted">${where}</span>${a.complete ? "" : ' <span class="badge deny">incomplete</span>'}</li>`;
    }
    html += `</ul><div class="muted">never: ${never} action${never === 1 ? "" : "s"}</div></div>`;
  }
  main.innerHTML = html + `</div>`;
}

// ---- loop --------------------------------------------------------------------------

let rendering = false;
async function render() {
  if (rendering) return;
  rendering = true;
  const r = route();
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (r.page === "execution" ? "executions" : r.page));
  try {
    overview = await api("/ui/api/overview");
    await refreshDecisions();
    statusEl.textContent = `${overview.nowIso} · state ${overview.state} · enforce ${overview.enforce}`;
    // Inputs being typed in are not replaced under the user.
    const typing = document.activeElement && /INPUT|SELECT/.test(document.activeElement.tagName) && main.contains(document.activeElement);
    if (!typing) {
      if (r.page === "domains") await pageDomains(r);
      else if (r.page === "execution") await pageExecution(r);
      else if (r.page === "decisions") await pageDecisions(r);
      else if (r.page === "principals") await pagePrincipals(r);
      else await pageExecutions(r);
    }
    document.body.dataset.updated = String(Date.now());
  } catch (e) {
    statusEl.textContent = "error: " + e.message;
  } finally {
    rendering = false;
  }
}

window.addEventListener("hashchange", () => { principalsCache = null; render(); });
render();
setInterval(render, REFRESH_MS);
