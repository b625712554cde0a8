// Saalbuch's back office: one dependency-free ES module for clerks, finance,
// auditors and admins, served at /admin/{tenant}/ (web/pages/admin.html).
// It talks to the documented HTTP API only, signed in by the session cookie
// (HttpOnly; the page never sees it) and sending the session's CSRF token
// with every change. German first; every error is a sentence.
//
// Views (the URL fragment): #/heute (today), #/buchungen (search),
// #/freigaben (the approval queue), #/buchung/<id> (details, history,
// actions), #/konten (accounts, admins only); /admin/{tenant}/join#token=…
// accepts an invitation.

const root = document.querySelector("[data-saalbuch-admin]");
const TENANT = root.dataset.tenant;
const API = `/v1/tenants/${encodeURIComponent(TENANT)}`;
const enc = encodeURIComponent;

const STATUS = {
  requested: "Angefragt",
  held: "Vorgemerkt",
  confirmed: "Bestätigt",
  completed: "Abgeschlossen",
  no_show: "Nicht erschienen",
  rejected: "Abgelehnt",
  cancelled: "Storniert",
  expired: "Verfallen",
};
const ROLE = { admin: "Verwaltung", staff: "Sachbearbeitung", finance: "Kasse und Finanzen", auditor: "Prüfung" };
const EVENT = {
  placed: "gebucht",
  approved: "genehmigt",
  hold_started: "vorgemerkt, wartet auf Zahlung",
  confirmed: "bestätigt",
  rejected: "abgelehnt",
  expired: "verfallen",
  cancelled: "storniert",
  completed: "als abgeschlossen markiert",
  no_show: "als nicht erschienen markiert",
  rescheduled: "verlegt",
  notified: "E-Mail verschickt",
  person_erased: "personenbezogene Daten gelöscht",
};
// Problem codes → what a clerk reads. Unknown codes fall back to the
// server's own detail.
const PROBLEM = {
  sign_in_failed: "Die E-Mail-Adresse oder das Passwort stimmt nicht.",
  rate_limited: "Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es dann erneut.",
  sign_in_locked: "Nach mehreren falschen Passwörtern ist die Anmeldung für dieses Konto kurz gesperrt.",
  session_ended: "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
  csrf_failed: "Die Anfrage kam nicht aus dieser Seite und wurde abgewiesen. Bitte laden Sie die Seite neu.",
  not_permitted: "Das darf Ihre Rolle nicht.",
  invitation_invalid: "Diese Einladung gilt nicht (mehr): Sie wurde schon benutzt, zurückgezogen oder ist abgelaufen.",
  account_exists: "Für diese E-Mail-Adresse gibt es schon ein Konto.",
  own_account: "Das eigene Konto können Sie hier nicht ändern.",
  invalid_transition: "Das geht im jetzigen Zustand der Buchung nicht.",
  booking_not_started: "Die Buchung hat noch nicht begonnen.",
  version_mismatch: "Die Buchung wurde inzwischen geändert. Die Seite zeigt jetzt den neuen Stand.",
  booking_conflict: "Der Zeitraum ist schon belegt.",
  not_found: "Nicht gefunden.",
  validation_failed: "Bitte prüfen Sie die markierten Angaben.",
  storage_failure: "Der Server konnte nicht speichern. Es wurde nichts geändert; bitte versuchen Sie es erneut.",
};

// ---- helpers ----

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let csrf = "";
let me = null; // the session: {account, role, name, email}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Saalbuch-CSRF"] = csrf;
    headers["Idempotency-Key"] = crypto.randomUUID();
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(API + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: "network", detail: "Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung." });
  }
  const text = await res.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  if (!res.ok) {
    if (res.status === 401 && json.code === "session_ended" && me) {
      me = null;
      render();
    }
    throw new ApiError(res.status, json);
  }
  return json;
}

function sentence(err) {
  const p = err.problem || {};
  if (p.code === "network") return p.detail;
  return PROBLEM[p.code] || p.detail || "Das hat nicht geklappt. Bitte versuchen Sie es erneut.";
}

// "2026-12-06T10:00:00+01:00" → "Sa., 06.12.2026", "10:00"
function localDay(s) {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number);
  const wd = new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("de-DE", { weekday: "short", timeZone: "UTC" });
  return `${wd} ${String(d).padStart(2, "0")}.${String(m).padStart(2, "0")}.${y}`;
}
const localTime = (s) => s.slice(11, 16);
const when = (b) => `${localDay(b.start_local)}, ${localTime(b.start_local)}–${localTime(b.end_local)} Uhr`;
function utcText(s) {
  return new Date(s).toLocaleString("de-DE", { dateStyle: "medium", timeStyle: "short", timeZone: tenant.time_zone || "Europe/Berlin" });
}
function euro(m) {
  return (m.amount / 100).toLocaleString("de-DE", { style: "currency", currency: m.currency || "EUR" });
}
function actorText(a) {
  if (!a) return "";
  if (a.startsWith("account:")) return accountNames.get(a.slice(8)) || "ein Konto der Verwaltung";
  if (a.startsWith("key:")) return `API-Schlüssel ${a.slice(4)}`;
  return { public: "Bürgerin/Bürger (online)", "manage-token": "Buchende Person", "customer-token": "Kundin/Kunde", system: "Saalbuch (automatisch)", provider: "Zahlungsdienst", operator: "Betrieb" }[a] || a;
}
const accountNames = new Map();

const may = {
  book: () => me && (me.role === "admin" || me.role === "staff"),
  seeBookings: () => me && me.role !== "finance",
  accounts: () => me && me.role === "admin",
};

function statusChip(s) {
  return h("span", { class: `chip st-${s}` }, STATUS[s] || s);
}

function say(region, text, kind = "info") {
  region.replaceChildren(text ? h("p", { class: `msg ${kind}` }, text) : "");
}

let tenant = { name: TENANT, time_zone: "Europe/Berlin" };
let resources = [];

// The tenant's today as "YYYY-MM-DD".
function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tenant.time_zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}
// A generous UTC window around local days [first, last] (the list is then
// filtered by local date).
function windowFor(first, last) {
  const from = new Date(`${first}T00:00:00Z`).getTime() - 15 * 3600e3;
  const to = new Date(`${last}T00:00:00Z`).getTime() + 39 * 3600e3;
  return `from=${enc(new Date(from).toISOString())}&to=${enc(new Date(to).toISOString())}`;
}

async function bookings(query) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const r = await api("GET", `/bookings?${query}&limit=200${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    items.push(...r.items);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const resourceName = (id) => (resources.find((r) => r.id === id) || {}).name || id;

// ---- views ----

const main = () => document.getElementById("main");

function page(title, ...content) {
  document.title = `${title} – Saalbuch Verwaltung`;
  const heading = h("h1", { tabindex: "-1" }, title);
  main().replaceChildren(heading, ...content);
  heading.focus();
}

function bookingTable(list, caption) {
  if (list.length === 0) return h("p", { class: "empty" }, "Keine Buchungen.");
  return h(
    "table",
    { class: "list" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ["Nummer", "Zeit", "Raum / Gerät", "Status", "Kanal"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      list.map((b) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/buchung/${enc(b.id)}` }, b.number)),
          h("td", {}, when(b)),
          h("td", {}, resourceName(b.resource)),
          h("td", {}, statusChip(b.status)),
          h("td", {}, b.channel === "staff" ? "Verwaltung" : "online"),
        ),
      ),
    ),
  );
}

async function viewToday() {
  const day = today();
  const region = h("div", { role: "status" });
  page(`Heute, ${localDay(day)}`, region);
  try {
    const list = (await bookings(windowFor(day, day))).filter((b) => b.start_local.startsWith(day));
    const open = list.filter((b) => !["cancelled", "rejected", "expired"].includes(b.status));
    const byResource = new Map();
    for (const b of open) byResource.set(b.resource, [...(byResource.get(b.resource) || []), b]);
    const sections = [...byResource.entries()].map(([r, l]) => h("section", {}, h("h2", {}, resourceName(r)), bookingTable(l, `Buchungen heute: ${resourceName(r)}`)));
    main().append(...(sections.length ? sections : [h("p", { class: "empty" }, "Heute ist nichts gebucht.")]));
    const waiting = (await bookings(`status=requested&${windowFor(day, "2100-01-01")}`)).length;
    if (waiting > 0) main().append(h("p", {}, h("a", { href: "#/freigaben" }, `${waiting} Anfrage${waiting === 1 ? "" : "n"} warten auf Freigabe.`)));
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

async function viewSearch(params) {
  const region = h("div", { role: "status" });
  const result = h("div", {});
  const number = h("input", { id: "f-number", name: "number", value: params.get("number") || "", placeholder: "B-2026-000012", autocomplete: "off" });
  const status = h("select", { id: "f-status", name: "status" }, h("option", { value: "" }, "alle"), Object.entries(STATUS).map(([k, v]) => h("option", { value: k, selected: params.get("status") === k }, v)));
  const resource = h("select", { id: "f-resource", name: "resource" }, h("option", { value: "" }, "alle"), resources.map((r) => h("option", { value: r.id, selected: params.get("resource") === r.id }, r.name)));
  const from = h("input", { id: "f-from", type: "date", name: "from", value: params.get("from") || today() });
  const to = h("input", { id: "f-to", type: "date", name: "to", value: params.get("to") || "" });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const c of [number, status, resource, from, to]) if (c.value) q.set(c.name, c.value);
        location.hash = `#/buchungen?${q}`;
      },
    },
    field("Buchungsnummer", number),
    field("Status", status),
    field("Raum / Gerät", resource),
    field("von", from),
    field("bis", to),
    h("button", { type: "submit" }, "Suchen"),
  );
  page("Buchungen", form, region, result);
  try {
    const first = from.value || today();
    const last = to.value || "2100-01-01";
    let q = windowFor(first, last);
    if (status.value) q += `&status=${enc(status.value)}`;
    if (resource.value) q += `&resource=${enc(resource.value)}`;
    let list = (await bookings(q)).filter((b) => b.start_local.slice(0, 10) >= first && b.start_local.slice(0, 10) <= last);
    const n = number.value.trim().toUpperCase();
    if (n) list = list.filter((b) => b.number.includes(n));
    result.replaceChildren(pager(list, (part) => bookingTable(part, `${list.length} Buchungen`)));
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// Shows the new state after a change, unless the person went elsewhere
// meanwhile (the message stays readable for a moment).
function refreshSoon() {
  const here = location.hash;
  setTimeout(() => location.hash === here && me && route(), 800);
}

// A form field: its label (by id, so that a select's options are not part
// of the name) above the control.
function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

// Long lists in pages of 25.
function pager(list, render, size = 25) {
  const box = h("div", {});
  let at = 0;
  const draw = () => {
    const nav = h(
      "nav",
      { class: "pager", "aria-label": "Seiten" },
      h("button", { type: "button", disabled: at === 0, onclick: () => ((at -= size), draw()) }, "Zurück"),
      h("span", {}, `${Math.min(list.length, at + 1)}–${Math.min(list.length, at + size)} von ${list.length}`),
      h("button", { type: "button", disabled: at + size >= list.length, onclick: () => ((at += size), draw()) }, "Weiter"),
    );
    box.replaceChildren(render(list.slice(at, at + size)), list.length > size ? nav : "");
  };
  draw();
  return box;
}

async function viewApprovals() {
  const region = h("div", { role: "status" });
  page("Freigaben", h("p", {}, "Anfragen, die auf eine Entscheidung warten, die früheste zuerst."), region);
  try {
    const list = await bookings(`status=requested&${windowFor(today(), "2100-01-01")}`);
    if (list.length === 0) return main().append(h("p", { class: "empty" }, "Keine offenen Anfragen."));
    main().append(
      h(
        "ul",
        { class: "cards" },
        list.map((b) =>
          h(
            "li",
            { class: "card" },
            h("h2", {}, h("a", { href: `#/buchung/${enc(b.id)}` }, `${b.number}: ${resourceName(b.resource)}`)),
            h("p", {}, when(b), b.group ? ` · Gruppe ${b.group}` : ""),
            may.book() ? actions(b, region, ["approve", "reject"]) : "",
          ),
        ),
      ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

const ACTIONS = {
  approve: { label: "Genehmigen", path: "approve", done: "Die Anfrage ist genehmigt." },
  reject: { label: "Ablehnen", path: "reject", done: "Die Anfrage ist abgelehnt." },
  complete: { label: "Abgeschlossen", path: "complete", done: "Die Buchung ist als abgeschlossen markiert." },
  no_show: { label: "Nicht erschienen", path: "no-show", done: "Die Buchung ist als nicht erschienen markiert." },
};

function actions(b, region, which) {
  return h(
    "div",
    { class: "actions" },
    which.map((a) =>
      h(
        "button",
        {
          type: "button",
          class: a === "reject" ? "secondary" : "",
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              await api("POST", `/bookings/${enc(b.id)}/${ACTIONS[a].path}`, {});
              say(region, `${b.number}: ${ACTIONS[a].done}`, "ok");
              refreshSoon();
            } catch (err) {
              say(region, `${b.number}: ${sentence(err)}`, "error");
              e.target.disabled = false;
            }
          },
        },
        ACTIONS[a].label,
      ),
    ),
  );
}

async function viewBooking(id) {
  const region = h("div", { role: "status" });
  let b;
  try {
    b = await api("GET", `/bookings/${enc(id)}`);
  } catch (e) {
    page("Buchung", region);
    return say(region, sentence(e), "error");
  }
  const c = b.contact || {};
  const rows = [
    ["Status", statusChip(b.status)],
    ["Zeit", when(b)],
    ["Raum / Gerät", resourceName(b.resource)],
    ["Kanal", b.channel === "staff" ? "Verwaltung" : "online"],
    b.group ? ["Gruppe", b.group] : null,
    b.customer ? ["Kundin/Kunde", b.customer] : null,
    c.erased ? ["Kontakt", "gelöscht"] : c.name || c.email ? ["Kontakt", [c.name, c.email, c.phone].filter(Boolean).join(" · ")] : null,
    c.notes ? ["Notiz", c.notes] : null,
    ["Gebucht am", utcText(b.placed_at)],
  ].filter(Boolean);
  const possible = {
    requested: ["approve", "reject"],
    confirmed: ["complete", "no_show"],
    held: [],
  }[b.status] || [];
  const cancellable = ["requested", "held", "confirmed"].includes(b.status);
  const cancelBox = h("div", {});
  page(
    `Buchung ${b.number}`,
    region,
    h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    may.book() && (possible.length || cancellable)
      ? h(
          "section",
          { "aria-label": "Aktionen" },
          actions(b, region, possible),
          cancellable ? h("button", { type: "button", class: "danger", onclick: () => askCancel(b, cancelBox, region) }, "Stornieren …") : "",
          cancelBox,
        )
      : "",
    h("h2", {}, "Verlauf"),
    h(
      "ol",
      { class: "history" },
      (b.history || []).map((e) => h("li", {}, h("time", { datetime: e.at }, utcText(e.at)), " ", EVENT[e.event] || e.event, " – ", actorText(e.actor))),
    ),
    h("p", {}, h("a", { href: "#/buchungen" }, "Zurück zur Suche")),
  );
}

async function askCancel(b, box, region) {
  box.replaceChildren(h("p", {}, "Gebühr wird berechnet …"));
  let text = "";
  try {
    const q = await api("GET", `/bookings/${enc(b.id)}/cancellation`);
    if (!q.allowed) return box.replaceChildren(h("p", { class: "msg error" }, PROBLEM[q.code] || q.message || "Stornieren geht jetzt nicht."));
    text = q.fee && q.fee.amount > 0 ? `Es fällt eine Stornogebühr von ${euro(q.fee)} an.` : "Es fällt keine Gebühr an.";
  } catch (e) {
    text = "";
  }
  const reason = h("input", { id: "cancel-reason", maxlength: "200" });
  box.replaceChildren(
    h(
      "form",
      {
        class: "confirm",
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api("POST", `/bookings/${enc(b.id)}/cancel`, reason.value ? { reason: reason.value } : {});
            say(region, `${b.number}: Die Buchung ist storniert.`, "ok");
            refreshSoon();
          } catch (err) {
            say(region, sentence(err), "error");
          }
        },
      },
      h("p", {}, `${b.number} wirklich stornieren? ${text}`),
      h("label", { for: "cancel-reason" }, "Grund (optional)"),
      reason,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Ja, stornieren"), h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Nein")),
    ),
  );
}

async function viewAccounts() {
  const region = h("div", { role: "status" });
  const list = h("div", {});
  const email = h("input", { id: "inv-email", type: "email", required: true, autocomplete: "off" });
  const name = h("input", { id: "inv-name", required: true, autocomplete: "off" });
  const role = h("select", { id: "inv-role" }, Object.entries(ROLE).map(([k, v]) => h("option", { value: k, selected: k === "staff" }, v)));
  const invited = h("div", {});
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api("POST", "/accounts", { email: email.value, name: name.value, role: role.value });
          const link = location.origin + r.invite_path;
          invited.replaceChildren(
            h("p", { class: "msg ok" }, `${name.value} ist eingeladen. Geben Sie ihr/ihm diesen Link (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):`),
            h("p", {}, h("code", { class: "invite-link" }, link)),
          );
          email.value = name.value = "";
          drawAccounts(list, region);
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    field("E-Mail-Adresse", email),
    field("Name", name),
    field("Rolle", role),
    h("button", { type: "submit" }, "Einladen"),
  );
  page("Konten", region, h("h2", {}, "Person einladen"), form, invited, h("h2", {}, "Alle Konten"), list);
  drawAccounts(list, region);
}

async function drawAccounts(box, region) {
  try {
    const { items } = await api("GET", "/accounts");
    box.replaceChildren(
      h(
        "table",
        { class: "list" },
        h("caption", {}, `${items.length} Konten`),
        h("thead", {}, h("tr", {}, ["Name", "E-Mail", "Rolle", "Zustand", "Aktion"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          items.map((a) => {
            const own = a.id === me.account;
            const sel = h("select", { "aria-label": `Rolle von ${a.name || a.id}`, disabled: own || a.disabled }, Object.entries(ROLE).map(([k, v]) => h("option", { value: k, selected: k === a.role }, v)));
            sel.addEventListener("change", async () => {
              try {
                await api("POST", `/accounts/${enc(a.id)}/role`, { role: sel.value });
                say(region, `${a.name}: Rolle geändert.`, "ok");
              } catch (err) {
                say(region, sentence(err), "error");
              }
            });
            const state = a.disabled ? "deaktiviert" : a.locked_until ? "vorübergehend gesperrt" : a.joined ? "aktiv" : "eingeladen";
            return h(
              "tr",
              {},
              h("td", {}, a.name || "–"),
              h("td", {}, a.email || "–"),
              h("td", {}, sel),
              h("td", {}, state),
              h(
                "td",
                {},
                own || a.disabled
                  ? ""
                  : h(
                      "button",
                      {
                        type: "button",
                        class: "secondary",
                        onclick: async () => {
                          try {
                            await api("POST", `/accounts/${enc(a.id)}/disable`);
                            say(region, `${a.name}: Konto deaktiviert; alle Sitzungen sind beendet.`, "ok");
                            drawAccounts(box, region);
                          } catch (err) {
                            say(region, sentence(err), "error");
                          }
                        },
                      },
                      "Deaktivieren",
                    ),
              ),
            );
          }),
        ),
      ),
    );
    for (const a of items) accountNames.set(a.id, a.name);
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// ---- sign-in, invitation, shell ----

function viewSignIn(message) {
  const region = h("div", { role: "alert" });
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    {
      class: "signin card",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api("POST", "/session", { email: email.value, password: password.value });
          csrf = r.csrf_token;
          await loadSession();
          // A new fragment renders through the hashchange listener; render
          // directly only when it stays the same (never both: twice the view).
          if (location.hash === "" || location.hash === "#/") location.hash = "#/heute";
          else render();
        } catch (err) {
          say(region, sentence(err), "error");
          password.value = "";
          password.focus();
        }
      },
    },
    h("label", { for: "email" }, "E-Mail-Adresse"),
    email,
    h("label", { for: "password" }, "Passwort"),
    password,
    h("button", { type: "submit" }, "Anmelden"),
  );
  nav(false);
  page(`Anmelden – ${tenant.name}`, message ? h("p", { class: "msg info" }, message) : "", region, form);
}

function viewJoin(token) {
  const region = h("div", { role: "alert" });
  const p1 = h("input", { id: "pw1", type: "password", autocomplete: "new-password", minlength: "12", required: true, "aria-describedby": "pw-hint" });
  const p2 = h("input", { id: "pw2", type: "password", autocomplete: "new-password", required: true });
  nav(false);
  page(
    "Einladung annehmen",
    region,
    h(
      "form",
      {
        class: "signin card",
        novalidate: true, // our own sentences, in German whatever the browser's language
        onsubmit: async (e) => {
          e.preventDefault();
          if (p1.value !== p2.value) return say(region, "Die beiden Passwörter sind verschieden.", "error");
          if (p1.value.length < 12) return say(region, "Das Passwort braucht mindestens 12 Zeichen.", "error");
          try {
            await api("POST", "/invitations/accept", { token, password: p1.value });
            history.replaceState(null, "", `/admin/${enc(TENANT)}/`);
            viewSignIn("Ihr Passwort ist gespeichert. Melden Sie sich jetzt an.");
          } catch (err) {
            say(region, sentence(err), "error");
          }
        },
      },
      h("label", { for: "pw1" }, "Neues Passwort"),
      p1,
      h("p", { id: "pw-hint", class: "hint" }, "Mindestens 12 Zeichen. Ein Satz aus mehreren Wörtern ist gut zu merken und schwer zu erraten."),
      h("label", { for: "pw2" }, "Passwort wiederholen"),
      p2,
      h("button", { type: "submit" }, "Passwort speichern"),
    ),
  );
}

function nav(signedIn) {
  const bar = document.getElementById("nav");
  if (!signedIn) return bar.replaceChildren();
  const link = (href, text, show = true) => (show ? h("li", {}, h("a", { href, "aria-current": location.hash.startsWith(href) ? "page" : null }, text)) : "");
  bar.replaceChildren(
    h(
      "ul",
      {},
      link("#/heute", "Heute", may.seeBookings()),
      link("#/buchungen", "Buchungen", may.seeBookings()),
      link("#/freigaben", "Freigaben", may.seeBookings()),
      link("#/konten", "Konten", may.accounts()),
    ),
    h(
      "div",
      { class: "who" },
      h("span", {}, `${me.name || me.email} · ${ROLE[me.role] || me.role}`),
      h("button", { type: "button", class: "link", onclick: () => signOut(false) }, "Abmelden"),
      h("button", { type: "button", class: "link", onclick: () => signOut(true) }, "Überall abmelden"),
    ),
  );
}

async function signOut(everywhere) {
  try {
    await api("DELETE", `/session${everywhere ? "?everywhere=true" : ""}`);
  } catch {
    // the session is gone either way
  }
  me = null;
  csrf = "";
  history.replaceState(null, "", location.pathname);
  viewSignIn(everywhere ? "Sie sind auf allen Geräten abgemeldet." : "Sie sind abgemeldet.");
}

async function loadSession() {
  try {
    me = await api("GET", "/session");
    csrf = me.csrf_token;
    accountNames.set(me.account, me.name);
  } catch {
    me = null;
  }
}

async function route() {
  if (!me) return viewSignIn();
  nav(true);
  const hash = location.hash.slice(1) || "/heute";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  if (!may.seeBookings() && path !== "/konten") {
    return page("Willkommen", h("p", {}, `Sie sind als ${ROLE[me.role]} angemeldet. Die Finanzansichten folgen; bis dahin arbeitet die Kasse mit den Finanz-Schnittstellen.`));
  }
  if (path.startsWith("/buchung/")) return viewBooking(decodeURIComponent(path.slice(9)));
  if (path === "/buchungen") return viewSearch(params);
  if (path === "/freigaben") return viewApprovals();
  if (path === "/konten" && may.accounts()) return viewAccounts();
  return viewToday();
}
const render = route;

async function start() {
  try {
    const t = await fetch(API).then((r) => (r.ok ? r.json() : null));
    if (t) {
      tenant = { ...tenant, ...t, name: (t.public && t.public.display_name) || t.name };
      document.querySelector("[data-tenant-name]").textContent = `${tenant.name} · Verwaltung`;
    }
    const r = await fetch(`${API}/resources?limit=500`).then((x) => (x.ok ? x.json() : { items: [] }));
    resources = r.items || [];
  } catch {
    // shown by the views' own errors
  }
  if (root.dataset.view === "join") {
    const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
    history.replaceState(null, "", location.pathname); // the token leaves the address bar
    window.addEventListener("hashchange", route);
    return viewJoin(token);
  }
  await loadSession();
  window.addEventListener("hashchange", route);
  route();
}

start();
