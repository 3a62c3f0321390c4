// The coordinators' page. Everything shown comes from /graphql with the signed-in user's
// bearer token, so the service's sharing rule decides what appears. Text from the service
// is only ever set with textContent: nothing it returns is parsed as markup.

const TOKEN_KEY = "ocpo-coord.token";
const THEATRE_KEY = "ocpo-coord.theatre";

const AREAS = {
  OPERATIONS_AGAINST_OC: "Operations against organized crime",
  OPERATIONAL_SUPPORT_LOCAL_LE: "Operational support to local law enforcement",
  INFORMATION_GATHERING: "Information gathering",
  POLICE_CAPACITY_BUILDING: "Police capacity building",
  JUSTICE_SUPPORT: "Justice and criminal-justice support",
  BORDER_CONTROL: "Border, coast, port and airport control",
  ADVICE_TO_GOVERNMENT: "Advice to government",
  RESOURCE_GOVERNANCE: "Resource governance",
  SUPPLY_CHAIN_SANCTIONS: "Supply-chain integrity and sanctions",
  REGIONAL_COOPERATION: "Regional and international cooperation",
  AWARENESS_RESILIENCE: "Awareness and social resilience",
  DDR_EMPLOYMENT: "Employment for actors in illegal economies (DDR)",
  DEMAND_REDUCTION: "Reducing demand and unintended effects",
};

const COLUMNS = [
  { key: "PROPOSED", label: "Proposed" },
  { key: "ACCEPTED", label: "Accepted" },
  { key: "IN_PROGRESS", label: "In progress" },
  { key: "BLOCKED", label: "Blocked" },
  { key: "CLOSED", label: "Done or cancelled", statuses: ["DONE", "CANCELLED"] },
];

const ROLE_LETTER = { LEAD: "L", SUPPORT: "S", CONSULTED: "C", INFORMED: "I" };

const ME_QUERY = `query CoordMe {
  me { login displayName agency clearance roles }
  theatres { code name }
  agencies { code theatres }
}`;

const TASKS_QUERY = `query CoordTasks($filter: TaskFilter) {
  taskBoardSummary(filter: $filter) { total overdue blocked }
  tasks(first: 100, filter: $filter) {
    totalCount
    totalCountCapped
    nodes {
      id title activityArea leadAgency supportingAgencies status priority dueDate
      overdue blocked assigneePosition assignee case { reference }
    }
  }
}`;

const MATRIX_QUERY = `query CoordMatrix($theatre: String!, $on: Date) {
  responsibilityMatrix(theatre: $theatre, on: $on) {
    theatre on agencies
    rows { activityArea leads cells { agency roles } }
    overlaps { activityArea region agencies overlapFrom overlapUntil }
    gaps { activityArea regionalLeads }
  }
}`;

// Resolved hits stay off the page; the two open states come as two pages, newest first.
const HITS_QUERY = `query CoordHits {
  open: deconflictionHits(first: 100, filter: { status: OPEN }) { ...HitPage }
  acknowledged: deconflictionHits(first: 100, filter: { status: ACKNOWLEDGED }) { ...HitPage }
}
fragment HitPage on DeconflictionHitConnection {
  totalCount
  nodes {
    id hitKind matchKind agency recordId otherAgency contact theatre status createdAt
    acknowledgedBy acknowledgedAt
  }
}`;

// The hit's own side only: recordId is the reader's agency's record (when the reader may
// read it); the other agency's record is never asked for.
const MINE_FRAGMENT = `fragment Mine on Node {
  __typename id
  ... on Case { reference title }
  ... on IntelItem { title }
  ... on Entity { label entityKind }
  ... on PlannedOperation { title siteName startsAt endsAt }
  ... on Evidence { title }
  ... on Task { title }
}`;

const TASK_QUERY = `query CoordTask($id: ID!) {
  task(id: $id) {
    id title description status priority dueDate overdue blocked leadAgency supportingAgencies
    assigneePosition assignee createdAt updatedAt theatre
    markings { classification tlp }
    dependencies { id title status }
    case { id reference title status judicialStage summary }
  }
}`;

const RESOLVE_MUTATION = `mutation CoordResolve($input: ResolveDeconflictionHitInput!) {
  resolveDeconflictionHit(input: $input) {
    __typename
    ... on UserError { message }
  }
}`;

const OUTCOMES = {
  CONTACT_MADE: "Contact made",
  OPERATION_DECONFLICTED: "Operation deconflicted",
  JOINT_ACTION: "Joint action agreed",
  NO_CONFLICT: "No conflict after all",
  OPERATION_CANCELLED: "Operation cancelled",
  OTHER: "Other (say in the note)",
};

const ACKNOWLEDGE_MUTATION = `mutation CoordAcknowledge($id: ID!) {
  acknowledgeDeconflictionHit(id: $id) {
    __typename
    ... on UserError { message }
  }
}`;

// --- small helpers ---------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces a node's children; strings become text nodes, absent children are left out. */
function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function words(value) {
  const text = String(value).replaceAll("_", " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sentence(text) {
  const trimmed = String(text).trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

function areaLabel(key) {
  return AREAS[key] || words(key);
}

function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

class SignedOut extends Error {}

async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignedOut("Please sign in.");
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    credentials: "omit",
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401) {
    throw new SignedOut(messageOf(body) || "The token was refused; please sign in again.");
  }
  if (!response.ok && !body) throw new Error(`The service answered ${response.status}.`);
  if (body && body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = first.extensions && first.extensions.code;
    if (code === "UNAUTHENTICATED") throw new SignedOut(first.message);
    if (!body.data) throw new Error(first.message);
  }
  return body ? body.data : null;
}

function messageOf(body) {
  if (!body) return "";
  if (body.errors && body.errors.length) return body.errors[0].message;
  if (body.detail && body.detail.message) return body.detail.message;
  return "";
}

// --- state -------------------------------------------------------------------------------

const state = { me: null, tasks: [], generation: 0 };

function showSignIn(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.generation++; // answers still on their way for the previous user are dropped
  state.me = null;
  state.tasks = [];
  $("board").hidden = true;
  $("admin-view").hidden = true;
  $("controls").hidden = true;
  $("who").hidden = true;
  for (const id of ["tasks", "matrix", "hits", "task-summary", "task-agency", "theatre"]) $(id).replaceChildren();
  $("task-text").value = "";
  $("task-overdue").checked = false;
  $("task-blocked").checked = false;
  $("sign-in").hidden = false;
  const error = $("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("token").value = "";
  $("token").focus();
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await start();
  } catch (err) {
    showSignIn(err instanceof SignedOut ? err.message : `Could not sign in: ${err.message}`);
  }
}

async function start() {
  const data = await graphql(ME_QUERY);
  const me = data.me;
  state.me = me;
  fill(
    $("who-name"),
    el("strong", {}, me.displayName),
    ` (${me.login})`,
    me.agency ? el("span", { class: "tag" }, me.agency) : null,
    el("span", { class: "tag tag-muted" }, me.clearance),
  );
  if (!me.agency) {
    // Operating the installation gives no right to the agencies' data: one plain view
    // says so, instead of panels that come back empty or refused.
    $("sign-in").hidden = true;
    $("who").hidden = false;
    $("admin-view").hidden = false;
    return;
  }
  const mine = new Set();
  const agency = data.agencies.find((a) => a.code === me.agency);
  if (agency) for (const code of agency.theatres) mine.add(code);
  const select = $("theatre");
  const theatres = [...data.theatres].sort((a, b) => (mine.has(b.code) - mine.has(a.code)) || a.name.localeCompare(b.name));
  const label = (t) => `${t.name} (${t.code})${agency && !mine.has(t.code) ? " – not deployed" : ""}`;
  select.replaceChildren(...theatres.map((t) => el("option", { value: t.code }, label(t))));
  const remembered = sessionStorage.getItem(THEATRE_KEY);
  if (remembered && theatres.some((t) => t.code === remembered)) select.value = remembered;
  $("sign-in").hidden = true;
  $("controls").hidden = false;
  $("who").hidden = false;
  $("board").hidden = false;
  await loadTheatre();
}

async function loadTheatre() {
  const theatre = $("theatre").value;
  if (!theatre) return;
  sessionStorage.setItem(THEATRE_KEY, theatre);
  const generation = ++state.generation;
  const on = $("on").value || null;
  const panels = [
    ["tasks", graphql(TASKS_QUERY, { filter: { theatre } }), renderTasks],
    ["matrix", graphql(MATRIX_QUERY, { theatre, on }), renderMatrix],
    ["hits", hitsWithMyRecords(), (data) => renderHits(data, theatre)],
  ];
  for (const [id] of panels) $(id).setAttribute("aria-busy", "true");
  await Promise.all(
    panels.map(async ([id, request, render]) => {
      try {
        const data = await request;
        if (generation !== state.generation) return;
        render(data);
      } catch (err) {
        if (generation !== state.generation) return;
        if (err instanceof SignedOut) {
          showSignIn(err.message);
          return;
        }
        $(id).replaceChildren(el("p", { class: "error" }, sentence(err.message)));
      } finally {
        if (generation === state.generation) $(id).setAttribute("aria-busy", "false");
      }
    }),
  );
}

// --- task board --------------------------------------------------------------------------

function renderTasks(data) {
  const summary = data.taskBoardSummary;
  const connection = data.tasks;
  state.tasks = connection.nodes;
  const shown = connection.nodes.length;
  const total = connection.totalCount;
  fill(
    $("task-summary"),
    el("span", { class: "count" }, el("strong", {}, String(summary.total)), " tasks"),
    el("span", { class: `count${summary.overdue ? " count-warn" : ""}` }, el("strong", {}, String(summary.overdue)), " overdue"),
    el("span", { class: `count${summary.blocked ? " count-bad" : ""}` }, el("strong", {}, String(summary.blocked)), " blocked"),
    shown < total ? el("span", { class: "count count-muted" }, `showing the newest ${shown}`) : null,
  );
  const agencies = new Set();
  for (const task of state.tasks) {
    agencies.add(task.leadAgency);
    for (const code of task.supportingAgencies) agencies.add(code);
  }
  const agencySelect = $("task-agency");
  const chosen = agencySelect.value;
  agencySelect.replaceChildren(
    el("option", { value: "" }, "All agencies"),
    ...[...agencies].sort().map((code) => el("option", { value: code }, code)),
  );
  agencySelect.value = agencies.has(chosen) ? chosen : "";
  drawTaskColumns();
}

function taskMatches(task) {
  const text = $("task-text").value.trim().toLowerCase();
  const agency = $("task-agency").value;
  if ($("task-overdue").checked && !task.overdue) return false;
  if ($("task-blocked").checked && !task.blocked) return false;
  if (agency && task.leadAgency !== agency && !task.supportingAgencies.includes(agency)) return false;
  if (text) {
    const haystack = [task.title, areaLabel(task.activityArea), task.leadAgency, task.assigneePosition || "", task.case ? task.case.reference : ""]
      .join(" ")
      .toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}

function drawTaskColumns() {
  const tasks = state.tasks.filter(taskMatches);
  const columns = COLUMNS.map((column) => {
    const statuses = column.statuses || [column.key];
    const cards = tasks.filter((t) => statuses.includes(t.status)).map(taskCard);
    return el(
      "div",
      { class: `column column-${column.key.toLowerCase()}`, "data-status": column.key },
      el("h3", {}, column.label, el("span", { class: "column-count" }, String(cards.length))),
      cards.length ? el("ul", { class: "cards" }, cards) : el("p", { class: "empty" }, "None"),
    );
  });
  fill($("tasks"), el("div", { class: "columns" }, columns), el("p", { class: "scroll-hint", hidden: true }, "More columns to the right: scroll sideways →"));
  markOverflow();
}

/** Cut-off content says so, whether or not the system draws scrollbars (phones do not). */
function markOverflow() {
  const board = document.querySelector("#tasks .columns");
  if (!board) return;
  const sideways = board.scrollWidth > board.clientWidth + 1;
  board.classList.toggle("is-scrollable", sideways);
  document.querySelector("#tasks .scroll-hint").hidden = !sideways;
  for (const cards of board.querySelectorAll(".cards")) {
    cards.classList.toggle("has-more", cards.scrollHeight > cards.clientHeight + 1);
  }
}

function taskCard(task) {
  const flags = [];
  if (task.overdue) flags.push(el("span", { class: "flag flag-overdue" }, "Overdue"));
  if (task.blocked) flags.push(el("span", { class: "flag flag-blocked" }, "Blocked"));
  const priority = task.priority.toLowerCase();
  const classes = ["card", `priority-${priority}`];
  if (task.overdue) classes.push("is-overdue");
  if (task.blocked) classes.push("is-blocked");
  if (task.status === "DONE" || task.status === "CANCELLED") classes.push("is-closed");
  return el(
    "li",
    { class: classes.join(" "), "data-task-id": task.id },
    el("div", { class: "card-flags" }, el("span", { class: `prio prio-${priority}` }, words(task.priority)), flags,
      task.status === "CANCELLED" ? el("span", { class: "flag flag-muted" }, "Cancelled") : null),
    el("p", { class: "card-title" }, el("button", { type: "button", class: "card-open", "aria-expanded": "false", "data-task-id": task.id, title: "Show the task" }, task.title)),
    el("p", { class: "card-area" }, areaLabel(task.activityArea)),
    el(
      "p",
      { class: "card-agencies" },
      el("span", { class: "lead", title: "Lead agency" }, task.leadAgency),
      task.supportingAgencies.length ? el("span", { class: "supporting", title: "Supporting agencies" }, `with ${task.supportingAgencies.join(", ")}`) : null,
    ),
    el(
      "p",
      { class: "card-meta" },
      task.dueDate ? el("span", { class: task.overdue ? "due due-late" : "due" }, `Due ${formatDate(task.dueDate)}`) : el("span", { class: "due" }, "No due date"),
      task.case ? el("span", { class: "case-ref" }, task.case.reference) : null,
    ),
    task.assigneePosition || task.assignee ? el("p", { class: "card-assignee" }, task.assignee ? `${task.assigneePosition || ""} ${task.assigneePosition ? "·" : ""} ${task.assignee}`.trim() : task.assigneePosition) : null,
  );
}

async function toggleTask(button) {
  const card = button.closest(".card");
  const shown = card.querySelector(".card-detail");
  if (shown) {
    shown.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  button.setAttribute("aria-expanded", "true");
  const detail = el("div", { class: "card-detail", "aria-busy": "true" }, el("p", { class: "sub" }, "Loading…"));
  card.append(detail);
  try {
    const data = await graphql(TASK_QUERY, { id: button.dataset.taskId });
    const task = data.task;
    if (!task) throw new Error("This task is no longer visible to you.");
    const row = (label, ...value) => [el("dt", {}, label), el("dd", {}, ...value)];
    fill(
      detail,
      task.description ? el("p", { class: "description" }, task.description) : el("p", { class: "sub" }, "No description."),
      el(
        "dl",
        {},
        row("Status", words(task.status)),
        row("Markings", `${task.markings.classification} · TLP:${task.markings.tlp.replace("_", "+")}`),
        row("Assigned to", task.assignee || task.assigneePosition ? [task.assigneePosition, task.assignee].filter(Boolean).join(" · ") : "Nobody yet"),
        row("Updated", formatDate(task.updatedAt)),
        task.dependencies.length ? row("Waits on", el("ul", {}, task.dependencies.map((d) => el("li", {}, `${d.title} (${words(d.status).toLowerCase()})`)))) : [],
      ),
      task.case
        ? el(
            "div",
            { class: "card-case" },
            el("p", {}, el("strong", {}, task.case.reference), ` ${task.case.title}`),
            el("p", { class: "sub" }, `${words(task.case.status)} · ${words(task.case.judicialStage).toLowerCase()}`),
            task.case.summary ? el("p", { class: "case-summary" }, task.case.summary) : null,
            el("button", { type: "button", class: "small secondary case-file", "data-case-id": task.case.id, "data-reference": task.case.reference }, "Case file"),
          )
        : null,
    );
  } catch (err) {
    if (err instanceof SignedOut) {
      showSignIn(err.message);
      return;
    }
    fill(detail, el("p", { class: "error small-error" }, sentence(err.message)));
  } finally {
    detail.setAttribute("aria-busy", "false");
  }
}

/** The printable case file, fetched with the bearer token and saved: a plain link could not carry it. */
async function downloadCaseFile(button) {
  button.disabled = true;
  try {
    const response = await fetch(`/api/v1/cases/${encodeURIComponent(button.dataset.caseId)}/file.html`, {
      headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` },
      credentials: "omit",
      cache: "no-store",
    });
    if (!response.ok) throw new Error(`The case file could not be fetched (${response.status}).`);
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `${button.dataset.reference}.html` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    button.after(el("div", { class: "error small-error" }, err.message));
  } finally {
    button.disabled = false;
  }
}

// --- responsibility matrix ---------------------------------------------------------------

function renderMatrix(data) {
  const matrix = data.responsibilityMatrix;
  // The day defaults to the service's today (the demo's clock stands in 2008), never the browser's.
  if (!$("on").value) $("on").value = matrix.on;
  // Overlaps cover every period; the rows flag those in force on the chosen day.
  const current = matrix.overlaps.filter((o) => o.overlapFrom <= matrix.on && (!o.overlapUntil || matrix.on <= o.overlapUntil));
  const overlapsByArea = new Map();
  for (const overlap of current) {
    if (!overlapsByArea.has(overlap.activityArea)) overlapsByArea.set(overlap.activityArea, []);
    overlapsByArea.get(overlap.activityArea).push(overlap);
  }
  const gaps = new Map(matrix.gaps.map((gap) => [gap.activityArea, gap]));
  const overlapAgencies = (area) => new Set((overlapsByArea.get(area) || []).flatMap((o) => o.agencies));

  const head = el(
    "tr",
    {},
    el("th", { scope: "col", class: "area-col" }, "Activity area"),
    matrix.agencies.map((code) => el("th", { scope: "col" }, code)),
    el("th", { scope: "col", class: "state-col" }, "State"),
  );
  const rows = matrix.rows.map((row) => {
    const overlap = overlapsByArea.has(row.activityArea);
    const gap = gaps.get(row.activityArea);
    const clashing = overlapAgencies(row.activityArea);
    const cells = new Map(row.cells.map((cell) => [cell.agency, cell.roles]));
    const state = [];
    if (overlap) state.push(el("span", { class: "flag flag-overlap" }, `Overlap: ${[...clashing].sort().join(" / ")}`));
    if (gap) {
      state.push(el("span", { class: "flag flag-gap" }, "Gap: no lead"));
      if (gap.regionalLeads.length) state.push(el("span", { class: "regional" }, `regional: ${gap.regionalLeads.join(", ")}`));
    }
    return el(
      "tr",
      { class: [overlap ? "row-overlap" : "", gap ? "row-gap" : ""].join(" ").trim() || null, "data-area": row.activityArea },
      el("th", { scope: "row", class: "area-col" }, areaLabel(row.activityArea)),
      matrix.agencies.map((code) => {
        const roles = cells.get(code) || [];
        const clash = clashing.has(code) && roles.includes("LEAD");
        return el(
          "td",
          { class: clash ? "cell-clash" : null, title: roles.length ? `${code}: ${roles.map(words).join(", ")}` : null },
          roles.map((role) => el("span", { class: `role role-${role.toLowerCase()}` }, ROLE_LETTER[role] || role)),
        );
      }),
      el("td", { class: "state-col" }, state),
    );
  });
  const notes = [];
  for (const overlap of matrix.overlaps) {
    const now = current.includes(overlap);
    const until = overlap.overlapUntil ? formatDate(overlap.overlapUntil) : "open-ended";
    const where = overlap.region ? `in ${overlap.region}` : "theatre-wide";
    notes.push(
      el(
        "li",
        { class: now ? "note-overlap" : "note-overlap note-other-day" },
        el("strong", {}, areaLabel(overlap.activityArea)),
        `: ${overlap.agencies.join(" and ")} both lead ${where}, ${formatDate(overlap.overlapFrom)} – ${until}`,
        now ? null : el("span", { class: "sub" }, " (not on this day)"),
      ),
    );
  }
  fill(
    $("matrix"),
    el("p", { class: "caption" }, `${matrix.theatre} on ${formatDate(matrix.on)}: ${current.length} overlap${current.length === 1 ? "" : "s"}, ${matrix.gaps.length} gap${matrix.gaps.length === 1 ? "" : "s"}`),
    el("div", { class: "table-wrap" }, el("table", { class: "matrix" }, el("thead", {}, head), el("tbody", {}, rows))),
    notes.length ? el("ul", { class: "notes" }, notes) : null,
  );
}

// --- deconfliction hits ------------------------------------------------------------------

function renderHits(data, theatre) {
  // Unacknowledged first, colliding operations before shared selectors, newest first.
  const rank = (hit) => (hit.status === "OPEN" ? 0 : 2) + (hit.hitKind === "OPERATION" ? 0 : 1);
  const pages = [data.open, data.acknowledged];
  const hidden = pages.reduce((sum, page) => sum + page.totalCount - page.nodes.length, 0);
  const hits = pages
    .flatMap((page) => page.nodes)
    .filter((hit) => !hit.theatre || hit.theatre === theatre)
    .sort((a, b) => rank(a) - rank(b) || b.createdAt.localeCompare(a.createdAt));
  if (!hits.length) {
    fill($("hits"), el("p", { class: "empty" }, "No open hits for your agency in this theatre."));
    return;
  }
  const rows = hits.map((hit) =>
    el(
      "tr",
      { class: hit.status === "OPEN" ? "hit-open" : "hit-ack", "data-hit-id": hit.id },
      el("td", {}, el("span", { class: `kind kind-${hit.hitKind.toLowerCase()}` }, hit.hitKind === "OPERATION" ? "Operation" : "Selector"), el("div", { class: "sub" }, formatDate(hit.createdAt))),
      el("td", { class: "mine" }, myRecordLabel(hit, data.mine), el("div", { class: "sub" }, `matched on ${words(hit.matchKind).toLowerCase()}`)),
      el("td", { class: "other" }, hit.otherAgency),
      el("td", {}, hit.contact),
      el(
        "td",
        { class: "hit-state" },
        hit.status === "OPEN" ? el("span", { class: "flag flag-open" }, "Not acknowledged") : el("span", { class: "flag flag-ack" }, "Acknowledged"),
        hit.acknowledgedBy ? el("div", { class: "sub hit-by" }, `by ${hit.acknowledgedBy}, ${formatDate(hit.acknowledgedAt)}`) : null,
        el(
          "div",
          { class: "actions" },
          hit.status === "OPEN" ? el("button", { type: "button", class: "small acknowledge", "data-hit-id": hit.id }, "Acknowledge") : null,
          el("button", { type: "button", class: "small secondary resolve", "data-hit-id": hit.id, "aria-expanded": "false" }, "Resolve"),
        ),
      ),
    ),
  );
  fill(
    $("hits"),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "hits" },
        el("thead", {}, el("tr", {}, ["Kind", "Your record", "Other agency", "Contact", "State"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows),
      ),
    ),
    el("p", { class: "caption" }, "A hit names your own record that matched, never the other agency's: only that they hold something matching, and whom to call."),
    hidden ? el("p", { class: "caption" }, `The newest 100 of each state are shown; ${hidden} older not shown (any theatre).`) : null,
  );
}

/** The hits, with the titles of the reader's own records behind them. */
async function hitsWithMyRecords() {
  const data = await graphql(HITS_QUERY);
  const ids = [...new Set([data.open, data.acknowledged].flatMap((page) => page.nodes).map((hit) => hit.recordId).filter(Boolean))];
  data.mine = new Map();
  if (!ids.length) return data;
  const variables = Object.fromEntries(ids.map((id, n) => [`i${n}`, id]));
  const query = `query CoordMine(${ids.map((_, n) => `$i${n}: ID!`).join(", ")}) {
    ${ids.map((_, n) => `r${n}: node(id: $i${n}) { ...Mine }`).join("\n    ")}
  }
  ${MINE_FRAGMENT}`;
  const found = await graphql(query, variables);
  for (const record of Object.values(found || {})) if (record) data.mine.set(record.id, record);
  return data;
}

const KIND_LABEL = { Case: "Case", IntelItem: "Intelligence", Entity: "Entity", PlannedOperation: "Operation", Evidence: "Evidence", Task: "Task" };

function myRecordLabel(hit, mine) {
  const record = hit.recordId ? mine.get(hit.recordId) : null;
  if (!record) return el("span", { class: "sub" }, `A record of ${hit.agency} you may not read`);
  const name = record.reference ? `${record.reference} ${record.title}` : record.title || record.label || "";
  const when = record.startsAt ? ` (${formatDate(record.startsAt)})` : "";
  return [el("span", { class: "tag-kind" }, KIND_LABEL[record.__typename] || record.__typename), " ", el("strong", { class: "mine-title" }, name + when)];
}

function openResolve(button) {
  const row = button.closest("tr");
  const open = row.nextElementSibling && row.nextElementSibling.classList.contains("resolve-row");
  if (open) {
    row.nextElementSibling.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  button.setAttribute("aria-expanded", "true");
  const id = button.dataset.hitId;
  const outcome = el("select", { name: "outcome", "aria-label": "Outcome", required: true },
    el("option", { value: "" }, "Choose the outcome…"),
    Object.entries(OUTCOMES).map(([value, label]) => el("option", { value }, label)));
  const note = el("input", { type: "text", name: "note", maxlength: "2000", placeholder: "Note for your agency (optional)", "aria-label": "Note" });
  const form = el("form", { class: "resolve-form", "data-hit-id": id }, outcome, note,
    el("button", { type: "submit", class: "small" }, "Record outcome"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    resolve(form);
  });
  row.after(el("tr", { class: "resolve-row" }, el("td", { colspan: "5" }, form)));
  outcome.focus();
}

async function resolve(form) {
  const submit = form.querySelector("button[type=submit]");
  const outcome = form.elements.outcome.value;
  if (!outcome) return;
  submit.disabled = true;
  try {
    const data = await graphql(RESOLVE_MUTATION, { input: { id: form.dataset.hitId, outcome, note: form.elements.note.value } });
    const result = data.resolveDeconflictionHit;
    if (result.__typename !== "DeconflictionHitPayload") throw new Error(result.message || "Could not resolve.");
    renderHits(await hitsWithMyRecords(), $("theatre").value);
    say(`Hit resolved: ${OUTCOMES[outcome].toLowerCase()}.`);
  } catch (err) {
    if (err instanceof SignedOut) {
      showSignIn(err.message);
      return;
    }
    submit.disabled = false;
    form.append(el("div", { class: "error small-error" }, err.message));
  }
}

function say(message) {
  const notice = $("notice");
  notice.textContent = message;
  notice.hidden = false;
}

async function acknowledge(button) {
  button.disabled = true;
  try {
    const data = await graphql(ACKNOWLEDGE_MUTATION, { id: button.dataset.hitId });
    const result = data.acknowledgeDeconflictionHit;
    if (result.__typename !== "DeconflictionHitPayload") throw new Error(result.message || "Could not acknowledge.");
    const theatre = $("theatre").value;
    renderHits(await hitsWithMyRecords(), theatre);
  } catch (err) {
    if (err instanceof SignedOut) {
      showSignIn(err.message);
      return;
    }
    button.disabled = false;
    button.after(el("div", { class: "error small-error" }, err.message));
  }
}

// --- wiring --------------------------------------------------------------------------------

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
    if (token) signIn(token);
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(THEATRE_KEY);
    showSignIn("");
  });
  $("hits").addEventListener("click", (event) => {
    const button = event.target.closest("button.acknowledge");
    if (button) acknowledge(button);
    const resolveButton = event.target.closest("button.resolve");
    if (resolveButton) openResolve(resolveButton);
  });
  $("tasks").addEventListener("click", (event) => {
    const button = event.target.closest("button.card-open");
    if (button) toggleTask(button);
    const download = event.target.closest("button.case-file");
    if (download) downloadCaseFile(download);
  });
  window.addEventListener("resize", markOverflow);
  $("theatre").addEventListener("change", loadTheatre);
  $("on").addEventListener("change", loadTheatre);
  $("reload").addEventListener("click", loadTheatre);
  for (const id of ["task-text", "task-agency", "task-overdue", "task-blocked"]) {
    $(id).addEventListener("input", drawTaskColumns);
  }
  // A link such as /coord#token=... (printed by scripts/demo) signs in at once. The
  // fragment never reaches the server; it is removed from the address bar and history.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (sessionStorage.getItem(TOKEN_KEY)) {
    start().catch((err) => showSignIn(err instanceof SignedOut ? err.message : err.message));
  } else {
    showSignIn("");
  }
}

wire();
