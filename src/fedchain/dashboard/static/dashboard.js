// fedchain dashboard: asks the server for the task's state every second and redraws the page when it changed.
// Every value from the chain goes into the page as text (textContent), never as HTML.
"use strict";

const POLL_MS = 1000;
let shown = "";

function byId(id) {
  return document.getElementById(id);
}

// A new element with the given class (or none) and children (strings become text).
function element(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

// An address or hash, shortened, with the whole of it on hover.
function hash(value) {
  if (!value) return element("span", "quiet", "-");
  const node = element("span", "hash", value.length > 14 ? `${value.slice(0, 8)}…${value.slice(-4)}` : value);
  node.title = value;
  return node;
}

function seconds(left) {
  return left > 0 ? `in ${left} s` : `passed ${-left} s ago`;
}

function metric(value) {
  return typeof value === "number" ? String(Number.parseFloat(value.toPrecision(4))) : String(value);
}

function fill(tableId, rows, empty) {
  const body = byId(tableId).tBodies[0];
  const columns = byId(tableId).tHead.rows[0].cells.length;
  if (rows.length === 0) {
    const cell = element("td", "quiet", empty);
    cell.colSpan = columns;
    body.replaceChildren(element("tr", null, cell));
    return;
  }
  body.replaceChildren(...rows.map((cells) => element("tr", null, ...cells.map((cell) => element("td", null, cell)))));
}

function evaluations(round) {
  if (round.evaluations.length === 0) return element("span", "quiet", round.status === "FINALIZED" ? "not evaluated yet" : "-");
  return element("div", null, ...round.evaluations.map((evaluation) => element("div", "metrics",
    Object.entries(evaluation.metrics).map(([name, value]) => `${name} ${metric(value)}`).join(", "),
    " by ", evaluation.by_requester ? "the requester" : hash(evaluation.evaluator))));
}

function render(state) {
  const task = state.task;
  byId("task-id").textContent = String(task.id);
  byId("where").replaceChildren(`chain ${task.chain_id}, coordinator `, hash(task.coordinator),
    `, as of block ${task.block} (chain time ${new Date(task.now * 1000).toISOString()})`);
  byId("status").textContent = task.status;
  byId("mode").textContent = task.mode;
  byId("round").textContent = String(task.round);
  byId("round-of").textContent = `of 0..${task.num_rounds - 1}`;
  byId("phase").textContent = task.phase;
  const more = task.waiting_for_members;
  byId("waiting").textContent = more ? ` (round 0 opens when ${more} more member${more > 1 ? "s have" : " has"} joined)` : "";
  const deadlines = state.deadlines.map((deadline) => element("li", deadline.in_s > 0 ? null : "quiet",
    `${deadline.name} ${seconds(deadline.in_s)}`));
  byId("deadlines").replaceChildren(...(deadlines.length ? deadlines : [element("li", "quiet", "none")]));
  const current = state.current;
  byId("entries").textContent = `${current.committed} committed, ${current.revealed} revealed, ` +
    `${current.included} included`;
  byId("proposal").replaceChildren(...(current.proposal
    ? [hash(current.proposal.root), " by ", hash(current.proposal.aggregator)] : ["none pending"]));
  byId("model-root").replaceChildren(hash(state.model_root));
  byId("pool").textContent = `${state.pool} tokens (owed to members: ${state.owed_rewards})`;

  fill("rounds", state.rounds.slice().reverse().map((round) => [
    String(round.round), round.status.toLowerCase(), hash(round.model_root), evaluations(round)]),
  "no round closed yet");
  fill("members", state.members.map((member) => [hash(member.address), member.state, member.stake,
    member.claimable, member.claimed, member.slashed]), "nobody joined yet");
  fill("aggregators", state.aggregators.map((bonded) => [hash(bonded.address), bonded.state, bonded.bond,
    bonded.fees, bonded.claimed, bonded.slashed]), "no aggregator bonded yet");
  fill("slashes", state.slashes.map((slash) => [slash.round === null ? "-" : String(slash.round),
    element("span", null, hash(slash.address), ` (${slash.role})`), `${slash.kind.replaceAll("_", " ")}: ${slash.reason}`,
    slash.amount, slash.bounty, hash(slash.challenger)]), "no slash");
  fill("challenges", state.challenges.map((challenge) => [String(challenge.round), challenge.kind,
    hash(challenge.subject), hash(challenge.challenger),
    challenge.outcome.replaceAll("_", " ") + (challenge.detail ? ` (${challenge.detail})` : "")]),
  "no challenge or dispute");
  fill("gas", state.gas.map((use) => [use.kind, String(use.transactions), use.gas.toLocaleString("en"),
    use.mean.toLocaleString("en")]), "no transaction yet");
}

function showError(message) {
  const banner = byId("error");
  banner.hidden = !message;
  banner.textContent = message || "";
}

async function poll() {
  try {
    const response = await fetch("api/state", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (text !== shown) {
      const state = JSON.parse(text);
      render(state);
      shown = text;
      showError(state.error);
    }
  } catch (error) {
    shown = "";
    showError(`the dashboard server does not answer (${error.message})`);
  }
  setTimeout(poll, POLL_MS);
}

poll();
