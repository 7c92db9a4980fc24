// critmin dashboard: draws the embedded plotly figures, shows loading states, and drives the scenario runner
// and the risk study form and progress.
"use strict";

function drawFigures() {
  for (const block of document.querySelectorAll("script.figure-data")) {
    const target = document.getElementById(block.dataset.target);
    if (!target) continue;
    const fig = JSON.parse(block.textContent);
    // maps read their boundaries from the packaged topojson, never plotly's CDN (the dashboard runs offline)
    const config = { responsive: true, displaylogo: false, topojsonURL: "/static/topojson/" };
    Plotly.newPlot(target, fig.data, fig.layout, config).then(() => {
      target.dataset.state = "ready";
    });
  }
}

function markBusyOnSubmit() {
  for (const form of document.querySelectorAll("form.controls")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (button) { button.setAttribute("aria-busy", "true"); button.textContent = "Loading…"; }
    });
  }
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let payload = null;
  try { payload = await response.json(); } catch (e) { payload = null; }
  return { ok: response.ok, status: response.status, payload };
}

function showProblems(box, payload, status) {
  box.replaceChildren();
  const detail = payload && Array.isArray(payload.detail) ? payload.detail : [{ msg: `request failed (HTTP ${status})` }];
  box.append(el("p", `${detail.length} problem(s):`, "bad"));
  const list = el("ul");
  for (const d of detail) {
    const where = [d.line ? `line ${d.line}` : null, d.field || (d.loc || []).slice(1).join(".")].filter(Boolean).join(", ");
    list.append(el("li", where ? `${where}: ${d.msg}` : d.msg, "bad"));
  }
  box.append(list);
}

function setupRunner() {
  const form = document.getElementById("runner");
  if (!form) return;
  const nameSelect = document.getElementById("scenario-name");
  const text = document.getElementById("scenario-yaml");
  const box = document.getElementById("validation");
  const runButton = document.getElementById("run-button");
  const cancelButton = document.getElementById("cancel-button");
  const progressBox = document.getElementById("progress-box");
  const bar = document.getElementById("run-progress");
  const status = document.getElementById("run-status");
  let timer = null, jobId = null;

  async function validate() {
    box.replaceChildren(el("p", "Validating…"));
    const result = await postJSON("/api/scenarios/validate", { yaml: text.value });
    if (result.ok) {
      const s = result.payload;
      box.replaceChildren(el("p", `Valid: ${s.name}, ${s.shocks} shock(s), ${s.months} months (${s.start} to ${s.end}).`, "ok"));
    } else {
      showProblems(box, result.payload, result.status);
    }
    return result.ok;
  }

  nameSelect.addEventListener("change", async () => {
    box.replaceChildren(el("p", "Loading scenario…"));
    const response = await fetch(`/api/scenarios/${encodeURIComponent(nameSelect.value)}`);
    if (response.ok) { text.value = (await response.json()).yaml; await validate(); }
    else { box.replaceChildren(el("p", `could not load ${nameSelect.value} (HTTP ${response.status})`, "bad")); }
  });
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 600); });
  document.getElementById("validate-button").addEventListener("click", validate);

  cancelButton.addEventListener("click", async () => {
    if (jobId) await postJSON(`/api/jobs/${jobId}/cancel`, {});
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    runButton.disabled = true; runButton.setAttribute("aria-busy", "true");
    const result = await postJSON("/api/jobs", { yaml: text.value });
    if (!result.ok) {
      showProblems(box, result.payload, result.status);
      runButton.disabled = false; runButton.removeAttribute("aria-busy");
      return;
    }
    jobId = result.payload.job_id;
    progressBox.hidden = false; cancelButton.hidden = false;
    status.textContent = "Queued…";
    const events = new EventSource(`/api/jobs/${jobId}/events`);
    const update = (job) => {
      if (job.total_steps) { bar.max = job.total_steps; bar.value = job.done_steps; }
      status.textContent = job.status === "running"
        ? (job.total_steps ? `Running: month ${job.done_steps} of ${job.total_steps}` : "Preparing the model…")
        : job.status;
    };
    events.addEventListener("progress", (e) => update(JSON.parse(e.data)));
    events.addEventListener("end", (e) => {
      events.close();
      const job = JSON.parse(e.data);
      update(job);
      cancelButton.hidden = true; runButton.disabled = false; runButton.removeAttribute("aria-busy");
      if (job.status === "done") {
        status.textContent = `Done in ${job.wall_s} s: opening the results…`;
        window.location.assign(`/runs/${encodeURIComponent(job.run_id)}`);
      } else {
        status.textContent = `${job.status}: ${job.error || ""}`;
      }
    });
  });
}

function setupRiskForm() {
  const form = document.getElementById("risk-form");
  if (!form) return;
  const box = document.getElementById("risk-problems");
  const button = document.getElementById("risk-run");
  const whole = (id) => Number.parseInt(document.getElementById(id).value, 10);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true; button.setAttribute("aria-busy", "true");
    const body = {
      model: document.getElementById("risk-model").value,
      draws: whole("risk-draws"), seed: whole("risk-seed"), chunk: whole("risk-chunk"),
      sampler: document.getElementById("risk-sampler").value,
      engine: document.getElementById("risk-engine").value,
    };
    const workers = document.getElementById("risk-workers").value;
    if (workers !== "") body.workers = Number.parseInt(workers, 10);
    const result = await postJSON("/api/risk/studies", body);
    if (result.ok) {
      window.location.assign(`/risk/jobs/${encodeURIComponent(result.payload.job_id)}`);
      return;
    }
    showProblems(box, result.payload, result.status);
    button.disabled = false; button.removeAttribute("aria-busy");
  });
}

function setupScreening() {
  const form = document.getElementById("screen-form");
  if (!form) return;
  const button = document.getElementById("screen-run");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true; button.setAttribute("aria-busy", "true");
    const body = {
      draws: Number.parseInt(document.getElementById("screen-draws").value, 10),
      engine: document.getElementById("screen-engine").value,
    };
    const study = encodeURIComponent(form.dataset.studyId);
    const result = await postJSON(`/api/risk/studies/${study}/sensitivity`, body);
    if (result.ok) {
      // back to this very page (region and element kept) when the screening is done
      const back = window.location.pathname + window.location.search;
      window.location.assign(`/risk/jobs/${encodeURIComponent(result.payload.job_id)}?next=${encodeURIComponent(back)}`);
      return;
    }
    showProblems(document.getElementById("screen-problems"), result.payload, result.status);
    button.disabled = false; button.removeAttribute("aria-busy");
  });
}

function setupRiskJob() {
  const box = document.getElementById("risk-job");
  if (!box) return;
  const jobId = box.dataset.jobId;
  const bar = document.getElementById("risk-progress");
  const status = document.getElementById("risk-status");
  const cancel = document.getElementById("risk-cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    await fetch(`/api/risk/jobs/${encodeURIComponent(jobId)}`, { method: "DELETE" });
  });
  async function poll() {
    const response = await fetch(`/api/risk/jobs/${encodeURIComponent(jobId)}`);
    if (!response.ok) { status.textContent = `could not read the job (HTTP ${response.status})`; return; }
    const job = await response.json();
    if (job.total_draws) { bar.max = job.total_draws; bar.value = job.done_draws; }
    if (job.status === "queued" || job.status === "running") {
      status.textContent = job.status === "queued" ? "Queued…"
        : `Running: ${job.done_draws.toLocaleString()} of ${(job.total_draws || 0).toLocaleString()} draws`;
      setTimeout(poll, 500);
    } else if (job.status === "done") {
      status.textContent = `Done in ${job.wall_s} s: opening the study…`;
      cancel.hidden = true;
      // a screening returns to the study page it was started from (a local path only)
      const next = new URLSearchParams(window.location.search).get("next");
      const local = next && next.startsWith("/risk/") && !next.startsWith("//");
      window.location.assign(local ? next : `/risk/${encodeURIComponent(job.study_id)}`);
    } else {
      status.textContent = `${job.status}: ${job.error || ""}`;
      cancel.hidden = true;
    }
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.Plotly) drawFigures();
  markBusyOnSubmit();
  setupRunner();
  setupRiskForm();
  setupScreening();
  setupRiskJob();
});
