// Saalbuch's back office: one dependency-free ES module for clerks, finance,
// auditors and admins, served at /admin/{tenant}/ (web/pages/admin.html).
// It talks to the documented HTTP API only, signed in by the session cookie
// (HttpOnly; the page never sees it) and sending the session's CSRF token
// with every change. German first; every error is a sentence.
//
// Views (the URL fragment): #/heute (today), #/kalender (a week across
// resources), #/buchungen (search), #/freigaben (the approval queue),
// #/telefon (a booking taken on the telephone), #/buchung/<id> (details,
// history, actions, reschedule), #/finanzen (open items, files, exports,
// closing) with /rechnungen, /zahlungen, /gutschriften and /buecher (journal,
// balances, revenue), #/rechnung/<id>, #/protokoll (the log),
// #/einrichtung[/<resource>] (resources, rules, course dates, holidays;
// admins), #/tarife, #/zusatzleistungen, #/auftritt (the widget's look and
// the sites that embed it) and
// #/konten (accounts, admins); #/statistik (usage per month, resource and
// group); #/kunden (customers, groups, rights) and
// #/kunde/<id> (group, billing profile, qualifications);
// /admin/{tenant}/join#token=… accepts an invitation.
//
// The same module is the operator's pages at /betrieb/ (data-mode
// "operator"): the operator's own accounts sign in the same way, against
// /v1/operator/…, and see #/mandanten (every tenant, its state and
// integrity alarms; a new tenant with its first admin), #/sicherungen
// (backups), #/konten (operator accounts) and #/ich.

const root = document.querySelector("[data-saalbuch-admin]");
const OPERATOR = root.dataset.mode === "operator";
const TENANT = root.dataset.tenant;
const enc = encodeURIComponent;
const API = OPERATOR ? "/v1/operator" : `/v1/tenants/${enc(TENANT)}`;
const HOME = OPERATOR ? "/betrieb/" : `/admin/${enc(TENANT)}/`;

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
// Operator accounts have the one role "admin" of the operator's own log.
const roleText = (r) => (OPERATOR ? "Betrieb" : ROLE[r] || r);
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
// A history entry in words; a mail the notifier skipped (no address, an
// erased contact, a hold already decided) is not said to be sent.
const historyText = (e) => (e.event === "notified" && (e.kind || "").startsWith("skipped") ? "keine E-Mail verschickt (keine Adresse oder nicht mehr nötig)" : EVENT[e.event] || e.event);
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
  invalid_file: "Die Datei kann nicht gelesen werden.",
  period_closed: "Dieser Zeitraum ist schon abgeschlossen.",
  invalid_transition: "Das geht im jetzigen Zustand der Buchung nicht.",
  booking_not_started: "Die Buchung hat noch nicht begonnen.",
  version_mismatch: "Die Buchung wurde inzwischen geändert. Die Seite zeigt jetzt den neuen Stand.",
  booking_conflict: "Der Zeitraum ist schon belegt.",
  recipient_required: "Die Rechnung läge über 250 €: Sie muss die vollständige Anschrift nennen (§ 14 UStG). Bitte geben Sie die Rechnungsanschrift an.",
  not_found: "Nicht gefunden.",
  validation_failed: "Bitte prüfen Sie die Angaben.",
  capacity_exceeded: "Dafür ist nicht mehr genug frei.",
  outside_opening_hours: "Das liegt außerhalb der Öffnungszeiten.",
  booking_started: "Die Buchung hat schon begonnen und kann nicht mehr verlegt werden.",
  too_late: "Dafür ist es zu spät.",
  group_exists: "Diese Gruppe gibt es schon.",
  tenant_exists: "Einen Mandanten mit dieser Kennung gibt es schon.",
  unknown_time_zone: "Diese Zeitzone kennt der Server nicht. Bitte geben Sie sie so an wie „Europe/Berlin“.",
  backup_running: "Es läuft schon eine Sicherung. Bitte warten Sie, bis sie fertig ist.",
  totp_failed: "Der Code stimmt nicht, ist abgelaufen oder wurde schon benutzt. Bitte warten Sie auf den nächsten Code.",
  totp_required: "Ihre Rolle muss sich mit einem zweiten Faktor anmelden; er lässt sich deshalb nicht entfernen.",
  totp_setup_required: "Bitte richten Sie zuerst die Anmeldung mit zweitem Faktor ein.",
  no_totp: "Für dieses Konto ist kein zweiter Faktor eingerichtet.",
  last_admin_key: "Das ist der letzte Verwaltungs-Schlüssel ohne Ablauf; legen Sie erst einen neuen an oder erneuern Sie ihn.",
  key_rotated: "Dieser Schlüssel wurde schon erneuert; erneuern Sie seinen Nachfolger.",
  customer_exists: "Diese Kennung ist schon vergeben.",
  unknown_group: "Diese Gruppe gibt es nicht.",
  quota_needs_customers: "Ein Kontingent zählt je Kundin/Kunde; die Öffentlichkeit bucht ohne Anmeldung und kann keins haben.",
  already_revoked: "Das ist schon widerrufen.",
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

// The log position of the newest change this page made: every later read
// asks for at least that position, so a clerk never sees the page forget
// what was just saved (projections follow the log a moment later).
let written = 0;

// `type`: the body's media type; JSON bodies are given as values, any
// other (an uploaded file's text) as the string to send; `extra`: more
// request headers (If-Match).
async function api(method, path, body, type = "application/json", extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (method !== "GET") {
    headers["Saalbuch-CSRF"] = csrf;
    headers["Idempotency-Key"] = crypto.randomUUID();
  } else if (written > 0) {
    headers["Saalbuch-Min-Position"] = String(written);
  }
  if (body !== undefined) headers["Content-Type"] = type;
  let res;
  try {
    res = await fetch(path.startsWith("/v1/") ? path : API + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : body,
    });
  } catch {
    throw new ApiError(0, { code: "network", detail: "Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung." });
  }
  const position = Number(res.headers.get("Saalbuch-Position"));
  if (method !== "GET" && res.ok && position > written) written = position;
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

// The API's field names → the labels a clerk sees in the forms.
const FIELD = {
  resource: "Raum / Gerät",
  start: "Beginn",
  end: "Ende",
  units: "Anzahl",
  customer: "Kundin/Kunde",
  "contact.name": "Name",
  "contact.email": "E-Mail-Adresse",
  "contact.phone": "Telefon",
  "contact.notes": "Notiz",
  "contact.address": "Rechnungsanschrift",
  "contact.address.name": "Name auf der Rechnung",
  "contact.address.street": "Straße und Hausnummer",
  "contact.address.postcode": "Postleitzahl",
  "contact.address.city": "Ort",
  "contact.address.country": "Land",
  email: "E-Mail-Adresse",
  name: "Name",
  id: "Kennung",
  group: "Gruppe",
  qualification: "Qualifikation",
  valid_until: "Gültig bis",
  basis: "Grundlage",
  quota_minutes: "Kontingent",
  role: "Rolle",
};

function sentence(err) {
  const p = err.problem || {};
  if (p.code === "network") return p.detail;
  let text = PROBLEM[p.code] || p.detail || "Das hat nicht geklappt. Bitte versuchen Sie es erneut.";
  const fields = p.details && p.details.fields;
  if (p.code === "validation_failed" && fields) {
    const names = Array.isArray(fields) ? fields.map((f) => f.field) : Object.keys(fields);
    if (names.length) text = `Bitte prüfen Sie: ${[...new Set(names.map((n) => FIELD[n] || n))].join(", ")}.`;
  }
  return text;
}

// "2026-12-06T10:00:00+01:00" → "Sa., 06.12.2026", "10:00"
function localDay(s) {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number);
  const wd = new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("de-DE", { weekday: "short", timeZone: "UTC" });
  return `${wd} ${String(d).padStart(2, "0")}.${String(m).padStart(2, "0")}.${y}`;
}
const localTime = (s) => s.slice(11, 16);
const when = (b) => `${localDay(b.start_local)}, ${localTime(b.start_local)}–${localTime(b.end_local)} Uhr`;
function utcText(s, timeStyle = "short") {
  return new Date(s).toLocaleString("de-DE", { dateStyle: "medium", timeStyle, timeZone: tenant.time_zone || "Europe/Berlin" });
}
const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
function euro(m) {
  return (m.amount / 100).toLocaleString("de-DE", { style: "currency", currency: m.currency || "EUR" });
}
const cents = (amount, currency = "EUR") => euro({ amount, currency });
function actorText(a) {
  if (!a) return "";
  if (a.startsWith("account:")) return accountNames.get(a.slice(8)) || `Konto ${a.slice(8)}`;
  if (a.startsWith("key:")) return `API-Schlüssel ${a.slice(4)}`;
  if (a.startsWith("operator:")) return `Betrieb (Konto ${a.slice(9)})`;
  return { public: "Bürgerin/Bürger (online)", "manage-token": "Buchende Person", "customer-token": "Kundin/Kunde", system: "Saalbuch (automatisch)", provider: "Zahlungsdienst", operator: "Betrieb" }[a] || a;
}
const accountNames = new Map();

const may = {
  book: () => me && (me.role === "admin" || me.role === "staff"),
  seeBookings: () => me && me.role !== "finance",
  accounts: () => me && me.role === "admin",
  setup: () => me && me.role === "admin",
  seeFinance: () => me && me.role !== "staff",
  finance: () => me && (me.role === "admin" || me.role === "finance"),
  audit: () => me && (me.role === "admin" || me.role === "auditor"),
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
// The tenant zone's offset from UTC at instant `ms`, in minutes.
function offsetMinutes(ms) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: tenant.time_zone, timeZoneName: "longOffset" })
    .formatToParts(new Date(ms))
    .find((x) => x.type === "timeZoneName").value; // "GMT+01:00", or "GMT" for UTC itself
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}
const pad2 = (n) => String(n).padStart(2, "0");
// A local day and time of the tenant ("2027-03-02", "10:30") → RFC 3339
// with the offset that holds then ("2027-03-02T10:30:00+01:00").
function zoned(day, time) {
  const [y, mo, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  let utc = wall - offsetMinutes(wall) * 60e3;
  utc = wall - offsetMinutes(utc) * 60e3;
  const off = offsetMinutes(utc);
  const a = Math.abs(off);
  return `${day}T${pad2(hh)}:${pad2(mm)}:00${off < 0 ? "-" : "+"}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}
// "YYYY-MM-DD" plus `n` days.
function addDays(day, n) {
  const t = new Date(`${day}T12:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}
// The Monday of the week of `day`.
function monday(day) {
  const wd = (new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -wd);
}
// The tenant's local day [day, day + 1) as the availability query's window.
function dayWindow(day) {
  const utc = (d) => new Date(zoned(d, "00:00")).toISOString().slice(0, 19) + "Z";
  return `from=${enc(utc(day))}&to=${enc(utc(addDays(day, 1)))}`;
}
// What is free of `resource` on local `day`, as a sentence.
async function freeSentence(resource, day) {
  const a = await api("GET", `/resources/${enc(resource)}/availability?${dayWindow(day)}`);
  if (!a.free || a.free.length === 0) return `Am ${localDay(day)} ist ${resourceName(resource)} nicht frei.`;
  const ranges = a.free.map((f) => `${localTime(f.start_local)}–${f.end_local.slice(0, 10) > day ? "24:00" : localTime(f.end_local)}`);
  return `Frei am ${localDay(day)}: ${ranges.join(", ")} Uhr.`;
}

// A hint beside a day's input: what is free of the resource that day,
// drawn again when the day changes (and by its refresh()).
function freeHint(resourceOf, day) {
  const hint = h("p", { class: "hint", "aria-live": "polite" });
  hint.refresh = async () => {
    hint.textContent = "";
    if (!resourceOf() || !day.value) return;
    try {
      hint.textContent = await freeSentence(resourceOf(), day.value);
    } catch (e) {
      hint.textContent = sentence(e);
    }
  };
  day.addEventListener("change", hint.refresh);
  return hint;
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
  document.title = `${title} – Saalbuch ${OPERATOR ? "Betrieb" : "Verwaltung"}`;
  const heading = h("h1", { tabindex: "-1" }, title);
  main().replaceChildren(heading, ...content);
  const region = main().querySelector('[role="status"], [role="alert"]');
  if (flash && region) say(region, flash, "ok");
  flash = "";
  heading.focus();
  return heading;
}

// The page a view drew (page()'s heading) while it is still the one shown;
// otherwise a detached element, so that a view whose data arrives after the
// person moved on adds nothing to the next page.
const later = (here) => (main().firstChild === here ? main() : document.createElement("div"));

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

// A booking's door code for the clerk: the code and its window, what is
// still waiting, or why the lock provider did not make it.
function doorText(d) {
  const failure = d.failure
    ? ` Schloss-Anbieter: ${d.failure.refused ? "abgelehnt" : "nicht erreichbar, es wird weiter versucht"} (${d.failure.reason}).`
    : "";
  const changing = d.pending ? " (wird gerade geändert)" : "";
  if (d.code) return `${d.code} · gültig ${utcText(d.valid_from)} bis ${utcText(d.valid_to)}${changing}.${failure}`;
  if (d.state === "issued") return `ausgegeben, gültig ${utcText(d.valid_from)} bis ${utcText(d.valid_to)}${changing}.${failure}`;
  if (d.state === "revoked") return `gesperrt.${failure}`;
  return `wird erstellt.${failure}`;
}

async function viewToday() {
  const day = today();
  const region = h("div", { role: "status" });
  const here = page(`Heute, ${localDay(day)}`, region);
  try {
    const list = (await bookings(windowFor(day, day))).filter((b) => b.start_local.startsWith(day));
    const open = list.filter((b) => !["cancelled", "rejected", "expired"].includes(b.status));
    const byResource = new Map();
    for (const b of open) byResource.set(b.resource, [...(byResource.get(b.resource) || []), b]);
    const sections = [...byResource.entries()].map(([r, l]) => h("section", {}, h("h2", {}, resourceName(r)), bookingTable(l, `Buchungen heute: ${resourceName(r)}`)));
    later(here).append(...(sections.length ? sections : [h("p", { class: "empty" }, "Heute ist nichts gebucht.")]));
    const waiting = (await bookings(`status=requested&${windowFor(day, "2100-01-01")}`)).length;
    if (waiting > 0) later(here).append(h("p", {}, h("a", { href: "#/freigaben" }, `${waiting} Anfrage${waiting === 1 ? "" : "n"} warten auf Freigabe.`)));
    // Door codes the lock provider refused or could not be reached for.
    const failed = may.book() ? (await api("GET", "/doors?state=failed")).items : [];
    if (failed.length > 0) {
      later(here).append(
        h("section", { "aria-labelledby": "doors-failed" },
          h("h2", { id: "doors-failed" }, "Türcodes mit Problemen"),
          h("ul", {}, failed.map((d) => h("li", {}, h("a", { href: `#/buchung/${enc(d.booking)}` }, `${resourceName(d.resource)}, ${utcText(d.start)}`), `: ${doorText(d)}`)))),
      );
    }
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
  const customer = h("input", { id: "f-customer", name: "customer", value: params.get("customer") || "", list: "f-customers", autocomplete: "off" });
  const email = h("input", { id: "f-email", name: "email", type: "email", value: params.get("email") || "", autocomplete: "off" });
  const person = h("input", { id: "f-person", name: "person", value: params.get("person") || "", autocomplete: "off", placeholder: "z. B. Muster" });
  const customers = h("datalist", { id: "f-customers" });
  api("GET", "/customers")
    .then((r) => customers.append(...(r.items || []).map((c) => h("option", { value: c.id }, customerText(c)))))
    .catch(() => {});
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const c of [number, status, resource, customer, email, person, from, to]) if (c.value.trim()) q.set(c.name, c.value.trim());
        location.hash = `#/buchungen?${q}`;
      },
    },
    field("Buchungsnummer", number),
    field("Status", status),
    field("Raum / Gerät", resource),
    field("Kundin/Kunde", customer),
    customers,
    field("E-Mail-Adresse", email),
    field("Name der Person", person),
    field("von", from),
    field("bis", to),
    h("button", { type: "submit" }, "Suchen"),
  );
  page("Buchungen", form, region, result);
  if (email.value.trim()) return searchPersons({ email: email.value.trim() }, region, result);
  if (person.value.trim()) return searchPersons({ name: person.value.trim() }, region, result);
  try {
    const first = from.value || today();
    const last = to.value || "2100-01-01";
    let q = windowFor(first, last);
    if (status.value) q += `&status=${enc(status.value)}`;
    if (resource.value) q += `&resource=${enc(resource.value)}`;
    if (customer.value.trim()) q += `&customer=${enc(customer.value.trim())}`;
    let list = (await bookings(q)).filter((b) => b.start_local.slice(0, 10) >= first && b.start_local.slice(0, 10) <= last);
    const n = number.value.trim().toUpperCase();
    if (n) list = list.filter((b) => b.number.includes(n));
    result.replaceChildren(pager(list, (part) => bookingTable(part, count(list.length, "Buchung", "Buchungen"))));
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// Every booking of the persons an e-mail address stood for, or of those
// whose name has the words given (found by the server's blind indexes,
// whatever the dates), erased persons marked; admins get the person's data
// as JSON for a request for information (Art. 15).
async function searchPersons(query, region, result) {
  try {
    const found = await api("GET", `/persons?${new URLSearchParams(query)}`);
    const items = found.items || [];
    const what = query.email ? `der E-Mail-Adresse ${query.email}` : `„${query.name}“ im Namen`;
    if (items.length === 0) return result.replaceChildren(h("p", { class: "empty" }, `Keine Buchungen mit ${what}.`));
    const title = (p) => {
      if (p.erased) return `${query.email || "Person"}: Daten gelöscht`;
      return query.email ? query.email : [p.name, p.email].filter(Boolean).join(", ") || "ohne Namen";
    };
    result.replaceChildren(
      ...(found.more ? [h("p", {}, "Mehr als 50 Personen passen; die ersten 50 stehen hier. Geben Sie mehr vom Namen an.")] : []),
      ...items.map((p) =>
        h(
          "section",
          {},
          h("h2", {}, title(p)),
          bookingTable(p.bookings, count(p.bookings.length, "Buchung", "Buchungen")),
          may.accounts() && !p.erased ? h("p", {}, h("a", { href: `${API}/persons/${enc(p.person)}/export`, download: `auskunft-${p.person}.json` }, "Auskunft nach Art. 15 DSGVO (JSON)")) : "",
        ),
      ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// After a change: says what was done and shows the new state a moment
// later (unless the person went elsewhere meanwhile), saying it again on
// the redrawn page.
let flash = "";
function saved(region, text) {
  say(region, text, "ok");
  const here = location.hash;
  setTimeout(() => {
    if (location.hash !== here || !me) return;
    flash = text;
    route();
  }, 800);
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
  const here = page("Freigaben", h("p", {}, "Anfragen, die auf eine Entscheidung warten, die früheste zuerst."), region);
  try {
    const list = await bookings(`status=requested&${windowFor(today(), "2100-01-01")}`);
    if (list.length === 0) return later(here).append(h("p", { class: "empty" }, "Keine offenen Anfragen."));
    later(here).append(
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

function actions(b, region, which, ...more) {
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
              saved(region, `${b.number}: ${ACTIONS[a].done}`);
            } catch (err) {
              say(region, `${b.number}: ${sentence(err)}`, "error");
              e.target.disabled = false;
            }
          },
        },
        ACTIONS[a].label,
      ),
    ),
    more,
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
  // Its invoice, if it has one (404 otherwise): finance opens it here,
  // a clerk gets the PDF to hand over.
  const inv = await api("GET", `/bookings/${enc(id)}/invoice`).catch(() => null);
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
    b.door ? ["Türcode", doorText(b.door)] : null,
    inv ? ["Rechnung", h("span", {}, may.seeFinance() ? invoiceLink(inv.id, inv.number) : pdfLink(`/invoices/${enc(inv.id)}.pdf`, `${inv.number} (PDF)`), ` · ${cents(inv.gross, inv.currency)}, ${INVOICE_STATUS[inv.status] || inv.status}`)] : null,
  ].filter(Boolean);
  // Completed or not shown up: only once the booking has begun.
  const begun = new Date(b.start) <= new Date();
  const possible = {
    requested: ["approve", "reject"],
    confirmed: begun ? ["complete", "no_show"] : [],
    held: [],
  }[b.status] || [];
  const cancellable = ["requested", "held", "confirmed"].includes(b.status);
  const cancelBox = h("div", {});
  const eraseBox = h("div", {});
  page(
    `Buchung ${b.number}`,
    region,
    h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    may.book() && (possible.length || cancellable)
      ? h(
          "section",
          { "aria-label": "Aktionen" },
          actions(
            b,
            region,
            possible,
            cancellable && !b.session && !begun ? h("button", { type: "button", class: "secondary", onclick: () => askReschedule(b, cancelBox, region) }, "Verlegen …") : "",
            cancellable ? h("button", { type: "button", class: "danger", onclick: () => askCancel(b, cancelBox, region) }, "Stornieren …") : "",
          ),
          cancelBox,
        )
      : "",
    // A person's request to erase their data (DSGVO Art. 17): admins.
    may.setup() && b.person && !c.erased
      ? h("section", { "aria-label": "Personenbezogene Daten" }, h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: () => askErase(b, c, eraseBox, region) }, "Daten der Person löschen …")), eraseBox)
      : "",
    h("h2", {}, "Verlauf"),
    h(
      "ol",
      { class: "history" },
      (b.history || []).map((e) => h("li", {}, h("time", { datetime: e.at }, utcText(e.at)), " ", historyText(e), " – ", actorText(e.actor))),
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
  confirmIn(box, region, [h("p", {}, `${b.number} wirklich stornieren? ${text}`), h("label", { for: "cancel-reason" }, "Grund (optional)"), reason], "Ja, stornieren", async () => {
    await api("POST", `/bookings/${enc(b.id)}/cancel`, reason.value ? { reason: reason.value } : {});
    return `${b.number}: Die Buchung ist storniert.`;
  });
}

// Erasure asks first and says what stays: the invoices keep the recipient
// for the legal retention period.
function askErase(b, c, box, region) {
  const what = `Name, E-Mail-Adresse, Telefon und Notizen von ${c.name || "dieser Person"} werden in allen ihren Buchungen unlesbar (DSGVO Art. 17). Das lässt sich nicht rückgängig machen. Die Buchungen selbst und ihr Verlauf bleiben.`;
  confirmIn(box, region, [h("p", {}, what)], "Ja, endgültig löschen", async () => {
    const r = await api("POST", `/persons/${enc(b.person)}/erase`, {});
    const kept = r.invoice_recipient_kept_until ? ` Die Rechnungsanschrift bleibt auf der Rechnung bis ${germanDate(r.invoice_recipient_kept_until)} (Aufbewahrungspflicht nach § 147 AO).` : "";
    return `Die Daten von ${c.name || "der Person"} sind gelöscht, in allen ihren Buchungen.${kept}`;
  });
}

// A question in `box` with a destructive "yes" and a "no": `act` does it and
// returns what to say; the page is then drawn anew.
function confirmIn(box, region, question, yes, act) {
  box.replaceChildren(
    h(
      "form",
      {
        class: "confirm",
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            saved(region, await act());
          } catch (err) {
            say(region, sentence(err), "error");
          }
        },
      },
      question,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, yes), h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Nein")),
    ),
  );
}

async function viewAccounts() {
  const region = h("div", { role: "status" });
  const list = h("div", {});
  const email = h("input", { id: "inv-email", type: "email", required: true, autocomplete: "off" });
  const name = h("input", { id: "inv-name", required: true, autocomplete: "off" });
  const role = h("select", { id: "inv-role" }, Object.entries(ROLE).map(([k, v]) => h("option", { value: k, selected: k === (OPERATOR ? "admin" : "staff") }, v)));
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
            h(
              "p",
              { class: "msg ok" },
              r.invite_mailed
                ? `${name.value} ist eingeladen; die Einladung geht per E-Mail an ${email.value}. Kommt sie nicht an, geben Sie diesen Link weiter (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):`
                : `${name.value} ist eingeladen. Geben Sie ihr/ihm diesen Link (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):`,
            ),
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
    OPERATOR ? "" : field("Rolle", role),
    h("button", { type: "submit" }, "Einladen"),
  );
  if (OPERATOR) page("Betriebskonten", region, h("h2", {}, "Person einladen"), form, invited, h("h2", {}, "Alle Konten"), list, await totpPolicySection(region));
  else page("Konten und Schlüssel", region, h("h2", {}, "Person einladen"), form, invited, h("h2", {}, "Alle Konten"), list, await totpPolicySection(region), await retentionSection(region), keysSection(region));
  drawAccounts(list, region);
}

// Which roles must sign in with a second factor (an admin decides).
async function totpPolicySection(region) {
  let roles = [];
  try {
    roles = (await api("GET", "/totp-policy")).totp_required_roles || [];
  } catch (e) {
    say(region, sentence(e), "error");
  }
  const choices = OPERATOR ? [["admin", "alle Betriebskonten"]] : Object.entries(ROLE);
  const boxes = choices.map(([k, v]) => [k, h("input", { id: `totp-${k}`, type: "checkbox", checked: roles.includes(k) }), v]);
  const form = h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const chosen = boxes.filter(([, box]) => box.checked).map(([k]) => k);
        try {
          await api("PUT", "/totp-policy", { totp_required_roles: chosen });
          say(region, chosen.length ? `Zweiter Faktor ist jetzt Pflicht für: ${chosen.map((k) => (OPERATOR ? "alle Betriebskonten" : ROLE[k])).join(", ")}. Wer noch keinen hat, richtet ihn bei der nächsten Seite ein.` : "Der zweite Faktor ist für keine Rolle mehr Pflicht.", "ok");
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h("h2", {}, "Anmeldung mit zweitem Faktor"),
    h("p", { class: "hint" }, OPERATOR ? "Ist das Kästchen gesetzt, reicht das Passwort allein nicht: Betriebskonten melden sich zusätzlich mit einem Code aus einer Authenticator-App an (TOTP)." : "Für die gewählten Rollen reicht das Passwort allein nicht: Sie melden sich zusätzlich mit einem Code aus einer Authenticator-App an (TOTP)."),
    h("fieldset", {}, h("legend", {}, "Pflicht für"), h("div", { class: "row" }, boxes.map(([k, box, v]) => h("div", { class: "field check" }, box, h("label", { for: `totp-${k}` }, v))))),
    h("button", { type: "submit", class: "secondary" }, "Speichern"),
  );
  return form;
}

// The retention rule (DSGVO Art. 5): after how many days personal data is
// erased, with the list of whom the next run erases, for the admin to check.
async function retentionSection(region) {
  const days = h("input", { id: "ret-days", type: "number", min: "0", max: "3650", inputmode: "numeric" });
  const preview = h("div", { "aria-live": "polite" });
  const draw = async () => {
    const r = await api("GET", "/retention");
    days.value = r.days === null ? "" : String(r.days);
    if (r.days === null) return preview.replaceChildren(h("p", {}, "Keine Löschfrist: Personenbezogene Daten werden nur auf Antrag gelöscht."));
    const when = (iso) => new Date(iso).toLocaleDateString("de-DE", { day: "2-digit", month: "2-digit", year: "numeric" });
    preview.replaceChildren(
      h("p", {}, `Löschfrist: ${r.days} Tage nach der letzten Buchung. Geprüft wird jede ${r.interval_seconds >= 3600 ? "Stunde" : `${r.interval_seconds} Sekunden`}.`),
      r.due_total === 0
        ? h("p", {}, "Beim nächsten Lauf wird niemand gelöscht.")
        : h("div", {}, h("p", {}, `Beim nächsten Lauf werden die Daten von ${count(r.due_total, "Person", "Personen")} gelöscht:`), h("ul", {}, r.due.map((p) => h("li", {}, `${p.name || "ohne Namen"}, letzte Buchung bis ${when(p.last_booking_end)}`)))),
      r.kept_total === 0 ? "" : h("p", {}, `${count(r.kept_total, "Person bleibt", "Personen bleiben")} gespeichert, solange eine Rechnung offen ist.`),
    );
  };
  const save = async (value) => {
    try {
      await api("PUT", "/retention", { days: value });
      say(region, value === null ? "Die Löschfrist ist aufgehoben." : `Löschfrist gespeichert: ${value} Tage nach der letzten Buchung.`, "ok");
      await draw();
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  const form = h(
    "form",
    {
      class: "card-form",
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const n = Number(days.value);
        if (days.value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 3650) return say(region, "Bitte geben Sie eine ganze Zahl von Tagen an, von 0 bis 3650.", "error");
        save(n);
      },
    },
    h("h2", {}, "Löschfrist für personenbezogene Daten"),
    h("p", { class: "hint" }, "Name, E-Mail-Adresse und Telefonnummer einer Person werden so viele Tage nach ihrer letzten Buchung gelöscht, außer eine Rechnung ist noch offen. Die Buchungen selbst bleiben."),
    field("Tage nach der letzten Buchung", days),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Löschfrist speichern"), h("button", { type: "button", class: "secondary", onclick: () => save(null) }, "Löschfrist aufheben")),
    preview,
  );
  try {
    await draw();
  } catch (e) {
    say(region, sentence(e), "error");
  }
  return form;
}

// The signed-in person's own account: password and second factor. With
// `required`, the role must sign in with a second factor and it has none:
// nothing else is reachable until it is set up.
async function viewMe(required) {
  const region = h("div", { role: "status" });
  const parts = [];
  if (required) parts.push(h("p", { class: "msg info" }, "Ihre Rolle meldet sich mit einem zweiten Faktor an. Bitte richten Sie ihn jetzt ein; danach geht es weiter."));
  parts.push(h("dl", { class: "facts" }, [[h("dt", {}, "Name"), h("dd", {}, me.name || "–")], [h("dt", {}, "E-Mail-Adresse"), h("dd", {}, me.email || "–")], [h("dt", {}, "Rolle"), h("dd", {}, roleText(me.role))]]));
  parts.push(me.totp ? totpRemoveForm(region) : await totpSetupForm(region, required));
  if (!required) parts.push(passwordForm(region));
  page("Mein Konto", region, ...parts);
}

// "JBSWY3DPEHPK3PXP…" in groups of four, as one types it into an app.
const grouped = (s) => s.replace(/(.{4})/g, "$1 ").trim();

async function totpSetupForm(region, required) {
  let secret;
  try {
    secret = await api("POST", "/session/totp/secret");
  } catch (e) {
    return h("p", { class: "msg error" }, sentence(e));
  }
  const code = h("input", { id: "totp-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true });
  const note = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api("PUT", "/session/totp", { secret: secret.secret, code: code.value.trim() });
          await loadSession();
          if (required) {
            // On to the pages the role may use; the new fragment renders
            // through the hashchange listener (never both: twice the view).
            flash = "Der zweite Faktor ist eingerichtet. Ab jetzt melden Sie sich mit Passwort und Code an.";
            if (location.hash === "#/ich") return route();
            location.hash = "#/ich";
            return undefined;
          }
          saved(region, "Der zweite Faktor ist eingerichtet. Ab jetzt melden Sie sich mit Passwort und Code an.");
        } catch (err) {
          const fields = (err.problem && err.problem.details && err.problem.details.fields) || [];
          say(note, fields.some((f) => f.field === "code") ? "Der Code passt nicht. Bitte prüfen Sie, ob die Uhr des Telefons stimmt, und geben Sie den aktuellen Code ein." : sentence(err), "error");
          code.focus();
        }
      },
    },
    h("h2", {}, "Zweiten Faktor einrichten"),
    h("ol", {}, h("li", {}, "Öffnen Sie eine Authenticator-App (z. B. FreeOTP, Aegis, Google oder Microsoft Authenticator) und fügen Sie ein Konto hinzu."), h("li", {}, "Geben Sie diesen Schlüssel ein (Art: zeitbasiert):"), h("li", {}, "Tragen Sie den sechsstelligen Code ein, den die App dann zeigt.")),
    h("p", {}, h("code", { class: "invite-link", "data-totp-secret": secret.secret }, grouped(secret.secret))),
    h("p", { class: "hint" }, "Auf dem Telefon selbst: ", h("a", { href: secret.otpauth_uri }, "in der Authenticator-App öffnen"), "."),
    field("Code aus der App", code),
    note,
    h("button", { type: "submit" }, "Einrichten"),
  );
}

function totpRemoveForm(region) {
  const code = h("input", { id: "totp-remove-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api("POST", "/session/totp/remove", { code: code.value.trim() });
          await loadSession();
          saved(region, "Der zweite Faktor ist entfernt. Sie melden sich wieder nur mit dem Passwort an.");
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h("h2", {}, "Zweiter Faktor"),
    h("p", {}, "Eingerichtet: Sie melden sich mit Passwort und dem Code Ihrer Authenticator-App an."),
    field("Aktueller Code zum Entfernen", code),
    h("button", { type: "submit", class: "secondary" }, "Zweiten Faktor entfernen"),
  );
}

function passwordForm(region) {
  const current = h("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true, minlength: "12" });
  const again = h("input", { id: "pw-again", type: "password", autocomplete: "new-password", required: true });
  const note = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        if (next.value.length < 12) return say(note, "Das neue Passwort braucht mindestens 12 Zeichen.", "error");
        if (next.value !== again.value) return say(note, "Die beiden neuen Passwörter sind nicht gleich.", "error");
        try {
          await api("POST", "/session/password", { current_password: current.value, password: next.value });
          current.value = next.value = again.value = "";
          say(note, "");
          say(region, "Das Passwort ist geändert. Andere Sitzungen bleiben angemeldet; „Überall abmelden“ beendet sie.", "ok");
        } catch (err) {
          const fields = (err.problem && err.problem.details && err.problem.details.fields) || [];
          say(note, fields.some((f) => f.field === "current_password") ? "Das bisherige Passwort stimmt nicht." : sentence(err), "error");
        }
      },
    },
    h("h2", {}, "Passwort ändern"),
    h("div", { class: "row" }, field("Bisheriges Passwort", current), field("Neues Passwort", next), field("Neues Passwort wiederholen", again)),
    note,
    h("button", { type: "submit", class: "secondary" }, "Passwort ändern"),
  );
}

// API keys, for machines (a kiosk, the town's web site, an accounting
// import): created with one role, the secret shown once; rotated with a
// grace period, or revoked at once.
const KEY_STATUS = { active: "aktiv", retiring: "abgelöst", revoked: "widerrufen", expired: "abgelaufen" };
function keysSection(region) {
  const list = h("div", {});
  const shown = h("div", {});
  const secret = (text, r) => shown.replaceChildren(h("p", { class: "msg ok" }, text), h("p", {}, "Der geheime Schlüssel, nur jetzt sichtbar (bitte sicher ablegen):"), h("p", {}, h("code", { class: "invite-link" }, r.key)));
  const draw = async () => {
    try {
      const { items } = await api("GET", "/keys");
      const act = async (k, what) => {
        try {
          // The list is drawn anew before the page says what happened.
          if (what === "revoke") {
            await api("POST", `/keys/${enc(k.id)}/revoke`, {});
            await draw();
            say(region, `Schlüssel „${k.label || k.id}“ widerrufen: er gilt ab sofort nicht mehr.`, "ok");
          } else {
            const r = await api("POST", `/keys/${enc(k.id)}/rotate`, { grace_seconds: 86400 });
            await draw();
            secret(`Neuer Schlüssel für „${k.label || k.id}“; der alte gilt noch 24 Stunden.`, r);
          }
        } catch (err) {
          say(region, sentence(err), "error");
        }
      };
      list.replaceChildren(
        listTable(
          count(items.length, "Schlüssel", "Schlüssel"),
          ["Bezeichnung", "Rolle", "Stand", "Angelegt", "Zuletzt benutzt", h("span", { class: "sr" }, "Aktionen")],
          items.map((k) => [
            k.label || k.id,
            ROLE[k.role] || k.role,
            k.status === "retiring" && k.expires ? `abgelöst, gilt bis ${utcText(k.expires)}` : KEY_STATUS[k.status] || k.status,
            `${dateOnly(k.created)}, ${actorText(k.created_by)}`,
            k.last_used ? utcText(k.last_used) : "–",
            k.status === "active"
              ? h("span", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => act(k, "rotate") }, `${k.label || k.id} erneuern`), h("button", { type: "button", class: "danger", onclick: () => act(k, "revoke") }, `${k.label || k.id} widerrufen`))
              : "",
          ]),
        ),
      );
    } catch (e) {
      say(region, sentence(e), "error");
    }
  };
  const label = h("input", { id: "key-label", required: true, maxlength: "200", autocomplete: "off", placeholder: "z. B. Kiosk im Foyer" });
  const role = h("select", { id: "key-role" }, Object.entries(ROLE).map(([k, v]) => h("option", { value: k, selected: k === "staff" }, v)));
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api("POST", "/keys", { role: role.value, label: label.value.trim() });
          label.value = "";
          await draw();
          secret(`Schlüssel „${r.label}“ mit der Rolle ${ROLE[r.role] || r.role} angelegt.`, r);
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    field("Bezeichnung des Schlüssels", label),
    field("Rolle des Schlüssels", role),
    h("button", { type: "submit" }, "Schlüssel anlegen"),
  );
  draw();
  return h("section", {}, h("h2", {}, "API-Schlüssel für Programme"), form, shown, list);
}


async function drawAccounts(box, region) {
  try {
    const { items } = await api("GET", "/accounts");
    box.replaceChildren(
      h(
        "table",
        { class: "list" },
        h("caption", {}, `${items.length} Konten`),
        h("thead", {}, h("tr", {}, ["Name", "E-Mail", "Rolle", "Zustand", "Zweiter Faktor", "Aktion"].map((t) => h("th", { scope: "col" }, t)))),
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
              h("td", {}, OPERATOR ? roleText(a.role) : sel),
              h("td", {}, state),
              h(
                "td",
                {},
                a.totp ? "eingerichtet" : "–",
                a.totp && !own && !a.disabled
                  ? [
                      " ",
                      h(
                        "button",
                        {
                          type: "button",
                          class: "secondary",
                          onclick: async () => {
                            try {
                              await api("POST", `/accounts/${enc(a.id)}/totp/reset`);
                              say(region, `${a.name}: zweiter Faktor zurückgesetzt. Ist er für die Rolle Pflicht, richtet ${a.name} bei der nächsten Anmeldung einen neuen ein.`, "ok");
                              drawAccounts(box, region);
                            } catch (err) {
                              say(region, sentence(err), "error");
                            }
                          },
                        },
                        `Zweiten Faktor von ${a.name || a.id} zurücksetzen`,
                      ),
                    ]
                  : "",
              ),
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

// A booking taken on the telephone: the clerk picks the room and the time
// (what is free that day is shown beside it), notes the caller's contact,
// and the API checks the booking exactly as any other. A clash is
// explained with the day's free times.
async function viewPhone(params) {
  const region = h("div", { role: "status" });
  const bookable = resources.filter((r) => r.kind !== "event");
  const resource = h("select", { id: "t-resource", required: true }, bookable.map((r) => h("option", { value: r.id, selected: params.get("resource") === r.id }, r.name)));
  const day = h("input", { id: "t-day", type: "date", required: true, value: params.get("tag") || today(), min: today() });
  const start = h("input", { id: "t-start", type: "time", required: true, step: "900", value: "10:00" });
  const end = h("input", { id: "t-end", type: "time", required: true, step: "900", value: "12:00" });
  const name = h("input", { id: "t-name", required: true, autocomplete: "off", maxlength: "200" });
  const phone = h("input", { id: "t-phone", type: "tel", autocomplete: "off", maxlength: "50" });
  const email = h("input", { id: "t-email", type: "email", autocomplete: "off", maxlength: "254", "aria-describedby": "t-email-hint" });
  const notes = h("textarea", { id: "t-notes", rows: "2", maxlength: "2000" });
  const addressName = h("input", { id: "t-address-name", autocomplete: "off", maxlength: "200" });
  const street = h("input", { id: "t-street", autocomplete: "off", maxlength: "200" });
  const postcode = h("input", { id: "t-postcode", autocomplete: "off", maxlength: "16", inputmode: "numeric" });
  const city = h("input", { id: "t-city", autocomplete: "off", maxlength: "100" });
  const customer = h("select", { id: "t-customer" }, h("option", { value: "" }, "keine (Privatperson)"));
  // A club's weekly evening: the same time every week or every other week.
  const repeat = h("select", { id: "t-repeat" }, h("option", { value: "" }, "nein, einmal"), h("option", { value: "1" }, "jede Woche"), h("option", { value: "2" }, "alle zwei Wochen"));
  const until = h("input", { id: "t-until", type: "date", min: today() });
  const skip = h("input", { id: "t-skip", type: "checkbox" });
  const repeatParts = h("div", { class: "repeat", hidden: true }, field("bis einschließlich", until), h("div", { class: "field check" }, skip, h("label", { for: "t-skip" }, "Belegte Termine auslassen und die übrigen buchen")));
  repeat.addEventListener("change", () => (repeatParts.hidden = !repeat.value));
  const free = freeHint(() => resource.value, day);
  const showFree = free.refresh;
  resource.addEventListener("change", showFree);
  const form = h(
    "form",
    {
      class: "booking-form",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        if (!name.value.trim()) return say(region, "Bitte geben Sie den Namen der anrufenden Person an.", "error");
        if (!day.value || !start.value || !end.value) return say(region, "Bitte geben Sie Tag, Beginn und Ende an.", "error");
        if (end.value <= start.value) return say(region, "Das Ende muss nach dem Beginn liegen.", "error");
        if (repeat.value && (!until.value || until.value <= day.value)) return say(region, "Bitte geben Sie an, bis zu welchem Tag (nach dem ersten) sich die Buchung wiederholt.", "error");
        const body = {
          resource: resource.value,
          start: zoned(day.value, start.value),
          end: zoned(day.value, end.value),
          contact: { name: name.value.trim(), phone: phone.value.trim(), email: email.value.trim(), notes: notes.value.trim(), language: "de" },
        };
        if (customer.value) body.customer = customer.value;
        if (street.value.trim() || postcode.value.trim() || city.value.trim()) {
          body.contact.address = { street: street.value.trim(), postcode: postcode.value.trim(), city: city.value.trim() };
          if (addressName.value.trim()) body.contact.address.name = addressName.value.trim();
        }
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        try {
          if (repeat.value) {
            body.rrule = `FREQ=WEEKLY;INTERVAL=${repeat.value};UNTIL=${until.value.replaceAll("-", "")}T235959Z`;
            body.mode = skip.checked ? "skip_conflicts" : "all_or_nothing";
            const r = await api("POST", "/series", body);
            const booked = r.occurrences.filter((o) => o.outcome === "booked");
            const left = r.occurrences.filter((o) => o.outcome !== "booked");
            region.replaceChildren(
              h("p", { class: "msg ok" }, `Serie gebucht: ${count(booked.length, "Termin", "Termine")}, ${resourceName(r.resource)}, ${localTime(booked[0].start_local)}–${localTime(booked[0].end_local)} Uhr.${left.length ? ` Ausgelassen, weil belegt oder nicht buchbar: ${left.map((o) => localDay(o.start_local)).join(", ")}.` : ""}`),
              h("ul", {}, booked.map((o) => h("li", {}, h("a", { href: `#/buchung/${enc(o.booking)}` }, o.number), ` ${localDay(o.start_local)}`))),
            );
          } else {
            const b = await api("POST", "/bookings", body);
            region.replaceChildren(
              h("p", { class: "msg ok" }, `Gebucht: ${b.number}, ${resourceName(b.resource)}, ${when(b)} (${STATUS[b.status] || b.status}). `, h("a", { href: `#/buchung/${enc(b.id)}` }, "Zur Buchung")),
            );
          }
          name.value = phone.value = email.value = notes.value = "";
          addressName.value = street.value = postcode.value = city.value = "";
          showFree();
        } catch (err) {
          const code = err.problem && err.problem.code;
          if (code === "series_conflict" || code === "no_occurrence_bookable") {
            const refused = ((err.problem.details || {}).occurrences || []).filter((o) => o.outcome === "refused");
            const why = refused.map((o) => `${localDay(o.start_local)}: ${PROBLEM[o.code] || o.detail}`).join(" ");
            return say(region, code === "series_conflict" ? `Nichts gebucht, denn nicht jeder Termin ist frei. ${why} Mit „Belegte Termine auslassen“ werden die übrigen gebucht.` : `Nichts gebucht: Kein Termin der Serie ist frei. ${why}`, "error");
          }
          const clash = ["booking_conflict", "capacity_exceeded", "outside_opening_hours"].includes(code);
          say(region, clash ? `${sentence(err)} ${await freeSentence(resource.value, day.value).catch(() => "")}` : sentence(err), "error");
        } finally {
          button.disabled = false;
        }
      },
    },
    h("fieldset", {}, h("legend", {}, "Was und wann"), field("Raum / Gerät", resource), field("Tag", day), field("Beginn", start), field("Ende", end), field("Wiederholen", repeat), repeatParts, free),
    h(
      "fieldset",
      {},
      h("legend", {}, "Wer bucht"),
      field("Name", name),
      field("Telefon", phone),
      field("E-Mail-Adresse (optional)", email),
      h("p", { class: "hint", id: "t-email-hint" }, "Mit E-Mail-Adresse bekommt die Person die Bestätigung und den Link zum Verwalten."),
      field("Verein / Kundin (optional)", customer),
      field("Notiz", notes),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Rechnungsanschrift"),
      h("p", { class: "hint" }, "Nötig, wenn die Rechnung über 250 € liegt (§ 14 UStG); sonst freiwillig."),
      field("Rechnung an (z. B. ein Verein; sonst leer lassen)", addressName),
      field("Straße und Hausnummer", street),
      field("Postleitzahl", postcode),
      field("Ort", city),
    ),
    h("button", { type: "submit" }, "Buchen"),
  );
  page("Telefonbuchung", region, form);
  showFree();
  try {
    const { items } = await api("GET", "/customers");
    groupsCache = await api("GET", "/groups").then((r) => r.items || []).catch(() => groupsCache);
    customer.append(...items.map((c) => h("option", { value: c.id }, `${customerText(c)}, ${groupName(c.group)}`)));
  } catch {
    // without the list a private caller can still be booked
  }
}

// Moving a booking: a new day and time, checked by the API as a new booking
// would be (opening hours, clashes, the booking not yet begun).
function askReschedule(b, box, region) {
  const day = h("input", { id: "r-day", type: "date", required: true, value: b.start_local.slice(0, 10), min: today() });
  const start = h("input", { id: "r-start", type: "time", required: true, step: "900", value: localTime(b.start_local) });
  const end = h("input", { id: "r-end", type: "time", required: true, step: "900", value: localTime(b.end_local) });
  const free = freeHint(() => b.resource, day);
  box.replaceChildren(
    h(
      "form",
      {
        class: "confirm",
        novalidate: true,
        onsubmit: async (e) => {
          e.preventDefault();
          if (!day.value || !start.value || !end.value || end.value <= start.value) return say(region, "Bitte geben Sie einen Tag und ein Ende nach dem Beginn an.", "error");
          try {
            await api("POST", `/bookings/${enc(b.id)}/reschedule`, { start: zoned(day.value, start.value), end: zoned(day.value, end.value) });
            saved(region, `${b.number}: Die Buchung ist verlegt auf ${localDay(day.value)}, ${start.value}–${end.value} Uhr.`);
          } catch (err) {
            say(region, `${sentence(err)} ${err.problem && err.problem.code === "booking_conflict" ? free.textContent : ""}`.trim(), "error");
          }
        },
      },
      h("p", {}, `${b.number} verlegen (${resourceName(b.resource)}):`),
      h("div", { class: "row" }, field("Neuer Tag", day), field("Beginn", start), field("Ende", end)),
      free,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Verlegen"), h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Abbrechen")),
    ),
  );
  free.refresh();
  day.focus();
}

// A week across resources (or one): a row per resource, a column per day,
// the bookings in each cell coloured by status.
async function viewWeek(params) {
  const region = h("div", { role: "status" });
  const first = monday(params.get("woche") || today());
  const days = [...Array(7).keys()].map((i) => addDays(first, i));
  const only = params.get("resource") || "";
  const all = params.get("alle") === "1";
  const go = (week, resource = only, withAll = all) => {
    const q = new URLSearchParams({ woche: week });
    if (resource) q.set("resource", resource);
    if (withAll) q.set("alle", "1");
    location.hash = `#/kalender?${q}`;
  };
  const pick = h("select", { id: "w-resource", onchange: (e) => go(first, e.target.value) }, h("option", { value: "" }, "alle"), resources.map((r) => h("option", { value: r.id, selected: r.id === only }, r.name)));
  const cancelled = h("input", { id: "w-all", type: "checkbox", checked: all, onchange: (e) => go(first, only, e.target.checked) });
  const bar = h(
    "div",
    { class: "filters" },
    h("button", { type: "button", class: "secondary", onclick: () => go(addDays(first, -7)) }, "‹ Vorige Woche"),
    h("button", { type: "button", class: "secondary", onclick: () => go(today()) }, "Diese Woche"),
    h("button", { type: "button", class: "secondary", onclick: () => go(addDays(first, 7)) }, "Nächste Woche ›"),
    field("Raum / Gerät", pick),
    h("div", { class: "field check" }, cancelled, h("label", { for: "w-all" }, "auch stornierte und abgelehnte")),
  );
  const here = page(`Woche vom ${localDay(first)}`, bar, region);
  try {
    let list = await bookings(`${windowFor(first, days[6])}${only ? `&resource=${enc(only)}` : ""}`);
    list = list.filter((b) => b.start_local.slice(0, 10) >= first && b.start_local.slice(0, 10) <= days[6]);
    if (!all) list = list.filter((b) => !["cancelled", "rejected", "expired"].includes(b.status));
    list.sort((a, b) => a.start.localeCompare(b.start));
    const rows = (only ? resources.filter((r) => r.id === only) : resources).filter((r) => !r.parent || list.some((b) => b.resource === r.id));
    const short = (d) => new Date(`${d}T12:00:00Z`).toLocaleDateString("de-DE", { weekday: "short", day: "2-digit", month: "2-digit", timeZone: "UTC" });
    later(here).append(
      h(
        "div",
        { class: "week-scroll" },
        h(
          "table",
          { class: "week" },
          h("caption", {}, `${count(list.length, "Buchung", "Buchungen")} in der Woche vom ${localDay(first)} bis ${localDay(days[6])}`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Raum / Gerät"), days.map((d) => h("th", { scope: "col", class: d === today() ? "today" : "" }, short(d))))),
          h(
            "tbody",
            {},
            rows.map((r) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, r.name),
                days.map((d) =>
                  h(
                    "td",
                    { class: d === today() ? "today" : "" },
                    list
                      .filter((b) => b.resource === r.id && b.start_local.startsWith(d))
                      .map((b) => h("a", { class: `slot st-${b.status}`, href: `#/buchung/${enc(b.id)}`, title: `${b.number}: ${STATUS[b.status] || b.status}` }, `${localTime(b.start_local)}–${localTime(b.end_local)}`, h("span", { class: "sr" }, ` ${b.number}, ${STATUS[b.status] || b.status}`))),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
      h("p", { class: "hint" }, "Farben: ", Object.entries(STATUS).map(([k, v]) => [statusChip(k), " "])),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// Finance: open items, the bank's and the payment provider's files with
// what they matched, the exports for the tax office's software, and the
// closing of a period. Auditors see the same without the controls.
async function viewFinance() {
  const region = h("div", { role: "status" });
  const year = Number(today().slice(0, 4));
  const here = page("Finanzen", financeTabs("#/finanzen"), region);
  const open = h("section", {}, h("h2", {}, "Offene Posten"), h("p", { class: "empty" }, "Wird geladen …"));
  later(here).append(open);
  if (may.finance()) later(here).append(uploadSection("Kontoauszug einlesen (CAMT.053)", "camt", ".xml,application/xml,text/xml", "/reconciliation/bank-statements", "application/xml"), uploadSection("Abrechnung des Zahlungsdienstes einlesen (CSV)", "settlement", ".csv,text/csv", "/reconciliation/settlements", "text/csv"));
  const from = h("input", { id: "x-from", type: "date", value: `${year}-01-01` });
  const to = h("input", { id: "x-to", type: "date", value: `${year}-12-31` });
  const links = h("ul", { class: "downloads" });
  const drawLinks = () => {
    const q = `from=${enc(from.value)}&to=${enc(to.value)}`;
    const sameYear = from.value.slice(0, 4) === to.value.slice(0, 4);
    links.replaceChildren(
      h("li", {}, sameYear ? h("a", { href: `${API}/exports/datev.csv?${q}`, download: "" }, "DATEV-Buchungsstapel (EXTF)") : h("span", {}, "DATEV: bitte einen Zeitraum innerhalb eines Jahres wählen")),
      h("li", {}, h("a", { href: `${API}/exports/journal.csv?${q}`, download: "" }, "Journal (CSV)")),
      h("li", {}, h("a", { href: `${API}/exports/open-items.csv`, download: "" }, "Offene Posten (CSV)")),
    );
  };
  from.addEventListener("change", drawLinks);
  to.addEventListener("change", drawLinks);
  drawLinks();
  later(here).append(h("section", {}, h("h2", {}, "Exporte"), h("div", { class: "filters" }, field("von", from), field("bis", to)), links));
  if (may.finance()) later(here).append(closeSection(region));
  try {
    const r = await api("GET", "/open-items");
    const items = r.items || [];
    open.replaceChildren(
      h("h2", {}, "Offene Posten"),
      items.length === 0
        ? h("p", { class: "empty" }, "Keine offenen Posten.")
        : pager(items, (part) =>
            h(
              "table",
              { class: "list" },
              h("caption", {}, `${count(items.length, "offener Posten", "offene Posten")}, zusammen ${cents(r.total_open || 0)}`),
              h("thead", {}, h("tr", {}, ["Rechnung", "Rechnung an", "Kassenzeichen", "Fällig", "Betrag", "Offen", "Buchung"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                part.map((i) =>
                  h(
                    "tr",
                    { class: i.due && i.due < today() ? "overdue" : "" },
                    h("td", {}, invoiceLink(i.invoice || i.id, i.number)),
                    h("td", {}, (i.recipient && (i.recipient.name || (i.recipient.erased && "(gelöscht)"))) || i.customer || "–"),
                    h("td", {}, i.kassenzeichen || "–"),
                    h("td", {}, i.due ? `${localDay(i.due)}${i.due < today() ? " (überfällig)" : ""}` : "–"),
                    h("td", { class: "num" }, cents(i.gross, i.currency)),
                    h("td", { class: "num" }, cents(i.open, i.currency)),
                    h("td", {}, i.booking && may.seeBookings() ? h("a", { href: `#/buchung/${enc(i.booking)}` }, "ansehen") : "–"),
                  ),
                ),
              ),
            ),
          ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// A file upload that the server matches: what was matched, what was not
// (for a person to look at), and what had been there before.
function uploadSection(title, id, accept, path, type) {
  const input = h("input", { id: `u-${id}`, type: "file", accept, required: true });
  const report = h("div", { role: "status" });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (e) => {
        e.preventDefault();
        const file = input.files[0];
        if (!file) return say(report, "Bitte wählen Sie eine Datei.", "error");
        if (file.size > 8 * 1024 * 1024) return say(report, "Die Datei ist größer als 8 MB.", "error");
        try {
          const r = await api("POST", `${path}?name=${enc(file.name)}`, await file.text(), type);
          report.replaceChildren(matchReport(file.name, r));
        } catch (err) {
          say(report, `${file.name}: ${sentence(err)}${err.problem && err.problem.code === "invalid_file" && err.problem.detail ? ` (${err.problem.detail})` : ""}`, "error");
        }
      },
    },
    field("Datei", input),
    h("button", { type: "submit" }, "Einlesen"),
  );
  return h("section", {}, h("h2", {}, title), form, report);
}

// Why a bank line stayed unmatched, for the treasurer who checks it by hand:
// the server's reason in words, and the invoices it names or that are open
// with the same amount (never matched by amount alone).
function unmatchedWhy(u) {
  const named = (u.candidates || []).join(", ");
  const code = u.reason && u.reason.code;
  if (code === "dated_before_invoice") return `Gebucht vor dem Datum der Rechnung ${named}: Datum oder Rechnung prüfen.`;
  if (code === "before_books_begin") return `Gebucht vor Beginn der Buchführung in Saalbuch${named ? ` (nennt ${named})` : ""}.`;
  if ("payout" in u) return "Der Zahlungsdienst nennt eine Zahlung, die Saalbuch nicht kennt.";
  if (!("reference" in u)) return "";
  return named ? `Keine eindeutige Rechnung genannt; in Frage kommt: ${named}.` : "Keine Rechnung genannt und keine offene mit diesem Betrag.";
}

function matchReport(name, r) {
  if (r.already_imported) return h("p", { class: "msg info" }, `${name} wurde schon eingelesen; es hat sich nichts geändert.`);
  const matched = r.matched || [];
  const unmatched = r.unmatched || [];
  const duplicates = r.duplicates || [];
  return h(
    "div",
    {},
    h("p", { class: `msg ${unmatched.length ? "info" : "ok"}` }, `${name}: ${matched.length} zugeordnet, ${unmatched.length} nicht zugeordnet${duplicates.length ? `, ${duplicates.length} schon früher zugeordnet` : ""}.`),
    unmatched.length
      ? h(
          "table",
          { class: "list" },
          h("caption", {}, "Nicht zugeordnet – bitte von Hand prüfen"),
          h("thead", {}, h("tr", {}, ["Referenz", "Betrag", "Verwendungszweck", "Warum nicht zugeordnet"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, unmatched.map((u) => h("tr", {}, h("td", {}, u.reference || u.payout || "–"), h("td", { class: "num" }, typeof u.amount === "number" ? cents(u.amount) : "–"), h("td", {}, u.remittance || u.type || ""), h("td", {}, unmatchedWhy(u))))),
        )
      : "",
  );
}

function closeSection(region) {
  const through = h("input", { id: "p-through", type: "date", required: true });
  const box = h("div", {});
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        if (!through.value) return say(region, "Bitte wählen Sie den letzten Tag des Zeitraums.", "error");
        box.replaceChildren(
          h(
            "div",
            { class: "confirm" },
            h("p", {}, `Alle Buchungen bis einschließlich ${localDay(through.value)} werden festgeschrieben. Danach kann in diesem Zeitraum nichts mehr gebucht, storniert oder erstattet werden. Das lässt sich nicht rückgängig machen.`),
            h(
              "div",
              { class: "actions" },
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  onclick: async () => {
                    try {
                      const r = await api("POST", "/periods/close", { through: through.value });
                      box.replaceChildren(h("p", { class: "msg ok" }, `Abgeschlossen bis einschließlich ${localDay(r.closed_through || through.value)}.`));
                    } catch (err) {
                      box.replaceChildren(h("p", { class: "msg error" }, sentence(err)));
                    }
                  },
                },
                "Ja, festschreiben",
              ),
              h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Abbrechen"),
            ),
          ),
        );
      },
    },
    field("Abschließen bis einschließlich", through),
    h("button", { type: "submit", class: "secondary" }, "Abschließen …"),
  );
  return h("section", {}, h("h2", {}, "Zeitraum abschließen"), form, box);
}

// ---- finance: invoices, payments, refunds, credit notes, the books ----

const INVOICE_STATUS = { open: "offen", partly_paid: "teilweise bezahlt", paid: "bezahlt", overpaid: "überzahlt", cancelled: "ganz gutgeschrieben" };
const METHOD = { provider: "online (Zahlungsdienst)", bank_transfer: "Überweisung", cash: "bar" };
const REFUND_STATE = { requested: "offen", submitted: "beim Zahlungsdienst", succeeded: "ausgezahlt", failed: "fehlgeschlagen" };
// The roles of the tenant's accounts (finance settings) in words.
const ACCOUNT_ROLE = {
  bank: "Bank",
  cash: "Kasse",
  clearing: "Geldtransit (Zahlungsdienst)",
  fees: "Nebenkosten des Geldverkehrs",
  receivables: "Forderungen",
  revenue: "Erlöse",
  "revenue@0": "Erlöse steuerfrei",
  "revenue@700": "Erlöse 7 % USt",
  "tax:1900": "Umsatzsteuer 19 %",
  "tax:700": "Umsatzsteuer 7 %",
};

// Every item of a paged list (at most 20 pages of 200).
async function listAll(path) {
  const items = [];
  let cursor = null;
  for (let n = 0; n < 20; n++) {
    const r = await api("GET", `${path}${path.includes("?") ? "&" : "?"}limit=200${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    items.push(...r.items);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// "1.234,50", "90", "12,5 €" → cents; null for anything else.
function parseEuro(text) {
  let t = text.replace(/[\s€]/g, "");
  if (t.includes(",")) t = t.replace(/\.(?=\d{3}(\D|$))/g, "").replace(",", ".");
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}
const euroInput = (c) => (c / 100).toFixed(2).replace(".", ",");

// The recipient an invoice names, on one line ("" for a short invoice).
function recipientText(r) {
  if (!r) return "";
  if (r.erased) return "(gelöscht)";
  if (r.unavailable) return "(nicht lesbar)";
  return [r.name, r.street, [r.postcode, r.city].filter(Boolean).join(" "), r.country && r.country !== "DE" ? r.country : ""].filter(Boolean).join(", ");
}
const dateOnly = (utc) => (utc ? new Date(utc).toLocaleDateString("de-DE", { dateStyle: "medium", timeZone: tenant.time_zone }) : "–");
const invoiceLink = (id, text) => h("a", { href: `#/rechnung/${enc(id)}` }, text || id);
const pdfLink = (path, text) => h("a", { href: `${API}${path}`, target: "_blank", rel: "noopener" }, text);

// A row of links to the pages of one area (`label`), `current` marked.
function tabs(label, list, current) {
  return h("nav", { class: "tabs", "aria-label": label }, h("ul", {}, list.map(([href, text]) => h("li", {}, h("a", { href, "aria-current": href === current ? "page" : null }, text)))));
}

// The pages of Finanzen.
const financeTabs = (current) =>
  tabs(
    "Finanzen",
    [
      ["#/finanzen", "Übersicht"],
      ["#/finanzen/rechnungen", "Rechnungen"],
      ["#/finanzen/zahlungen", "Zahlungen und Erstattungen"],
      ["#/finanzen/gutschriften", "Gutschriften"],
      ["#/finanzen/buecher", "Journal, Salden, Umsatz"],
      ["#/tarife", "Tarife"],
    ],
    current,
  );

function listTable(caption, heads, rows, numeric = []) {
  return h(
    "table",
    { class: "list" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map((t, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { class: numeric.includes(i) ? "num" : null }, c))))),
  );
}

async function viewInvoices(params) {
  const region = h("div", { role: "status" });
  const here = page("Rechnungen", financeTabs("#/finanzen/rechnungen"), region);
  let list;
  try {
    list = (await listAll("/invoices")).sort((a, b) => b.issued_at_us - a.issued_at_us);
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const text = h("input", { id: "i-text", type: "search", value: params.get("text") || "", placeholder: "R-…, B-…, Name" });
  const status = h("select", { id: "i-status" }, h("option", { value: "" }, "alle"), Object.entries(INVOICE_STATUS).map(([k, v]) => h("option", { value: k, selected: params.get("stand") === k }, v)));
  const box = h("div", {});
  const draw = () => {
    const needle = text.value.trim().toLowerCase();
    const shown = list.filter((i) => (!status.value || i.status === status.value) && (!needle || [i.number, i.kassenzeichen, i.booking_number, i.customer, recipientText(i.recipient)].join(" ").toLowerCase().includes(needle)));
    box.replaceChildren(
      shown.length === 0
        ? h("p", { class: "empty" }, "Keine Rechnungen.")
        : pager(shown, (part) =>
            listTable(
              `${count(shown.length, "Rechnung", "Rechnungen")}, neueste zuerst`,
              ["Nummer", "Datum", "Rechnung an", "Buchung", "Betrag", "Offen", "Stand"],
              part.map((i) => [invoiceLink(i.id, i.number), dateOnly(i.issued), recipientText(i.recipient) || "–", i.booking_number || "–", cents(i.gross, i.currency), cents(i.open, i.currency), INVOICE_STATUS[i.status] || i.status]),
              [4, 5],
            ),
          ),
    );
  };
  text.addEventListener("input", draw);
  status.addEventListener("change", draw);
  later(here).append(h("div", { class: "filters" }, field("Suche", text), field("Stand", status)), box);
  draw();
}

async function viewInvoice(id) {
  const region = h("div", { role: "status" });
  let inv;
  try {
    inv = await api("GET", `/invoices/${enc(id)}`);
  } catch (e) {
    page("Rechnung", financeTabs(""), region);
    return say(region, sentence(e), e.status === 404 ? "info" : "error");
  }
  const cur = inv.currency;
  const [receipts, credits, refunds] = await Promise.all([
    Promise.all((inv.receipts || []).map((n) => api("GET", `/receipts/${enc(n)}`).catch(() => ({ receipt: n })))),
    Promise.all((inv.credit_notes || []).map((n) => api("GET", `/credit-notes/${enc(n)}`).catch(() => ({ number: n })))),
    (inv.refunds || []).length ? listAll("/refunds").then((all) => all.filter((r) => r.invoice === inv.id).map((r) => ({ ...r, invoice_number: inv.number }))).catch(() => []) : [],
  ]);
  const r = inv.recipient;
  const facts = [
    ["Stand", INVOICE_STATUS[inv.status] || inv.status],
    ["Ausgestellt am", dateOnly(inv.issued)],
    ["Fällig am", dateOnly(inv.due)],
    ["Kassenzeichen", inv.kassenzeichen || "–"],
    ["Buchung", inv.booking && may.seeBookings() ? h("a", { href: `#/buchung/${enc(inv.booking)}` }, inv.booking_number || inv.booking) : inv.booking_number || "–"],
    ["Rechnung an", r ? recipientText(r) : "Kleinbetragsrechnung (bis 250 €, ohne Anschrift)"],
    r && r.leitweg_id ? ["Leitweg-ID", r.leitweg_id] : null,
    ["Betrag", `${cents(inv.gross, cur)} (netto ${cents(inv.net, cur)}, USt ${cents(inv.tax, cur)})`],
    ["Bezahlt", cents(inv.captured, cur)],
    inv.credited ? ["Gutgeschrieben", cents(inv.credited, cur)] : null,
    inv.refunded ? ["Erstattet", cents(inv.refunded, cur)] : null,
    ["Offen", cents(inv.open, cur)],
  ].filter(Boolean);
  const base = `/invoices/${enc(inv.id)}`;
  const actionBox = h("div", {});
  page(
    `Rechnung ${inv.number}`,
    financeTabs(""),
    region,
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    listTable(
      "Positionen",
      ["Leistung", "Menge", "Einzelpreis", "USt", "Netto", "Brutto"],
      (inv.lines || []).map((l) => [l.description || l.item, (l.quantity_milli / 1000).toLocaleString("de-DE"), cents(l.unit_amount, cur), `${(l.tax_rate_bp / 100).toLocaleString("de-DE")} %`, cents(l.net, cur), cents(l.gross, cur)]),
      [1, 2, 3, 4, 5],
    ),
    h("h2", {}, "Dokumente"),
    h(
      "ul",
      { class: "downloads" },
      h("li", {}, pdfLink(`${base}.pdf`, `Rechnung ${inv.number} (PDF)`)),
      h("li", {}, pdfLink(`${base}/einvoice.xml`, `E-Rechnung ${inv.number} (XML, EN 16931)`)),
      receipts.map((p) => h("li", {}, pdfLink(`/receipts/${enc(p.receipt)}.pdf`, `Zahlungsbeleg ${p.receipt} (PDF)`))),
      credits.map((c) => [h("li", {}, pdfLink(`/credit-notes/${enc(c.number)}.pdf`, `Gutschrift ${c.number} (PDF)`)), h("li", {}, pdfLink(`/credit-notes/${enc(c.number)}/einvoice.xml`, `Gutschrift ${c.number} (XML)`))]),
    ),
    h("h2", {}, "Zahlungen"),
    receipts.length === 0
      ? h("p", { class: "empty" }, "Noch keine Zahlung.")
      : listTable(
          count(receipts.length, "Zahlung", "Zahlungen"),
          ["Eingang", "Art", "Referenz", "Betrag", "Erstattet", "Beleg"],
          receipts.map((p) => [dateOnly(p.received), METHOD[p.method] || p.method || "–", (p.ref || "").replace(/^[a-z_]+:/, ""), p.amount === undefined ? "–" : cents(p.amount, cur), p.refunded ? cents(p.refunded, cur) : "–", pdfLink(`/receipts/${enc(p.receipt)}.pdf`, p.receipt)]),
          [3, 4],
        ),
    refunds.length ? h("section", {}, h("h2", {}, "Erstattungen"), refundTable(refunds, region)) : "",
    credits.length
      ? h("section", {}, h("h2", {}, "Gutschriften"), listTable(count(credits.length, "Gutschrift", "Gutschriften"), ["Nummer", "Datum", "Grund", "Betrag"], credits.map((c) => [c.number, dateOnly(c.issued), c.reason || "–", c.gross === undefined ? "–" : cents(c.gross, cur)]), [3]))
      : "",
    may.finance()
      ? h(
          "section",
          { "aria-label": "Aktionen" },
          h(
            "div",
            { class: "actions" },
            inv.open > 0 ? h("button", { type: "button", onclick: () => askPayment(inv, actionBox, region) }, "Zahlung erfassen …") : "",
            inv.captured - inv.refunded > 0 ? h("button", { type: "button", class: "secondary", onclick: () => askRefund(inv, actionBox, region) }, "Erstatten …") : "",
          ),
          actionBox,
        )
      : "",
  );
}

// A bank transfer or cash paid at the counter, with the receipt it issues.
function askPayment(inv, box, region) {
  const amount = h("input", { id: "pay-amount", inputmode: "decimal", required: true, value: euroInput(inv.open), autocomplete: "off" });
  const method = h("select", { id: "pay-method" }, h("option", { value: "bank_transfer" }, "Überweisung"), h("option", { value: "cash" }, "bar"));
  const reference = h("input", { id: "pay-reference", required: true, maxlength: "100", autocomplete: "off" });
  const received = h("input", { id: "pay-received", type: "date", required: true, value: today(), max: today() });
  const note = h("div", { role: "status" });
  box.replaceChildren(
    h(
      "form",
      {
        class: "confirm",
        onsubmit: async (e) => {
          e.preventDefault();
          const c = parseEuro(amount.value);
          if (c === null || c === 0) return (say(note, "Bitte geben Sie den Betrag in Euro an, zum Beispiel 90,00.", "error"), amount.focus());
          if (!reference.value.trim()) return (say(note, "Bitte geben Sie eine Referenz an: die Zeile des Kontoauszugs oder die Nummer im Kassenbuch.", "error"), reference.focus());
          const body = { amount: { amount: c, currency: inv.currency }, method: method.value, reference: reference.value.trim() };
          if (received.value && received.value !== today()) body.received = new Date(zoned(received.value, "12:00")).toISOString();
          try {
            const r = await api("POST", `/invoices/${enc(inv.id)}/payments`, body);
            box.replaceChildren();
            saved(region, `Zahlung über ${cents(c, inv.currency)} erfasst; Zahlungsbeleg ${r.receipt}. Noch offen: ${euro(r.open)}.`);
          } catch (err) {
            say(note, err.problem && err.problem.code === "payment_exists" ? "Diese Referenz ist für diese Zahlungsart schon gebucht. Es wurde nichts doppelt erfasst." : sentence(err), "error");
          }
        },
      },
      h("p", {}, `Zahlung zu ${inv.number} erfassen (offen: ${cents(inv.open, inv.currency)}).`),
      h("div", { class: "row" }, field("Betrag in €", amount), field("Zahlungsart", method), field("Eingegangen am", received)),
      field("Referenz (Kontoauszug oder Kassenbuch)", reference),
      note,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Zahlung buchen"), h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Abbrechen")),
    ),
  );
  amount.focus();
}

// Paying money back: what was received beyond what is owed first, the rest
// with a credit note (the server decides; the page says so before).
function askRefund(inv, box, region) {
  const most = inv.captured - inv.refunded;
  const amount = h("input", { id: "refund-amount", inputmode: "decimal", required: true, value: euroInput(most), autocomplete: "off" });
  const reason = h("input", { id: "refund-reason", required: true, maxlength: "1000" });
  const confirmBox = h("div", {});
  const note = h("div", { role: "status" });
  box.replaceChildren(
    h(
      "form",
      {
        class: "confirm",
        onsubmit: (e) => {
          e.preventDefault();
          const c = parseEuro(amount.value);
          if (c === null || c === 0 || c > most) return (say(note, `Bitte geben Sie einen Betrag bis ${cents(most, inv.currency)} an.`, "error"), amount.focus());
          if (!reason.value.trim()) return (say(note, "Bitte geben Sie einen Grund an; er steht auf der Gutschrift.", "error"), reason.focus());
          say(note, "");
          confirmBox.replaceChildren(
            h("p", {}, `${cents(c, inv.currency)} zu ${inv.number} zurückzahlen? Was über den Rechnungsbetrag hinaus bezahlt wurde, geht ohne Gutschrift zurück; für den Rest stellt Saalbuch eine Gutschrift aus. Online-Zahlungen erstattet der Zahlungsdienst, Überweisungen und Bargeld zahlen Sie aus und tragen es dann unter „Zahlungen und Erstattungen“ ein.`),
            h(
              "div",
              { class: "actions" },
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  onclick: async () => {
                    try {
                      const r = await api("POST", `/invoices/${enc(inv.id)}/refunds`, { amount: { amount: c, currency: inv.currency }, reason: reason.value.trim() });
                      box.replaceChildren();
                      saved(region, `Erstattung über ${cents(c, inv.currency)} angelegt${r.credit_note ? `; Gutschrift ${r.credit_note.number} über ${euro(r.credit_note.total)}` : ""}.`);
                    } catch (err) {
                      say(note, sentence(err), "error");
                    }
                  },
                },
                "Ja, erstatten",
              ),
              h("button", { type: "button", class: "secondary", onclick: () => confirmBox.replaceChildren() }, "Nein"),
            ),
          );
        },
      },
      h("p", {}, `Erstattung zu ${inv.number} (höchstens ${cents(most, inv.currency)}).`),
      h("div", { class: "row" }, field("Betrag in €", amount), field("Grund", reason)),
      note,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Weiter …"), h("button", { type: "button", class: "secondary", onclick: () => box.replaceChildren() }, "Abbrechen")),
      confirmBox,
    ),
  );
  amount.focus();
}

// Refunds with their state; finance records the outcome of those paid by
// hand (bank transfer, cash); the provider reports its own.
function refundTable(list, region) {
  const done = async (r, failed) => {
    try {
      await api("POST", `/refunds/${enc(r.id)}/complete`, { failed });
      saved(region, failed ? `Erstattung über ${cents(r.amount)} als fehlgeschlagen eingetragen; das Geld gilt wieder als erhalten.` : `Erstattung über ${cents(r.amount)} als ausgezahlt eingetragen.`);
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  return listTable(
    count(list.length, "Erstattung", "Erstattungen"),
    ["Beantragt", "Rechnung", "Betrag", "Art", "Stand", "Grund", "Gutschrift", h("span", { class: "sr" }, "Eintragen")],
    list.map((r) => [
      dateOnly(r.requested),
      invoiceLink(r.invoice, r.invoice_number || "ansehen"),
      cents(r.amount),
      METHOD[r.method] || r.method,
      REFUND_STATE[r.state] || r.state,
      r.reason || "–",
      r.credit_note || "–",
      r.state === "requested" && r.method !== "provider" && may.finance()
        ? h("span", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => done(r, false) }, "Ausgezahlt"), h("button", { type: "button", class: "secondary", onclick: () => done(r, true) }, "Fehlgeschlagen"))
        : "",
    ]),
    [2],
  );
}

async function viewPayments() {
  const region = h("div", { role: "status" });
  const here = page("Zahlungen und Erstattungen", financeTabs("#/finanzen/zahlungen"), region);
  try {
    const [payments, refunds] = await Promise.all([listAll("/payments"), listAll("/refunds")]);
    payments.sort((a, b) => b.received_at_us - a.received_at_us);
    refunds.sort((a, b) => (b.requested || "").localeCompare(a.requested || ""));
    const numbers = new Map(payments.map((p) => [p.invoice, p.invoice_number]));
    for (const r of refunds) r.invoice_number = numbers.get(r.invoice);
    const open = refunds.filter((r) => r.state === "requested" || r.state === "submitted");
    later(here).append(
      h("h2", {}, "Erstattungen"),
      refunds.length === 0 ? h("p", { class: "empty" }, "Keine Erstattungen.") : h("div", {}, open.length ? h("p", { class: "msg info" }, `${count(open.length, "Erstattung ist", "Erstattungen sind")} noch nicht ausgezahlt.`) : "", pager(refunds, (part) => refundTable(part, region), 10)),
      h("h2", {}, "Zahlungen"),
      payments.length === 0
        ? h("p", { class: "empty" }, "Keine Zahlungen.")
        : pager(payments, (part) =>
            listTable(
              `${count(payments.length, "Zahlung", "Zahlungen")}, neueste zuerst`,
              ["Eingang", "Rechnung", "Art", "Referenz", "Betrag", "Gebühr", "Erstattet", "Beleg", "Auszahlung"],
              part.map((p) => [dateOnly(p.received), invoiceLink(p.invoice, p.invoice_number), METHOD[p.method] || p.method, (p.ref || "").replace(/^[a-z_]+:/, ""), cents(p.amount, p.currency), p.fee ? cents(p.fee, p.currency) : "–", p.refunded ? cents(p.refunded, p.currency) : "–", p.receipt ? pdfLink(`/receipts/${enc(p.receipt)}.pdf`, p.receipt) : "–", p.settled_in || "–"]),
              [4, 5, 6],
            ),
          ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

async function viewCreditNotes() {
  const region = h("div", { role: "status" });
  const here = page("Gutschriften", financeTabs("#/finanzen/gutschriften"), region);
  try {
    const list = (await listAll("/credit-notes")).sort((a, b) => b.issued_at_us - a.issued_at_us);
    later(here).append(
      list.length === 0
        ? h("p", { class: "empty" }, "Keine Gutschriften.")
        : pager(list, (part) =>
            listTable(
              `${count(list.length, "Gutschrift", "Gutschriften")}, neueste zuerst`,
              ["Nummer", "Datum", "Zu Rechnung", "Grund", "Betrag", "Dokumente"],
              part.map((c) => [c.number, dateOnly(c.issued), invoiceLink(c.invoice, c.invoice_number), c.reason || "–", cents(c.gross), h("span", {}, pdfLink(`/credit-notes/${enc(c.number)}.pdf`, "PDF"), " · ", pdfLink(`/credit-notes/${enc(c.number)}/einvoice.xml`, "XML"))]),
              [4],
            ),
          ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// The books: the journal of a period, the balances with the trial balance,
// and net revenue per month and resource.
async function viewBooks(params) {
  const region = h("div", { role: "status" });
  const here = page("Journal, Salden, Umsatz", financeTabs("#/finanzen/buecher"), region);
  const year = today().slice(0, 4);
  const from = h("input", { id: "b-from", type: "date", value: params.get("von") || `${year}-01-01` });
  const to = h("input", { id: "b-to", type: "date", value: params.get("bis") || today() });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        if (!from.value || !to.value || from.value > to.value) return say(region, "Bitte wählen Sie einen Zeitraum: „von“ vor „bis“.", "error");
        location.hash = `#/finanzen/buecher?von=${from.value}&bis=${to.value}`;
      },
    },
    field("von", from),
    field("bis", to),
    h("button", { type: "submit" }, "Anzeigen"),
  );
  later(here).append(form);
  try {
    const [journal, balances, revenue, settings] = await Promise.all([
      listAll(`/journal?from=${enc(from.value)}&to=${enc(to.value)}`),
      api("GET", "/balances"),
      api("GET", `/revenue?from=${from.value.slice(0, 7)}&to=${to.value.slice(0, 7)}`),
      api("GET", "/finance/settings").catch(() => ({})),
    ]);
    const names = new Map(Object.entries(settings.accounts || {}).map(([role, account]) => [account, ACCOUNT_ROLE[role] || role]));
    const accountText = (a) => (names.has(a) ? `${a} ${names.get(a)}` : a);
    later(here).append(
      h("h2", {}, "Summen- und Saldenliste"),
      balancesTable(balances, accountText),
      h("h2", {}, "Umsatz nach Monat und Leistung (netto)"),
      revenueTable(revenue.items || []),
      h("h2", {}, "Journal"),
      journal.length === 0
        ? h("p", { class: "empty" }, "Keine Buchungssätze in diesem Zeitraum.")
        : pager(journal, (part) =>
            listTable(
              `${count(journal.length, "Buchungssatz", "Buchungssätze")} vom ${germanDate(from.value)} bis ${germanDate(to.value)}`,
              ["Datum", "Beleg", "Text", "Konto", "Soll", "Haben", "Kostenstelle"],
              part.flatMap((j) => j.lines.map((l, n) => [n === 0 ? germanDate(j.date) : "", n === 0 ? h("span", { class: "nowrap" }, j.document) : "", n === 0 ? j.text : "", accountText(l.account), l.debit ? cents(l.debit) : "", l.credit ? cents(l.credit) : "", l.cost_center || ""])),
              [4, 5],
            ),
          ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

function balancesTable(b, accountText) {
  const accounts = b.accounts || [];
  if (accounts.length === 0) return h("p", { class: "empty" }, "Noch nichts gebucht.");
  const side = (v) => (v > 0 ? `${cents(v)} S` : v < 0 ? `${cents(-v)} H` : cents(0));
  return h(
    "div",
    {},
    listTable("Alle Konten bis heute", ["Konto", "Soll", "Haben", "Saldo"], [...accounts.map((a) => [accountText(a.account), cents(a.debit), cents(a.credit), side(a.balance)]), [h("strong", {}, "Summe"), cents(b.debit), cents(b.credit), side(b.trial_balance)]], [1, 2, 3]),
    b.trial_balance === 0 ? h("p", { class: "msg ok" }, "Soll und Haben sind gleich: die Summe aller Salden ist 0,00 €.") : h("p", { class: "msg error" }, `Die Summe aller Salden ist ${cents(b.trial_balance)} statt 0. Bitte melden Sie das dem Betrieb.`),
  );
}

// Usage statistics: per month, resource and customer group what was booked
// and what became of it, the share of the opening time booked, and the
// revenue of these bookings; the same as CSV.
async function viewStatistics(params) {
  const region = h("div", { role: "status" });
  const here = page("Statistik", region);
  const month = today().slice(0, 7);
  const from = h("input", { id: "s-from", type: "month", value: params.get("von") || `${month.slice(0, 4)}-01` });
  const to = h("input", { id: "s-to", type: "month", value: params.get("bis") || month });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (e) => {
        e.preventDefault();
        if (!/^\d{4}-\d{2}$/.test(from.value) || !/^\d{4}-\d{2}$/.test(to.value) || from.value > to.value) {
          return say(region, "Bitte wählen Sie zwei Monate: „von“ nicht nach „bis“.", "error");
        }
        location.hash = `#/statistik?von=${from.value}&bis=${to.value}`;
      },
    },
    field("von (Monat)", from),
    field("bis (Monat)", to),
    h("button", { type: "submit" }, "Anzeigen"),
  );
  later(here).append(form);
  try {
    const q = `from=${enc(from.value)}&to=${enc(to.value)}`;
    const [usage, groups, funnel] = await Promise.all([
      api("GET", `/statistics/usage?${q}`),
      api("GET", "/groups").catch(() => ({ items: [] })),
      api("GET", `/statistics/funnel?${q}`).catch(() => ({ items: [] })),
    ]);
    if (groups.items && groups.items.length) groupsCache = groups.items;
    const items = usage.items || [];
    const group = (g) => (g === "internal" ? "Intern (Verwaltung)" : groupName(g));
    const hours = (min) => `${(min / 60).toLocaleString("de-DE", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} h`;
    const share = (u) => (u === null || u === undefined ? "–" : `${(u * 100).toLocaleString("de-DE", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`);
    const monthText = (m) => new Date(`${m}-15T12:00:00Z`).toLocaleDateString("de-DE", { month: "long", year: "numeric", timeZone: "UTC" });
    later(here).append(
      h("p", {}, h("a", { href: `${API}/statistics/usage.csv?${q}`, download: "" }, "Als CSV-Datei herunterladen (Tabellenkalkulation)")),
      items.length === 0
        ? h("p", { class: "empty" }, "In diesen Monaten wurde nichts gebucht.")
        : h("p", {}, "Nach dem Monat des Termins. Eingegangen: alle Buchungen und Anfragen; gebucht: die bestätigten; Auslastung: der gebuchte Anteil der Öffnungszeit; verfallen: nicht bezahlte Vormerkungen."),
      funnelSection(funnel.items || [], q),
      // A table per month; the revenue for those who see the finances.
      ...[...new Set(items.map((i) => i.month))].map((m) => {
        const heads = ["Ressource", "Gruppe", "Eingegangen", "Gebucht", "Stunden", "Auslastung", "Storniert", "Nicht erschienen", "Abgelehnt / verfallen"];
        const row = (i) => [resourceName(i.resource), group(i.group), String(i.placed), String(i.bookings), hours(i.booked_minutes), share(i.utilisation), String(i.cancelled), String(i.no_show), `${i.rejected} / ${i.expired}`];
        const money = may.seeFinance();
        return h(
          "section",
          {},
          h("h2", {}, monthText(m)),
          h(
            "div",
            { class: "week-scroll", tabindex: "0", role: "region", "aria-label": `Nutzung im ${monthText(m)}` },
            listTable(
              `Nutzung im ${monthText(m)} nach Ressource und Gruppe`,
              money ? [...heads, "Umsatz brutto"] : heads,
              items.filter((i) => i.month === m).map((i) => (money ? [...row(i), cents(i.revenue.gross)] : row(i))),
              money ? [2, 3, 4, 5, 6, 7, 8, 9] : [2, 3, 4, 5, 6, 7, 8],
            ),
          ),
        );
      }),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// Why a citizen's booking was refused, in a few words.
const REFUSED = {
  booking_conflict: "schon belegt",
  validation_failed: "Angaben unvollständig",
  invalid_body: "Angaben unvollständig",
  rate_limited: "zu viele Anfragen",
  lead_time_not_met: "zu kurzfristig",
  beyond_horizon: "zu weit im Voraus",
  starts_in_the_past: "schon vorbei",
  outside_opening_hours: "außerhalb der Öffnungszeiten",
  no_right: "nicht freigegeben",
};

// The public side's funnel over the chosen months, per resource: how many
// looked, tried, were refused (and why), booked and paid.
function funnelSection(items, q) {
  const per = new Map();
  for (const i of items) {
    const r = per.get(i.resource) || { views: 0, attempts: 0, refused_total: 0, booked: 0, paid: 0, refused: {} };
    for (const k of ["views", "attempts", "refused_total", "booked", "paid"]) r[k] += i[k];
    for (const [code, n] of Object.entries(i.refused || {})) r.refused[code] = (r.refused[code] || 0) + n;
    per.set(i.resource, r);
  }
  const why = (refused) =>
    Object.entries(refused)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${REFUSED[code] || code}: ${n}`)
      .join(", ") || "–";
  return h(
    "section",
    {},
    h("h2", {}, "Buchungsweg der Bürgerinnen und Bürger"),
    per.size === 0
      ? h("p", { class: "empty" }, "In diesen Monaten hat niemand über das Buchungsformular gesucht oder gebucht.")
      : h(
          "div",
          {},
          h("p", {}, "Über das Buchungsformular auf der Website, ohne Buchungen der Verwaltung; gezählt ohne personenbezogene Daten."),
          h(
            "div",
            { class: "week-scroll", tabindex: "0", role: "region", "aria-label": "Buchungsweg nach Ressource" },
            listTable(
              "Buchungsweg nach Ressource",
              ["Ressource", "Kalender angesehen", "Buchungsversuche", "Abgewiesen", "Gründe", "Gebucht", "Bezahlt"],
              [...per.entries()].map(([res, r]) => [resourceName(res), String(r.views), String(r.attempts), String(r.refused_total), why(r.refused), String(r.booked), String(r.paid)]),
              [1, 2, 3, 5, 6],
            ),
          ),
          h("p", {}, h("a", { href: `${API}/statistics/funnel.csv?${q}`, download: "" }, "Buchungsweg als CSV-Datei herunterladen")),
        ),
  );
}

function revenueTable(items) {
  if (items.length === 0) return h("p", { class: "empty" }, "Kein Umsatz in diesem Zeitraum.");
  const months = [...new Set(items.map((i) => i.month))].sort();
  const things = [...new Set(items.map((i) => i.item))].sort();
  const net = new Map(items.map((i) => [`${i.item}|${i.month}`, i.net]));
  const itemText = (i) => (i.startsWith("resource/") ? resourceName(i.slice(9)) : i.startsWith("addon/") ? `Zusatz ${i.slice(6)}` : i);
  const monthText = (m) => new Date(`${m}-15T12:00:00Z`).toLocaleDateString("de-DE", { month: "short", year: "numeric", timeZone: "UTC" });
  const sum = (f) => items.filter(f).reduce((s, i) => s + i.net, 0);
  const cols = months.map((_, n) => n + 1);
  return h(
    "div",
    { class: "week-scroll", tabindex: "0", role: "region", "aria-label": "Umsatz nach Monat" },
    listTable(
      "Netto, ohne Umsatzsteuer",
      ["Leistung", ...months.map(monthText), "Summe"],
      [...things.map((t) => [itemText(t), ...months.map((m) => (net.has(`${t}|${m}`) ? cents(net.get(`${t}|${m}`)) : "–")), cents(sum((i) => i.item === t))]), [h("strong", {}, "Summe"), ...months.map((m) => cents(sum((i) => i.month === m))), cents(sum(() => true))]],
      [...cols, months.length + 1],
    ),
  );
}

// The log as an auditor reads it: newest page first, filtered by kind of
// event or by any text (a booking, an account, an actor), and the latest
// signed checkpoint with the public key that verifies it offline.
const PAGE = 100;
async function viewAudit(params) {
  const region = h("div", { role: "status" });
  const here = page("Protokoll", region);
  try {
    const head = (await api("GET", "/events?limit=1")).head;
    const after = params.has("ab") ? Math.max(0, Math.min(Number(params.get("ab")) || 0, head)) : Math.max(0, head - PAGE);
    const { items } = await api("GET", `/events?after=${after}&limit=${PAGE}`);
    const records = items.map((i) => ({ seq: i.seq, ...i.record })).reverse();
    const types = [...new Set(records.map((r) => r.payload_type))].sort();
    const type = h("select", { id: "a-type" }, h("option", { value: "" }, "alle"), types.map((t) => h("option", { value: t, selected: params.get("art") === t }, t)));
    const text = h("input", { id: "a-text", type: "search", value: params.get("text") || "", placeholder: "bk_…, account:…, key:…" });
    const table = h("div", {});
    const draw = () => {
      const needle = text.value.trim().toLowerCase();
      const shown = records.filter((r) => (!type.value || r.payload_type === type.value) && (!needle || JSON.stringify(r).toLowerCase().includes(needle)));
      table.replaceChildren(
        shown.length === 0
          ? h("p", { class: "empty" }, "Keine Einträge auf dieser Seite.")
          : h(
              "table",
              { class: "list log" },
              h("caption", {}, `Einträge ${after + 1} bis ${after + records.length} von ${head}${shown.length !== records.length ? `, ${shown.length} passen zum Filter` : ""}`),
              h("thead", {}, h("tr", {}, ["Nr.", "Zeit", "Art", "Vorgang", "Von"].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, shown.map((r) => h("tr", {}, h("td", { class: "num" }, r.seq), h("td", {}, utcText(new Date(Number(r.recorded_at_us) / 1000).toISOString(), "medium")), h("td", {}, r.payload_type), h("td", {}, streamLink(r.stream_id)), h("td", {}, actorText(r.actor))))),
            ),
      );
    };
    type.addEventListener("change", draw);
    text.addEventListener("input", draw);
    const go = (ab) => (location.hash = `#/protokoll?ab=${ab}`);
    later(here).append(
      h("div", { class: "filters" }, field("Art", type), field("Suche", text)),
      table,
      h(
        "nav",
        { class: "pager", "aria-label": "Seiten des Protokolls" },
        h("button", { type: "button", disabled: after + PAGE >= head, onclick: () => go(Math.min(head - PAGE, after + PAGE)) }, "Neuere"),
        h("button", { type: "button", disabled: after === 0, onclick: () => go(Math.max(0, after - PAGE)) }, "Ältere"),
      ),
    );
    draw();
    later(here).append(await checkpointSection());
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

function streamLink(stream) {
  const id = (stream || "").startsWith("booking/") ? stream.slice(8) : "";
  return id && may.seeBookings() ? h("a", { href: `#/buchung/${enc(id)}` }, stream) : stream || "";
}

async function checkpointSection() {
  const box = h("section", {}, h("h2", {}, "Signierter Prüfpunkt"));
  try {
    const [c, key] = await Promise.all([api("GET", "/checkpoint"), api("GET", "/checkpoint/key").catch(() => ({}))]);
    box.append(
      h("dl", { class: "facts" }, [
        [h("dt", {}, "Stand"), h("dd", {}, `Eintrag ${c.position}`)],
        c.signed_at ? [h("dt", {}, "Signiert am"), h("dd", {}, utcText(c.signed_at))] : [],
        [h("dt", {}, "Öffentlicher Schlüssel"), h("dd", {}, h("code", { class: "invite-link" }, key.verifier_key || c.verifier_key || "–"))],
      ]),
      h("pre", { class: "note", tabindex: "0", "aria-label": "Signierter Text des Prüfpunkts" }, c.note || ""),
      h("p", { class: "hint" }, "Offline prüfen: saalbuch-replay verify mit diesem Schlüssel (siehe README, Abschnitt für Prüferinnen und Prüfer)."),
    );
  } catch (e) {
    box.append(h("p", { class: "empty" }, e.status === 404 ? "Noch kein Prüfpunkt signiert." : sentence(e)));
  }
  return box;
}

// ---- customers, groups and usage rights ----

const PERIOD = { week: "Woche", month: "Monat", year: "Jahr" };
let groupsCache = [];
const groupName = (id) => (id === "public" ? "Öffentlichkeit" : (groupsCache.find((g) => g.id === id) || {}).name || id);
// A customer as a clerk recognises them: the name their invoices go to.
const customerText = (c) => (c.billing && c.billing.name ? `${c.billing.name} (${c.id})` : c.id);
const quotaHours = (minutes) => `${(minutes / 60).toLocaleString("de-DE", { maximumFractionDigits: 2 })} Std.`;

// Customers (their group, whom their invoices name, their qualifications),
// the groups, and what each group may do with each resource.
async function viewCustomers() {
  const region = h("div", { role: "status" });
  const here = page("Kundschaft und Rechte", region);
  let customers, rights;
  try {
    [groupsCache, customers, rights] = await Promise.all([api("GET", "/groups").then((r) => r.items || []), listAll("/customers"), listAll("/rights")]);
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const text = h("input", { id: "k-text", type: "search", placeholder: "Name, Ort, Kennung, Gruppe", autocomplete: "off" });
  const list = h("div", {});
  const draw = () => {
    const needle = text.value.trim().toLowerCase();
    const shown = customers.filter((c) => !needle || [c.id, groupName(c.group), recipientText(c.billing)].join(" ").toLowerCase().includes(needle));
    list.replaceChildren(
      shown.length === 0
        ? h("p", { class: "empty" }, customers.length ? "Niemand passt zur Suche." : "Noch keine Kundinnen und Kunden.")
        : pager(shown, (part) =>
            listTable(
              count(shown.length, "Kundin/Kunde", "Kundinnen und Kunden"),
              ["Kundin/Kunde", "Gruppe", "Rechnung an", "Qualifikationen"],
              part.map((c) => [h("a", { href: `#/kunde/${enc(c.id)}` }, c.billing && c.billing.name ? c.billing.name : c.id), groupName(c.group), recipientText(c.billing) || "–", Object.keys(c.qualifications || {}).join(", ") || "–"]),
            ),
          ),
    );
  };
  text.addEventListener("input", draw);
  draw();
  later(here).append(
    h("section", {}, h("h2", {}, "Kundinnen und Kunden"), h("div", { class: "filters" }, field("Suche", text)), list, may.book() ? newCustomerForm() : ""),
    h("section", {}, h("h2", {}, "Gruppen"), groupsCache.length ? listTable("Gruppen der Kundschaft; „Öffentlichkeit“ bucht ohne Anmeldung", ["Kennung", "Name"], groupsCache.map((g) => [g.id, g.name])) : h("p", { class: "empty" }, "Noch keine Gruppen."), may.setup() ? newGroupForm(region) : ""),
    h("section", {}, h("h2", {}, "Nutzungsrechte"), rightsTable(rights, region), may.setup() ? newRightForm(region) : ""),
  );
}

function newCustomerForm() {
  const group = h("select", { id: "c-group", required: true }, groupsCache.map((g) => h("option", { value: g.id }, g.name)));
  const id = h("input", { id: "c-id", maxlength: "64", autocomplete: "off", placeholder: "frei lassen: wird vergeben" });
  const out = h("div", {});
  const note = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        if (!group.value) return say(note, "Bitte legen Sie zuerst eine Gruppe an.", "error");
        try {
          const r = await api("POST", "/customers", id.value.trim() ? { id: id.value.trim(), group: group.value } : { group: group.value });
          say(note, "");
          out.replaceChildren(
            h("p", { class: "msg ok" }, `Angelegt: ${r.id} in der Gruppe ${groupName(r.group)}. `, h("a", { href: `#/kunde/${enc(r.id)}` }, "Rechnungsanschrift und Qualifikationen eintragen")),
            h("p", {}, "Der persönliche Zugang zum Buchen (nur jetzt sichtbar; bitte sicher weitergeben):"),
            h("code", { class: "invite-link" }, r.customer_token),
          );
        } catch (err) {
          say(note, sentence(err), "error");
        }
      },
    },
    h("h3", {}, "Neu anlegen"),
    h("div", { class: "row" }, field("Gruppe", group), field("Kennung (optional)", id)),
    note,
    h("button", { type: "submit" }, "Anlegen"),
    out,
  );
}

function newGroupForm(region) {
  const id = h("input", { id: "g-id", required: true, maxlength: "64", autocomplete: "off", placeholder: "vereine" });
  const name = h("input", { id: "g-name", required: true, maxlength: "200", autocomplete: "off", placeholder: "Vereine" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api("POST", "/groups", { id: id.value.trim(), name: name.value.trim() });
          saved(region, `Gruppe „${name.value.trim()}“ angelegt.`);
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h("h3", {}, "Neue Gruppe"),
    h("div", { class: "row" }, field("Kennung der Gruppe", id), field("Name der Gruppe", name)),
    h("button", { type: "submit", class: "secondary" }, "Gruppe anlegen"),
  );
}

function rightsTable(rights, region) {
  if (rights.length === 0) return h("p", { class: "empty" }, "Keine Nutzungsrechte: jede Gruppe darf alles buchen. Sobald ein Raum ein Recht hat, dürfen ihn nur noch Gruppen mit Recht buchen.");
  const revoke = async (r) => {
    try {
      await api("POST", `/rights/${enc(r.id)}/revoke`, {});
      saved(region, `Das Recht von ${groupName(r.group)} für ${resourceName(r.resource)} ist widerrufen.`);
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  const until = (r) => (r.valid_until ? `bis ${dateOnly(r.valid_until)}` : "unbefristet");
  return listTable(
    count(rights.length, "Recht", "Rechte"),
    ["Raum / Gerät", "Gruppe", "Darf", "Kontingent", "Gültig", "Grundlage", h("span", { class: "sr" }, "Widerrufen")],
    rights.map((r) => [
      resourceName(r.resource),
      groupName(r.group),
      r.revoked ? "widerrufen" : !r.may_book ? "nicht buchen" : r.needs_approval ? "anfragen (mit Freigabe)" : r.hold ? "vormerken (bis zur Zahlung)" : "buchen",
      r.quota_minutes ? `${quotaHours(r.quota_minutes)} je ${PERIOD[r.quota_period] || r.quota_period}` : "–",
      until(r),
      r.basis || "–",
      !r.revoked && may.setup() ? h("button", { type: "button", class: "secondary", onclick: () => revoke(r) }, "Widerrufen") : "",
    ]),
  );
}

function newRightForm(region) {
  const resource = h("select", { id: "r-resource", required: true }, resources.map((r) => h("option", { value: r.id }, r.name)));
  const group = h("select", { id: "r-group", required: true }, h("option", { value: "public" }, "Öffentlichkeit"), groupsCache.map((g) => h("option", { value: g.id }, g.name)));
  const how = h("select", { id: "r-how" }, h("option", { value: "book" }, "buchen"), h("option", { value: "approval" }, "anfragen (mit Freigabe)"), h("option", { value: "hold" }, "vormerken (bis zur Zahlung)"), h("option", { value: "none" }, "nicht buchen"));
  const quota = h("input", { id: "r-quota", inputmode: "decimal", autocomplete: "off", placeholder: "keins" });
  const period = h("select", { id: "r-period" }, Object.entries(PERIOD).map(([k, v]) => h("option", { value: k, selected: k === "month" }, v)));
  const until = h("input", { id: "r-until", type: "date" });
  const basis = h("input", { id: "r-basis", maxlength: "1000", autocomplete: "off", placeholder: "z. B. Ratsbeschluss vom 12.03." });
  const note = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { resource: resource.value, group: group.value, may_book: how.value !== "none", needs_approval: how.value === "approval", hold: how.value === "hold" };
        if (quota.value.trim()) {
          const hours = Number(quota.value.trim().replace(",", "."));
          if (!(hours > 0) || hours > 10000) return (say(note, "Bitte geben Sie das Kontingent in Stunden an, zum Beispiel 10, oder lassen Sie es leer.", "error"), quota.focus());
          body.quota_minutes = Math.round(hours * 60);
          body.quota_period = period.value;
        }
        if (until.value) body.valid_until = new Date(zoned(addDays(until.value, 1), "00:00")).toISOString().slice(0, 19) + "Z";
        if (basis.value.trim()) body.basis = basis.value.trim();
        try {
          await api("POST", "/rights", body);
          saved(region, `${groupName(group.value)} darf ${resourceName(resource.value)} jetzt ${how.selectedOptions[0].textContent}.`);
        } catch (err) {
          say(note, sentence(err), "error");
        }
      },
    },
    h("h3", {}, "Recht erteilen"),
    h("div", { class: "row" }, field("Raum / Gerät", resource), field("Gruppe", group), field("Darf", how)),
    h("div", { class: "row" }, field("Kontingent in Stunden", quota), field("je", period), field("Gültig bis einschließlich", until), field("Grundlage", basis)),
    note,
    h("button", { type: "submit" }, "Recht erteilen"),
  );
}

// One customer: group, billing profile, qualifications, bookings.
async function viewCustomer(id) {
  const region = h("div", { role: "status" });
  let c;
  try {
    [c, groupsCache] = await Promise.all([api("GET", `/customers/${enc(id)}`), api("GET", "/groups").then((r) => r.items || [])]);
  } catch (e) {
    page("Kundin/Kunde", region);
    return say(region, sentence(e), e.status === 404 ? "info" : "error");
  }
  const quals = Object.entries(c.qualifications || {});
  const revoke = async (q) => {
    try {
      await api("POST", `/customers/${enc(c.id)}/qualifications/${enc(q)}/revoke`, {});
      saved(region, `Qualifikation „${q}“ widerrufen.`);
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  const since = addDays(today(), -365);
  page(
    customerText(c),
    region,
    h(
      "dl",
      { class: "facts" },
      [
        ["Kennung", c.id],
        ["Gruppe", groupName(c.group)],
        ["Angelegt am", dateOnly(c.registered_at)],
        ["Rechnung an", recipientText(c.billing) || "keine Rechnungsanschrift hinterlegt"],
        c.billing && c.billing.leitweg_id ? ["Leitweg-ID", c.billing.leitweg_id] : null,
        ["Buchungen", h("a", { href: `#/buchungen?customer=${enc(c.id)}&from=${since}` }, "Buchungen seit einem Jahr suchen")],
      ]
        .filter(Boolean)
        .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    h("h2", {}, "Qualifikationen"),
    quals.length === 0
      ? h("p", { class: "empty" }, "Keine.")
      : listTable(
          count(quals.length, "Qualifikation", "Qualifikationen"),
          ["Qualifikation", "Gültig bis", "Grundlage", "Erteilt", h("span", { class: "sr" }, "Widerrufen")],
          quals.map(([q, v]) => [q, v.valid_until ? dateOnly(v.valid_until) : "unbefristet", v.basis || "–", `${dateOnly(v.granted_at)}, ${actorText(v.granted_by)}`, may.book() ? h("button", { type: "button", class: "secondary", onclick: () => revoke(q) }, "Widerrufen") : ""]),
        ),
    ...(may.book() ? [qualificationForm(c, region), groupForm(c, region), billingForm(c, region)] : []),
  );
}

function qualificationForm(c, region) {
  const q = h("input", { id: "q-name", required: true, maxlength: "64", autocomplete: "off", placeholder: "z. B. lasercutter" });
  const until = h("input", { id: "q-until", type: "date", min: today() });
  const basis = h("input", { id: "q-basis", maxlength: "1000", autocomplete: "off", placeholder: "z. B. Einweisung am 05.12." });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { qualification: q.value.trim() };
        if (until.value) body.valid_until = new Date(zoned(addDays(until.value, 1), "00:00")).toISOString().slice(0, 19) + "Z";
        if (basis.value.trim()) body.basis = basis.value.trim();
        try {
          await api("POST", `/customers/${enc(c.id)}/qualifications`, body);
          saved(region, `Qualifikation „${body.qualification}“ eingetragen.`);
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h("h3", {}, "Qualifikation eintragen"),
    h("div", { class: "row" }, field("Qualifikation", q), field("Gültig bis einschließlich", until), field("Grundlage", basis)),
    h("button", { type: "submit", class: "secondary" }, "Eintragen"),
  );
}

function groupForm(c, region) {
  const group = h("select", { id: "cg-group" }, groupsCache.map((g) => h("option", { value: g.id, selected: g.id === c.group }, g.name)));
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api("PUT", `/customers/${enc(c.id)}/group`, { group: group.value });
          saved(region, `Jetzt in der Gruppe ${groupName(group.value)}.`);
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h("h3", {}, "Gruppe ändern"),
    h("div", { class: "row" }, field("Neue Gruppe", group)),
    h("button", { type: "submit", class: "secondary" }, "Gruppe ändern"),
  );
}

// The billing profile: whom the invoices of this customer's bookings name
// when a booking gives no address of its own (over 250 € one is needed).
function billingForm(c, region) {
  const b = c.billing || {};
  const input = (id, value, attrs = {}) => h("input", { id, value: value || "", autocomplete: "off", ...attrs });
  const f = {
    name: input("bp-name", b.name, { required: true, maxlength: "200" }),
    street: input("bp-street", b.street, { required: true, maxlength: "200" }),
    postcode: input("bp-postcode", b.postcode, { required: true, maxlength: "16" }),
    city: input("bp-city", b.city, { required: true, maxlength: "100" }),
    country: input("bp-country", b.country || "DE", { required: true, maxlength: "2", pattern: "[A-Za-z]{2}" }),
    leitweg_id: input("bp-leitweg", b.leitweg_id, { maxlength: "46", placeholder: "nur für Behörden, z. B. 04011000-1234512345-06" }),
  };
  const note = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const body = {};
        for (const [k, el] of Object.entries(f)) if (el.value.trim()) body[k] = k === "country" ? el.value.trim().toUpperCase() : el.value.trim();
        try {
          await api("PUT", `/customers/${enc(c.id)}/billing`, body);
          saved(region, "Rechnungsanschrift gespeichert. Schon ausgestellte Rechnungen bleiben, wie sie sind.");
        } catch (err) {
          const fields = (err.problem && err.problem.details && err.problem.details.fields) || [];
          say(note, fields.length ? `Bitte prüfen Sie: ${fields.map((x) => (x.field === "leitweg_id" ? "Leitweg-ID (Prüfziffer stimmt nicht)" : FIELD[`contact.address.${x.field}`] || x.field)).join(", ")}.` : sentence(err), "error");
          const first = fields.length && f[fields[0].field];
          if (first) first.focus();
        }
      },
    },
    h("h3", {}, "Rechnungsanschrift"),
    h("p", { class: "hint" }, "Gilt für Buchungen ohne eigene Anschrift; ab 250 € muss eine Rechnung sie nennen (§ 14 UStG)."),
    field("Name auf der Rechnung", f.name),
    field("Straße und Hausnummer", f.street),
    h("div", { class: "row" }, field("Postleitzahl", f.postcode), field("Ort", f.city), field("Land (ISO, z. B. DE)", f.country)),
    field("Leitweg-ID (optional)", f.leitweg_id),
    note,
    h("button", { type: "submit" }, "Rechnungsanschrift speichern"),
  );
}

// ---- set-up: tariffs, add-ons, the public side (admins) ----

const UNIT = { hour: "je Stunde", booking: "je Buchung", unit: "je Stück / Platz" };

// The pages of the set-up.
const setupTabs = (current) =>
  tabs(
    "Einrichtung",
    [
      ["#/einrichtung", "Räume und Geräte"],
      ["#/tarife", "Tarife"],
      ["#/zusatzleistungen", "Zusatzleistungen"],
      ["#/auftritt", "Auftritt im Web"],
    ],
    current,
  );

let addonsCache = [];
// "resource/grosser-saal" → "Großer Saal"; "addon/beamer" → "Zusatz: Beamer".
function targetText(t) {
  if (t.startsWith("resource/")) return resourceName(t.slice(9));
  if (t.startsWith("addon/")) return `Zusatz: ${(addonsCache.find((a) => a.id === t.slice(6)) || {}).name || t.slice(6)}`;
  return t;
}
const priceText = (v, currency) => `${cents(v.amount, currency)} ${UNIT[v.unit] || v.unit}${v.gross ? " inkl." : " zzgl."} ${Number(v.tax_rate_percent).toLocaleString("de-DE")} % USt`;

// Tariffs with their versions (a fee schedule changing on a date); admins
// add a tariff or a new version of one.
async function viewTariffs() {
  const region = h("div", { role: "status" });
  const here = page("Tarife", may.setup() ? setupTabs("#/tarife") : financeTabs("#/tarife"), region);
  let tariffs;
  try {
    [tariffs, addonsCache, groupsCache] = await Promise.all([listAll("/tariffs"), api("GET", "/addons").then((r) => r.items || []), api("GET", "/groups").then((r) => r.items || []).catch(() => groupsCache)]);
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const now = Date.now() * 1000;
  const form = may.setup() ? tariffForm(region) : null;
  later(here).append(
    tariffs.length === 0
      ? h("p", { class: "empty" }, "Noch keine Tarife: alles ist kostenlos.")
      : listTable(
          `${count(tariffs.length, "Tarif", "Tarife")}; ein Preis gilt ab seinem Datum, bis eine neuere Version gilt`,
          ["Tarif", "Leistung", "Gruppe", "Preis", "Gilt ab", "Haushalt", h("span", { class: "sr" }, "Ändern")],
          tariffs.flatMap((t) => {
            const versions = [...t.versions].sort((a, b) => a.valid_from_us - b.valid_from_us);
            const current = versions.filter((v) => v.valid_from_us <= now).pop();
            return versions.map((v) => [
              v === versions[0] ? h("strong", {}, t.id) : "",
              v === versions[0] ? targetText(t.target) : "",
              v === versions[0] ? (t.group ? groupName(t.group) : "alle Gruppen") : "",
              priceText(v, t.currency),
              `${dateOnly(v.valid_from)}${v === current ? " (gilt jetzt)" : v.valid_from_us > now ? " (künftig)" : " (abgelöst)"}`,
              [v.description, v.product && `Produkt ${v.product}`, v.cost_center && `KSt ${v.cost_center}`].filter(Boolean).join(" · ") || "–",
              form && v === versions[versions.length - 1] ? h("button", { type: "button", class: "secondary", onclick: () => form.fill(t, v) }, `Neue Version von ${t.id} …`) : "",
            ]);
          }),
        ),
    form || "",
  );
}

function tariffForm(region) {
  const targets = [...resources.map((r) => [`resource/${r.id}`, r.name]), ...addonsCache.map((a) => [`addon/${a.id}`, `Zusatz: ${a.name}`])];
  const id = h("input", { id: "t-id", required: true, maxlength: "64", autocomplete: "off", placeholder: "saal-stunde" });
  const target = h("select", { id: "t-target" }, targets.map(([v, text]) => h("option", { value: v }, text)));
  const group = h("select", { id: "t-group" }, h("option", { value: "" }, "alle Gruppen ohne eigenen Tarif"), groupsCache.map((g) => h("option", { value: g.id }, g.name)));
  const unit = h("select", { id: "t-unit" }, Object.entries(UNIT).map(([k, v]) => h("option", { value: k }, v)));
  const price = h("input", { id: "t-price", required: true, inputmode: "decimal", autocomplete: "off", placeholder: "45,00" });
  const gross = h("select", { id: "t-gross" }, h("option", { value: "true" }, "inklusive USt (brutto)"), h("option", { value: "false" }, "zuzüglich USt (netto)"));
  const tax = h("select", { id: "t-tax" }, ["19", "7", "0"].map((r) => h("option", { value: r }, `${r} %`)));
  const from = h("input", { id: "t-from", type: "date", min: today(), value: today() });
  const description = h("input", { id: "t-description", maxlength: "200", autocomplete: "off", placeholder: "Saalmiete" });
  const product = h("input", { id: "t-product", maxlength: "64", autocomplete: "off", placeholder: "1.1.1.01" });
  const costCenter = h("input", { id: "t-cost-center", maxlength: "36", autocomplete: "off", placeholder: "4711" });
  const note = h("div", { role: "status" });
  const heading = h("h2", {}, "Neuer Tarif");
  const form = h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const c = parseEuro(price.value);
        if (c === null) return (say(note, "Bitte geben Sie den Preis in Euro an, zum Beispiel 45,00.", "error"), price.focus());
        const body = { target: target.value, unit: unit.value, price: { amount: c, currency: "EUR" }, gross: gross.value === "true", tax_rate_percent: Number(tax.value) };
        if (group.value) body.group = group.value;
        if (from.value && from.value > today()) body.valid_from = new Date(zoned(from.value, "00:00")).toISOString().slice(0, 19) + "Z";
        for (const [k, el] of [["description", description], ["product", product], ["cost_center", costCenter]]) if (el.value.trim()) body[k] = el.value.trim();
        try {
          await api("PUT", `/tariffs/${enc(id.value.trim())}`, body);
          saved(region, `Tarif ${id.value.trim()}: ${priceText({ amount: c, unit: body.unit, gross: body.gross, tax_rate_percent: body.tax_rate_percent }, body.price.currency)} ab ${body.valid_from ? germanDate(from.value) : "sofort"}.`);
        } catch (err) {
          say(note, sentence(err), "error");
        }
      },
    },
    heading,
    h("p", { class: "hint" }, "Eine neue Version eines Tarifs gilt ab ihrem Datum; Buchungen, die vorher gebucht wurden, behalten ihren Preis."),
    h("div", { class: "row" }, field("Kennung des Tarifs", id), field("Leistung", target), field("Gruppe", group)),
    h("div", { class: "row" }, field("Preis in €", price), field("Einheit", unit), field("Steuer", gross), field("USt-Satz", tax), field("Gilt ab", from)),
    h("div", { class: "row" }, field("Text auf der Rechnung", description), field("Produkt (Haushalt)", product), field("Kostenstelle", costCenter)),
    note,
    h("button", { type: "submit" }, "Tarif speichern"),
  );
  // A new version of tariff `t`, starting from its newest one `v`.
  form.fill = (t, v) => {
    heading.textContent = `Neue Version von ${t.id}`;
    id.value = t.id;
    target.value = t.target;
    group.value = t.group || "";
    unit.value = v.unit;
    price.value = euroInput(v.amount);
    gross.value = String(v.gross);
    tax.value = String(Math.round(v.tax_rate_percent));
    description.value = v.description || "";
    product.value = v.product || "";
    costCenter.value = v.cost_center || "";
    from.value = addDays(today(), 1);
    form.scrollIntoView();
    price.focus();
  };
  return form;
}

// Add-ons: what can be booked with a room (projector, chairs), their stock
// and where they are offered (optionally mandatory).
async function viewAddons() {
  const region = h("div", { role: "status" });
  const here = page("Zusatzleistungen", setupTabs("#/zusatzleistungen"), region);
  try {
    addonsCache = (await api("GET", "/addons")).items || [];
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const form = addonForm(region);
  later(here).append(
    addonsCache.length === 0
      ? h("p", { class: "empty" }, "Noch keine Zusatzleistungen.")
      : listTable(
          count(addonsCache.length, "Zusatzleistung", "Zusatzleistungen"),
          ["Zusatzleistung", "Bestand", "Angeboten bei", h("span", { class: "sr" }, "Ändern")],
          addonsCache.map((a) => [
            a.name,
            a.stock ? `${a.stock} Stück` : "unbegrenzt",
            (a.offers || []).map((o) => `${resourceName(o.resource)}${o.mandatory ? " (Pflicht)" : ""}`).join(", ") || "nirgends",
            h("button", { type: "button", class: "secondary", onclick: () => form.fill(a) }, `${a.name} ändern …`),
          ]),
        ),
    form,
  );
}

function addonForm(region) {
  const id = h("input", { id: "ad-id", required: true, maxlength: "64", autocomplete: "off", placeholder: "beamer" });
  const name = h("input", { id: "ad-name", required: true, maxlength: "200", autocomplete: "off", placeholder: "Beamer" });
  const stock = h("input", { id: "ad-stock", type: "number", min: "0", value: "0" });
  const offer = resources.map((r) => h("select", { id: `ad-offer-${r.id}` }, h("option", { value: "" }, "nicht angeboten"), h("option", { value: "optional" }, "wählbar"), h("option", { value: "mandatory" }, "immer dabei (Pflicht)")));
  const note = h("div", { role: "status" });
  const heading = h("h2", {}, "Neue Zusatzleistung");
  let version = null;
  const form = h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const offers = resources.flatMap((r, i) => (offer[i].value ? [{ resource: r.id, mandatory: offer[i].value === "mandatory" }] : []));
        try {
          await api("PUT", `/addons/${enc(id.value.trim())}`, { name: name.value.trim(), stock: Number(stock.value) || 0, offers }, "application/json", version ? { "If-Match": `"${version}"` } : {});
          saved(region, `Zusatzleistung „${name.value.trim()}“ gespeichert.`);
        } catch (err) {
          say(note, sentence(err), "error");
        }
      },
    },
    heading,
    h("div", { class: "row" }, field("Kennung", id), field("Name", name), field("Bestand (0 = unbegrenzt)", stock)),
    h("fieldset", { class: "offers" }, h("legend", {}, "Angeboten bei"), h("div", { class: "row" }, resources.map((r, i) => field(r.name, offer[i])))),
    note,
    h("button", { type: "submit" }, "Zusatzleistung speichern"),
  );
  form.fill = (a) => {
    heading.textContent = `${a.name} ändern`;
    version = a.version;
    id.value = a.id;
    id.readOnly = true;
    name.value = a.name;
    stock.value = String(a.stock || 0);
    resources.forEach((r, i) => {
      const o = (a.offers || []).find((x) => x.resource === r.id);
      offer[i].value = o ? (o.mandatory ? "mandatory" : "optional") : "";
    });
    form.scrollIntoView();
    name.focus();
  };
  return form;
}

// How the widget and the manage page present the tenant, and which web
// sites may embed it.
async function viewPublic() {
  const region = h("div", { role: "status" });
  const here = page("Auftritt im Web", setupTabs("#/auftritt"), region);
  let p;
  try {
    p = (await api("GET", "")).public || {};
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const text = (id, value, attrs = {}) => h("input", { id, value: value || "", autocomplete: "off", ...attrs });
  const f = {
    display_name: text("pu-name", p.display_name, { maxlength: "200" }),
    accent_color: h("input", { id: "pu-color", type: "color", value: p.accent_color || "#1f5f8b" }),
    logo_url: text("pu-logo", p.logo_url, { type: "url", placeholder: "https://www.musterstadt.de/logo.svg" }),
    privacy_url: text("pu-privacy", p.privacy_url, { type: "url", placeholder: "https://www.musterstadt.de/datenschutz" }),
    terms_url: text("pu-terms", p.terms_url, { type: "url", placeholder: "https://www.musterstadt.de/nutzungsordnung" }),
    allowed_origins: h("textarea", { id: "pu-origins", rows: "3", "aria-describedby": "pu-origins-hint" }, (p.allowed_origins || []).join("\n")),
    consent_de: h("textarea", { id: "pu-consent-de", rows: "3", maxlength: "4000" }, (p.consent && p.consent.de) || ""),
    consent_en: h("textarea", { id: "pu-consent-en", rows: "3", maxlength: "4000" }, (p.consent && p.consent.en) || ""),
  };
  const LABEL = { display_name: "Name", accent_color: "Akzentfarbe", logo_url: "Logo", privacy_url: "Datenschutzerklärung", terms_url: "Nutzungsbedingungen", allowed_origins: "Websites", consent: "Einwilligung" };
  const note = h("div", { role: "status" });
  const form = h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const v = (el) => el.value.trim() || null;
        const body = {
          display_name: v(f.display_name),
          accent_color: f.accent_color.value,
          logo_url: v(f.logo_url),
          privacy_url: v(f.privacy_url),
          terms_url: v(f.terms_url),
          allowed_origins: f.allowed_origins.value.split("\n").map((x) => x.trim()).filter(Boolean),
          consent: { de: v(f.consent_de), en: v(f.consent_en) },
        };
        try {
          await api("PUT", "/public-settings", body);
          saved(region, "Gespeichert. Das Buchungsfenster zeigt die Änderungen beim nächsten Laden.");
        } catch (err) {
          const fields = (err.problem && err.problem.details && err.problem.details.fields) || [];
          say(note, fields.length ? `Bitte prüfen Sie: ${[...new Set(fields.map((x) => LABEL[String(x.field).split(/[.[]/)[0]] || x.field))].join(", ")}. ${fields.map((x) => x.problem).filter(Boolean).join("; ")}` : sentence(err), "error");
        }
      },
    },
    h("div", { class: "row" }, field("Name im Buchungsfenster", f.display_name), field("Akzentfarbe", f.accent_color)),
    field("Logo (Adresse eines Bildes)", f.logo_url),
    h("div", { class: "row" }, field("Datenschutzerklärung (Adresse)", f.privacy_url), field("Nutzungsbedingungen (Adresse)", f.terms_url)),
    field("Websites, die das Buchungsfenster einbetten dürfen (eine je Zeile)", f.allowed_origins),
    h("p", { class: "hint", id: "pu-origins-hint" }, "Zum Beispiel https://www.musterstadt.de – ohne Pfad. Leer: jede Website darf."),
    field("Einwilligungstext (Deutsch)", f.consent_de),
    field("Einwilligungstext (Englisch)", f.consent_en),
    note,
    h("button", { type: "submit" }, "Speichern"),
  );
  later(here).append(form, h("p", {}, h("a", { href: `/book/${enc(TENANT)}`, target: "_blank", rel: "noopener" }, "Buchungsseite ansehen (neues Fenster)")));
}

// The dated sessions of a course (an event resource): those of the next 62
// days with their free seats, and a new one.
async function sessionsSection(res, region) {
  const box = h("section", {}, h("h2", {}, "Termine"));
  const utc = (ms) => new Date(ms).toISOString().slice(0, 19) + "Z";
  let sessions = [];
  try {
    sessions = (await api("GET", `/resources/${enc(res.id)}/availability?from=${utc(Date.now())}&to=${utc(Date.now() + 62 * 86400e3)}`)).sessions || [];
  } catch (e) {
    box.append(h("p", { class: "msg error" }, sentence(e)));
  }
  box.append(
    sessions.length === 0
      ? h("p", { class: "empty" }, "Keine Termine in den nächsten zwei Monaten.")
      : listTable(
          "Die nächsten zwei Monate",
          ["Termin", "Titel", "Plätze", "Frei"],
          sessions.map((s) => [`${localDay(s.start_local)}, ${localTime(s.start_local)}–${localTime(s.end_local)} Uhr`, s.title || "–", s.seats, s.remaining]),
          [2, 3],
        ),
  );
  const day = h("input", { id: "s-day", type: "date", required: true, min: today() });
  const start = h("input", { id: "s-start", type: "time", required: true, step: "900" });
  const end = h("input", { id: "s-end", type: "time", required: true, step: "900" });
  const seats = h("input", { id: "s-seats", type: "number", min: "1", value: String(res.capacity || 1) });
  const title = h("input", { id: "s-title", maxlength: "200", autocomplete: "off" });
  const note = h("div", { role: "status" });
  box.append(
    h(
      "form",
      {
        class: "card-form",
        onsubmit: async (e) => {
          e.preventDefault();
          if (!day.value || !start.value || !end.value || end.value <= start.value) return say(note, "Bitte wählen Sie Tag, Beginn und ein Ende nach dem Beginn.", "error");
          const body = { start: zoned(day.value, start.value), end: zoned(day.value, end.value), seats: Number(seats.value) || res.capacity || 1 };
          if (title.value.trim()) body.title = title.value.trim();
          try {
            await api("POST", `/resources/${enc(res.id)}/sessions`, body);
            saved(region, `Termin am ${localDay(day.value)}, ${start.value}–${end.value} Uhr angelegt.`);
          } catch (err) {
            say(note, sentence(err), "error");
          }
        },
      },
      h("h3", {}, "Neuer Termin"),
      h("div", { class: "row" }, field("Tag", day), field("Beginn", start), field("Ende", end), field("Plätze", seats)),
      field("Titel", title),
      note,
      h("button", { type: "submit" }, "Termin anlegen"),
    ),
  );
  return box;
}

// ---- set-up (admins) ----

const KIND = { room: "Raum", device: "Gerät", pool: "Pool (gleiche Stücke)", event: "Kurs / Veranstaltung" };
const WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"];

// "24.12.2026" or "2026-12-24" → "2026-12-24"; null when it is no date.
function parseDate(text) {
  const t = text.trim();
  let m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(t);
  const iso = m ? `${m[3]}-${pad2(m[2])}-${pad2(m[1])}` : /^\d{4}-\d{2}-\d{2}$/.test(t) ? t : null;
  if (!iso) return null;
  const d = new Date(`${iso}T12:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}
const germanDate = (iso) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`;
// "8–12, 13:30-22:00" → [{start: "08:00", end: "12:00"}, …]; "" or
// "geschlossen" → []; null when a part is no range of a day's times.
function parseHours(text) {
  const t = text.trim().toLowerCase();
  if (t === "" || t === "geschlossen" || t === "zu") return [];
  const time = (x) => {
    const m = /^(\d{1,2})(?::(\d{2}))?$/.exec(x.trim());
    if (!m || Number(m[1]) > 24 || Number(m[2] || 0) > 59 || (Number(m[1]) === 24 && Number(m[2] || 0) !== 0)) return null;
    return `${pad2(m[1])}:${m[2] || "00"}`;
  };
  const out = [];
  for (const part of t.split(/[,;]/)) {
    const [a, b, extra] = part.split(/\s*(?:–|-|bis)\s*/);
    const start = time(a || "");
    const end = time(b || "");
    if (extra !== undefined || !start || !end || end <= start) return null;
    out.push({ start, end });
  }
  return out;
}
const hoursText = (list) => (list.length ? list.map((i) => `${i.start}–${i.end}`).join(", ") : "geschlossen");

async function viewSetup() {
  const region = h("div", { role: "status" });
  const here = page("Einrichtung", setupTabs("#/einrichtung"), region);
  let list = [];
  try {
    list = (await api("GET", "/resources?limit=500")).items || [];
    resources = list;
  } catch (e) {
    return say(region, sentence(e), "error");
  }
  const name = h("input", { id: "n-name", required: true, maxlength: "200" });
  const slug = h("input", { id: "n-id", maxlength: "64", pattern: "[a-z0-9][a-z0-9-]*", "aria-describedby": "n-id-hint" });
  const kind = h("select", { id: "n-kind" }, Object.entries(KIND).map(([k, v]) => h("option", { value: k }, v)));
  const capacity = h("input", { id: "n-capacity", type: "number", min: "1", max: "100000", value: "1" });
  const parent = h("select", { id: "n-parent" }, h("option", { value: "" }, "keiner"), list.filter((r) => r.kind === "room" && !r.parent).map((r) => h("option", { value: r.id }, r.name)));
  const description = h("textarea", { id: "n-description", rows: "2", maxlength: "4000" });
  const form = h(
    "form",
    {
      class: "booking-form",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        if (!name.value.trim()) return say(region, "Bitte geben Sie einen Namen an.", "error");
        if (slug.value && !/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug.value)) return say(region, "Die Kennung besteht aus Kleinbuchstaben, Ziffern und Bindestrichen.", "error");
        const body = { name: name.value.trim(), kind: kind.value, rules: { opening_hours: [] } };
        if (slug.value) body.id = slug.value;
        if (description.value.trim()) body.description = description.value.trim();
        if (kind.value === "pool" || kind.value === "event") body.capacity = Number(capacity.value) || 1;
        if (parent.value) body.parent = parent.value;
        try {
          const r = await api("POST", "/resources", body);
          location.hash = `#/einrichtung/${enc(r.id)}`;
        } catch (err) {
          say(region, sentence(err), "error");
        }
      },
    },
    h(
      "fieldset",
      {},
      h("legend", {}, "Neu anlegen"),
      field("Name", name),
      field("Art", kind),
      field("Anzahl (Pool) / Plätze (Kurs)", capacity),
      field("Teil von (bei Hallenteilen)", parent),
      field("Kennung in Adressen (optional)", slug),
      h("p", { class: "hint", id: "n-id-hint" }, "Zum Beispiel probenraum; ohne Angabe vergibt Saalbuch eine."),
      field("Beschreibung", description),
      h("button", { type: "submit" }, "Anlegen und Öffnungszeiten festlegen"),
    ),
  );
  later(here).append(
    h("h2", {}, "Räume, Geräte und Kurse"),
    h(
      "table",
      { class: "list" },
      h("caption", {}, count(list.length, "Eintrag", "Einträge")),
      h("thead", {}, h("tr", {}, ["Name", "Art", "Teil von", "Regeln"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        list.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, r.name),
            h("td", {}, `${KIND[r.kind] || r.kind}${r.kind === "pool" || r.kind === "event" ? ` (${r.capacity})` : ""}`),
            h("td", {}, r.parent ? resourceName(r.parent) : "–"),
            h("td", {}, h("a", { href: `#/einrichtung/${enc(r.id)}`, "aria-label": `Öffnungszeiten und Regeln: ${r.name}` }, "Öffnungszeiten und Regeln")),
          ),
        ),
      ),
    ),
    form,
    holidaysSection(region),
  );
}

// The tenant's public holidays: one line each, date and name.
function holidaysSection(region) {
  const text = h("textarea", { id: "holidays", rows: "8", "aria-describedby": "holidays-hint" }, (tenant.holidays || []).map((x) => `${germanDate(x.date)} ${x.name}`).join("\n"));
  return h(
    "section",
    {},
    h("h2", {}, "Feiertage"),
    h(
      "form",
      {
        class: "confirm",
        onsubmit: async (e) => {
          e.preventDefault();
          const holidays = [];
          const lines = text.value.split("\n").map((l) => l.trim()).filter(Boolean);
          for (const [i, line] of lines.entries()) {
            const [first, ...rest] = line.split(/\s+/);
            const date = parseDate(first);
            if (!date) return say(region, `Feiertage, Zeile ${i + 1}: „${first}“ ist kein Datum (TT.MM.JJJJ).`, "error");
            holidays.push({ date, name: rest.join(" ") || "Feiertag" });
          }
          try {
            await api("PUT", "/holidays", { holidays });
            tenant.holidays = holidays;
            say(region, `${count(holidays.length, "Feiertag", "Feiertage")} gespeichert. An Feiertagen ist alles geschlossen, außer ein Sondertag öffnet.`, "ok");
          } catch (err) {
            say(region, sentence(err), "error");
          }
        },
      },
      h("label", { for: "holidays" }, "Eine Zeile je Feiertag"),
      h("p", { class: "hint", id: "holidays-hint" }, "Datum und Name, zum Beispiel: 03.10.2027 Tag der Deutschen Einheit"),
      text,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Feiertage speichern")),
    ),
  );
}

// Opening hours, special days, closures and limits of one resource, with
// the next two weeks as they would be, drawn while the admin types.
async function viewRules(id) {
  const region = h("div", { role: "alert" });
  let res;
  try {
    res = await api("GET", `/resources/${enc(id)}`);
  } catch (e) {
    page("Regeln", region);
    return say(region, sentence(e), "error");
  }
  const rules = res.rules || { opening_hours: [] };
  const week = WEEKDAYS.map((d, i) => h("input", { id: `wd-${i + 1}`, value: hoursText(rules.opening_hours.filter((o) => Number(o.weekday) === i + 1)), "aria-describedby": "hours-hint" }));
  const special = h("textarea", { id: "special", rows: "4", "aria-describedby": "special-hint" }, (rules.special_days || []).map((d) => `${germanDate(d.date)} ${hoursText(d.opening_hours)}`).join("\n"));
  const closures = h("textarea", { id: "closures", rows: "4", "aria-describedby": "closures-hint" }, (rules.closures || []).map((c) => `${germanDate(c.from)}–${germanDate(c.to)}${c.reason ? ` ${c.reason}` : ""}`).join("\n"));
  const NUMBERS = [
    ["buffer_before_minutes", "Puffer vorher (Minuten)"],
    ["buffer_after_minutes", "Puffer nachher (Minuten)"],
    ["granularity_minutes", "Raster (Minuten, 0 = frei)"],
    ["min_duration_minutes", "Mindestdauer (Minuten)"],
    ["max_duration_minutes", "Höchstdauer (Minuten, 0 = 31 Tage)"],
    ["lead_time_minutes", "Vorlauf (Minuten)"],
    ["horizon_days", "Buchbar im Voraus (Tage, 0 = 5 Jahre)"],
  ];
  const numbers = NUMBERS.map(([k]) => h("input", { id: `n-${k}`, type: "number", min: "0", value: String(rules[k] || 0) }));
  const preview = h("ol", { class: "preview", "aria-label": "Die nächsten 14 Tage" });

  // The form as rules, or a sentence naming what to fix.
  const read = () => {
    const out = { opening_hours: [], special_days: [], closures: [] };
    for (const [i, input] of week.entries()) {
      const hours = parseHours(input.value);
      if (!hours) return `${WEEKDAYS[i]}: bitte Zeiten wie 08:00–22:00 angeben, mehrere mit Komma, oder „geschlossen“.`;
      out.opening_hours.push(...hours.map((x) => ({ weekday: i + 1, ...x })));
    }
    for (const [i, line] of special.value.split("\n").map((l) => l.trim()).filter(Boolean).entries()) {
      const [first, ...rest] = line.split(/\s+/);
      const date = parseDate(first);
      const hours = parseHours(rest.join(" "));
      if (!date || !hours) return `Sondertage, Zeile ${i + 1}: bitte Datum und Zeiten, z. B. „24.12.2027 10:00–14:00“ oder „24.12.2027 geschlossen“.`;
      out.special_days.push({ date, opening_hours: hours });
    }
    for (const [i, line] of closures.value.split("\n").map((l) => l.trim()).filter(Boolean).entries()) {
      // "von–bis Grund", or one day alone: "24.12.2027 Grund".
      const D = "(\\d{1,2}\\.\\d{1,2}\\.\\d{4}|\\d{4}-\\d{2}-\\d{2})";
      const m = new RegExp(`^${D}(?:\\s*(?:–|-|bis)\\s*${D})?\\s*(.*)$`).exec(line);
      const from = m && parseDate(m[1]);
      const to = m && parseDate(m[2] || m[1]);
      if (!from || !to || to < from) return `Schließzeiten, Zeile ${i + 1}: bitte „von–bis Grund“, z. B. „20.07.2027–07.08.2027 Sommerpause“.`;
      out.closures.push({ from, to, reason: m[3] || "" });
    }
    for (const [i, [k, label]] of NUMBERS.entries()) {
      const n = Number(numbers[i].value || 0);
      if (!Number.isInteger(n) || n < 0) return `${label}: bitte eine ganze Zahl ab 0.`;
      out[k] = n;
    }
    return out;
  };
  const draw = () => {
    const r = read();
    if (typeof r === "string") return preview.replaceChildren(h("li", { class: "msg error" }, r));
    const holidays = new Map((tenant.holidays || []).map((x) => [x.date, x.name]));
    preview.replaceChildren(
      ...[...Array(14).keys()].map((i) => {
        const day = addDays(today(), i);
        const wd = (new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7;
        const sd = r.special_days.find((x) => x.date === day);
        const closure = r.closures.find((c) => c.from <= day && day <= c.to);
        let text;
        if (sd) text = `${hoursText(sd.opening_hours)} (Sondertag)`;
        else if (closure) text = `geschlossen${closure.reason ? ` (${closure.reason})` : ""}`;
        else if (holidays.has(day)) text = `geschlossen (${holidays.get(day)})`;
        else text = hoursText(r.opening_hours.filter((o) => o.weekday === wd + 1));
        return h("li", {}, h("span", { class: "day" }, localDay(day)), " ", text);
      }),
    );
  };
  const save = async (e) => {
    e.preventDefault();
    const r = read();
    if (typeof r === "string") return say(region, r, "error");
    try {
      await api("PUT", `/resources/${enc(id)}/rules`, r);
      say(region, `${res.name}: Die Regeln sind gespeichert und gelten ab sofort für neue Buchungen.`, "ok");
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  const form = h(
    "form",
    { class: "booking-form", novalidate: true, oninput: draw, onsubmit: save },
    h("fieldset", {}, h("legend", {}, "Öffnungszeiten je Wochentag"), h("p", { class: "hint", id: "hours-hint" }, "Zum Beispiel 08:00–22:00; mehrere Zeiten mit Komma; leer oder „geschlossen“."), week.map((input, i) => field(WEEKDAYS[i], input))),
    h(
      "fieldset",
      {},
      h("legend", {}, "Ausnahmen"),
      field("Sondertage (ersetzen die Wochenzeiten)", special),
      h("p", { class: "hint", id: "special-hint" }, "Eine Zeile je Tag: „24.12.2027 10:00–14:00“ oder „31.12.2027 geschlossen“."),
      field("Schließzeiten", closures),
      h("p", { class: "hint", id: "closures-hint" }, "Eine Zeile je Zeitraum: „20.07.2027–07.08.2027 Sommerpause“, oder ein Tag: „24.12.2027 Betriebsferien“."),
      NUMBERS.map(([, label], i) => field(label, numbers[i])),
    ),
    h("section", { class: "preview-box", "aria-labelledby": "preview-title" }, h("h2", { id: "preview-title" }, "So sind die nächsten 14 Tage"), preview),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Regeln speichern"), h("a", { href: "#/einrichtung" }, "Zurück zur Einrichtung")),
  );
  const here = page(`${res.name}: Öffnungszeiten und Regeln`, setupTabs(""), region, form);
  if (res.kind === "event") later(here).append(await sessionsSection(res, region));
  later(here).append(await doorSection(res, region));
  draw();
}

// The resource's door: the lock provider's id of its lock. Confirmed
// bookings then get a door code (README "Door codes").
async function doorSection(res, region) {
  const settings = await api("GET", "/doors/settings");
  const input = h("input", { id: "door-point", value: settings.doors[res.id] || "", "aria-describedby": "door-hint", autocomplete: "off" });
  const save = async (e) => {
    e.preventDefault();
    const point = input.value.trim();
    if (point && !/^[A-Za-z0-9._:-]{1,100}$/.test(point)) return say(region, "Tür: bitte nur Buchstaben ohne Umlaute, Ziffern, Punkt, Unterstrich, Doppelpunkt oder Bindestrich (höchstens 100 Zeichen).", "error");
    try {
      await api("PUT", `/resources/${enc(res.id)}/door`, { access_point: point || null });
      say(region, point ? `${res.name}: Bestätigte Buchungen bekommen einen Türcode für die Tür „${point}“.` : `${res.name}: keine Tür mehr; ausgegebene Türcodes werden gesperrt.`, "ok");
    } catch (err) {
      say(region, sentence(err), "error");
    }
  };
  return h(
    "section",
    { "aria-labelledby": "door-title" },
    h("h2", { id: "door-title" }, "Tür und Türcodes"),
    settings.provider ? "" : h("p", { class: "hint" }, "Dieser Server ist mit keinem Schloss-Anbieter verbunden (saalbuchd --door-url); es werden keine Türcodes ausgegeben."),
    h(
      "form",
      { class: "booking-form", novalidate: true, onsubmit: save },
      field("Tür (Kennung beim Schloss-Anbieter, leer: keine)", input),
      h("p", { class: "hint", id: "door-hint" }, `Ein Code gilt ${settings.before_minutes} Minuten vor bis ${settings.after_minutes} Minuten nach der Buchung; die buchende Person sieht ihn ${Math.round(settings.reveal_minutes / 60)} Stunden vor Beginn.`),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Tür speichern")),
    ),
  );
}

// ---- the operator's pages (/betrieb/) ----

const HOLD = {
  integrity_alarm: "Integritätsalarm: Das Protokoll passt nicht zu dem, was der Server daneben geschrieben hat. Es wurde geändert, gekürzt oder der Signaturschlüssel fehlt.",
  time_zone_unknown: "Die Zeitzone des Mandanten fehlt in der Zeitzonen-Datenbank dieses Rechners.",
};
const HOLD_ACTION = {
  integrity_alarm: (id) => `Prüfen Sie das Protokoll mit saalbuch-replay verify --tenant ${id} und diff (README, „Integrity alarms“). Ist es nicht vertrauenswürdig: Server anhalten und die letzte gute Sicherung zurückspielen (saalbuch-backup restore). Ist die Änderung verstanden und gewollt: einmal mit saalbuchd --accept-log ${id} starten.`,
  time_zone_unknown: () => "Installieren Sie die Zeitzone (Debian: Paket tzdata) und starten Sie den Server neu.",
};
const bytesText = (n) => (n >= 1 << 30 ? `${(n / (1 << 30)).toLocaleString("de-DE", { maximumFractionDigits: 1 })} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toLocaleString("de-DE", { maximumFractionDigits: 1 })} MiB` : `${Math.ceil(n / 1024).toLocaleString("de-DE")} KiB`);

// Every tenant with its log, how far the projections follow it and whether
// it is held; integrity alarms first, each with what to do.
async function viewTenants() {
  const region = h("div", { role: "status" });
  const list = h("div", {});
  page("Mandanten", region, list, newTenantForm(region, list));
  await drawTenants(list, region);
}

// Tenants this page created: the list reads the projections, which may not
// hold a brand-new tenant's name yet.
const createdTenants = new Map();

async function drawTenants(box, region) {
  try {
    const { items, server } = await api("GET", "/tenants");
    for (const t of items) if (!t.name && createdTenants.has(t.id)) Object.assign(t, createdTenants.get(t.id));
    const held = items.filter((t) => t.hold);
    box.replaceChildren(
      held.length
        ? h(
            "section",
            { class: "alarm", "aria-labelledby": "alarm-h" },
            h("h2", { id: "alarm-h" }, held.length === 1 ? "Ein Mandant ist angehalten" : `${held.length} Mandanten sind angehalten`),
            held.map((t) => h("div", {}, h("p", {}, h("strong", {}, `${t.name || t.id} (${t.id}), ab Eintrag ${t.hold.position}: `), HOLD[t.hold.code] || t.hold.message), h("p", {}, HOLD_ACTION[t.hold.code] ? HOLD_ACTION[t.hold.code](t.id) : "Bitte prüfen Sie das Protokoll des Servers."), h("p", { class: "hint" }, `Meldung des Servers: ${t.hold.message}`))),
          )
        : h("p", { class: "msg ok" }, "Alle Mandanten sind in Betrieb; kein Integritätsalarm."),
      h("p", { class: "hint" }, `Server ${server.version}, gestartet ${utcText(server.started_at)}. ${server.backups ? "Sicherungen sind eingerichtet." : "Sicherungen sind nicht eingerichtet (saalbuchd --backup-dir)."}`),
      listTable(
        `${count(items.length, "Mandant", "Mandanten")}`,
        ["Mandant", "Kennung", "Zeitzone", "Einträge im Protokoll", "Auswertungen", "Zustand", "Verwaltung"],
        items.map((t) => [
          t.name || "–",
          h("code", {}, t.id),
          t.time_zone || "–",
          t.head.toLocaleString("de-DE"),
          t.projected >= t.head ? "aktuell" : `${(t.head - t.projected).toLocaleString("de-DE")} Einträge zurück`,
          t.hold ? h("span", { class: "chip st-no_show" }, "angehalten") : h("span", { class: "chip st-confirmed" }, "in Betrieb"),
          h("a", { href: `/admin/${enc(t.id)}/` }, "öffnen", h("span", { class: "sr" }, ` (Verwaltung von ${t.name || t.id})`)),
        ]),
        [3],
      ),
    );
  } catch (e) {
    say(region, sentence(e), "error");
  }
}

// A new tenant, and with the admin key it returns (shown once) the
// invitation of its first admin, so that the town's own people take over.
function newTenantForm(region, list) {
  const id = h("input", { id: "t-id", required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,63}", autocomplete: "off", "aria-describedby": "t-id-hint" });
  const name = h("input", { id: "t-name", required: true, maxlength: "200", autocomplete: "off" });
  const zone = h("input", { id: "t-zone", value: "Europe/Berlin", autocomplete: "off" });
  const email = h("input", { id: "t-email", type: "email", autocomplete: "off" });
  const person = h("input", { id: "t-person", autocomplete: "off" });
  const result = h("div", {});
  const form = h(
    "form",
    {
      class: "card-form",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        result.replaceChildren();
        if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id.value.trim())) return say(region, "Die Kennung darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten und nicht mit einem Bindestrich beginnen, zum Beispiel „stadt-bibliothek“.", "error");
        if (!name.value.trim()) return say(region, "Bitte geben Sie den Namen des Mandanten an.", "error");
        if (email.value && !person.value) return say(region, "Bitte geben Sie auch den Namen der ersten Verwaltungsperson an.", "error");
        let t;
        try {
          t = await api("POST", "/v1/tenants", { id: id.value.trim(), name: name.value.trim(), time_zone: zone.value.trim() });
        } catch (err) {
          return say(region, sentence(err), "error");
        }
        createdTenants.set(t.id, { name: t.name, time_zone: t.time_zone });
        const parts = [h("p", { class: "msg ok" }, `Mandant „${t.name}“ (${t.id}) ist angelegt.`), h("p", {}, "Der erste Verwaltungsschlüssel (für Programme; wird nur jetzt angezeigt):"), h("p", {}, h("code", { class: "invite-link" }, t.admin_key.key))];
        if (email.value) {
          try {
            const r = await api("POST", `/v1/tenants/${enc(t.id)}/accounts`, { email: email.value.trim(), name: person.value.trim(), role: "admin" }, "application/json", { Authorization: `Bearer ${t.admin_key.key}` });
            parts.push(h("p", {}, r.invite_mailed ? `${person.value} ist eingeladen; die Einladung geht per E-Mail an ${email.value}. Kommt sie nicht an, geben Sie diesen Link weiter (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):` : `${person.value} ist als Verwaltung eingeladen. Geben Sie ihr/ihm diesen Link (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):`), h("p", {}, h("code", { class: "invite-link" }, location.origin + r.invite_path)));
          } catch (err) {
            parts.push(h("p", { class: "msg error" }, `Die Einladung ging nicht: ${sentence(err)} Laden Sie die Person mit dem Schlüssel oben über die Verwaltung des Mandanten ein.`));
          }
        }
        result.replaceChildren(...parts);
        id.value = name.value = email.value = person.value = "";
        say(region, "");
        await drawTenants(list, region);
      },
    },
    h("h2", {}, "Neuen Mandanten anlegen"),
    h("div", { class: "row" }, field("Kennung", id), field("Name", name), field("Zeitzone", zone)),
    h("p", { id: "t-id-hint", class: "hint" }, "Die Kennung steht in den Adressen (/book/kennung); nur Kleinbuchstaben, Ziffern und Bindestriche, zum Beispiel „stadt-musterstadt“. Sie lässt sich später nicht ändern."),
    h("fieldset", {}, h("legend", {}, "Erste Verwaltungsperson (freiwillig)"), h("div", { class: "row" }, field("E-Mail-Adresse", email), field("Name der Person", person))),
    h("button", { type: "submit" }, "Mandanten anlegen"),
    result,
  );
  return form;
}

async function viewBackups() {
  const region = h("div", { role: "status" });
  const list = h("div", {});
  const button = h("button", { type: "button" }, "Jetzt sichern");
  button.addEventListener("click", async () => {
    button.disabled = true;
    say(region, "Die Sicherung läuft. Der Server bedient weiter; das dauert je nach Datenmenge einige Sekunden bis Minuten.");
    try {
      const b = await api("POST", "/backups", {});
      const took = b.seconds < 1 ? "in weniger als einer Sekunde" : `in ${b.seconds.toLocaleString("de-DE", { maximumFractionDigits: 1 })} s`;
      say(region, `Sicherung ${b.id} ist fertig: ${bytesText(b.size_bytes)} in ${b.files} Dateien, ${took}.`, "ok");
    } catch (err) {
      say(region, sentence(err), "error");
    }
    button.disabled = false;
    drawBackups(list, region);
  });
  page(
    "Sicherungen",
    region,
    h("p", { class: "hint" }, "Eine Sicherung enthält alle Mandanten und alles, was bis zu ihrem Beginn bestätigt wurde; der Server bedient währenddessen weiter. Zurückgespielt wird bei angehaltenem Server mit saalbuch-backup restore; prüfen lässt sich eine Sicherung mit saalbuch-replay --backup."),
    h("p", {}, button),
    list,
  );
  drawBackups(list, region);
}

async function drawBackups(box, region) {
  try {
    const { items, running } = await api("GET", "/backups");
    box.replaceChildren(
      running ? h("p", { class: "msg info" }, "Gerade läuft eine Sicherung.") : "",
      items.length
        ? listTable(
            `${count(items.length, "Sicherung", "Sicherungen")}, die neueste zuerst`,
            ["Nummer", "Erstellt", "Größe", "Dateien", "Mandanten"],
            [...items].reverse().map((b) => [String(b.id), utcText(b.created_at), bytesText(b.size_bytes), String(b.files), String(Object.keys(b.heads || {}).filter((t) => t !== "_operator").length)]),
            [2, 3, 4],
          )
        : h("p", {}, "Noch keine Sicherung."),
    );
  } catch (e) {
    box.replaceChildren();
    if (e.problem && e.problem.code === "backups_not_configured") say(region, "Dieser Server hat kein Sicherungsverzeichnis. Starten Sie saalbuchd mit --backup-dir (oder SAALBUCH_BACKUP_DIR), am besten auf einem anderen Datenträger.", "error");
    else say(region, sentence(e), "error");
  }
}

// The first operator account, made with the operator key (the file
// <data>/operator.key, or SAALBUCH_OPERATOR_KEY): whoever may read it may
// run the server anyway.
function firstOperatorForm() {
  const region = h("div", { role: "status" });
  const key = h("input", { id: "op-key", type: "password", autocomplete: "off", required: true });
  const email = h("input", { id: "op-email", type: "email", autocomplete: "off", required: true });
  const name = h("input", { id: "op-name", autocomplete: "off", required: true });
  const form = h(
    "form",
    {
      class: "card-form",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api("POST", "/accounts", { email: email.value.trim(), name: name.value.trim(), role: "admin" }, "application/json", { Authorization: `Bearer ${key.value.trim()}` });
          key.value = "";
          region.replaceChildren(h("p", { class: "msg ok" }, r.invite_mailed ? `Die Einladung geht per E-Mail an ${email.value}. Oder öffnen Sie diesen Link (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):` : `Das Konto ist angelegt. Öffnen Sie diesen Link und legen Sie das Passwort fest (gültig bis ${utcText(r.invite_expires_at)}, nur einmal nutzbar):`), h("p", {}, h("a", { href: r.invite_path }, location.origin + r.invite_path)));
        } catch (err) {
          say(region, err.problem && err.problem.code === "unauthenticated" ? "Das ist nicht der Betriebsschlüssel dieses Servers." : sentence(err), "error");
        }
      },
    },
    h("p", { class: "hint" }, "Wer den Betriebsschlüssel kennt (die Datei operator.key im Datenverzeichnis), legt hier ein Betriebskonto an; mit diesem lädt man weitere ein."),
    field("Betriebsschlüssel", key),
    field("E-Mail-Adresse", email),
    field("Name", name),
    h("button", { type: "submit", class: "secondary" }, "Konto anlegen"),
    region,
  );
  return h("details", { class: "card" }, h("summary", {}, "Noch kein Konto? Mit dem Betriebsschlüssel anlegen"), form);
}

// ---- sign-in, invitation, shell ----

function viewSignIn(message) {
  const region = h("div", { role: "alert" });
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  // The second step for an account with a second factor: the app's code.
  const code = h("input", { id: "totp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", pattern: "[0-9]{6}" });
  const codeField = h("div", { class: "field", hidden: true }, h("label", { for: "totp" }, "Code aus der Authenticator-App"), code);
  const form = h(
    "form",
    {
      class: "signin card",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const body = { email: email.value, password: password.value };
          if (!codeField.hidden) body.totp = code.value.trim();
          const r = await api("POST", "/session", body);
          csrf = r.csrf_token;
          await loadSession();
          // A new fragment renders through the hashchange listener; render
          // directly only when it stays the same (never both: twice the view).
          if (location.hash === "" || location.hash === "#/") location.hash = OPERATOR ? "#/mandanten" : "#/heute";
          else render();
        } catch (err) {
          const c = err.problem && err.problem.code;
          if (c === "totp_required" || c === "totp_failed") {
            codeField.hidden = false;
            say(region, c === "totp_required" ? "Bitte geben Sie auch den sechsstelligen Code aus Ihrer Authenticator-App ein." : sentence(err), c === "totp_required" ? "info" : "error");
            code.value = "";
            return code.focus();
          }
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
    codeField,
    h("button", { type: "submit" }, "Anmelden"),
  );
  nav(false);
  page(`Anmelden – ${tenant.name}`, message ? h("p", { class: "msg info" }, message) : "", region, form, OPERATOR ? firstOperatorForm() : "");
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
            history.replaceState(null, "", HOME);
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
  // `also`: the pages that belong to the same area.
  const link = (href, text, show = true, also = []) => (show ? h("li", {}, h("a", { href, "aria-current": [href, ...also].some((x) => location.hash.startsWith(x)) ? "page" : null }, text)) : "");
  const setup = me.totp_setup_required; // only the own account until the second factor is set up
  const op = !setup && OPERATOR;
  const tenantLinks = !setup && !OPERATOR;
  bar.replaceChildren(
    h(
      "ul",
      {},
      setup ? link("#/ich", "Mein Konto") : "",
      op && link("#/mandanten", "Mandanten"),
      op && link("#/sicherungen", "Sicherungen"),
      op && link("#/konten", "Betriebskonten"),
      tenantLinks && link("#/heute", "Heute", may.seeBookings()),
      tenantLinks && link("#/kalender", "Kalender", may.seeBookings()),
      tenantLinks && link("#/buchungen", "Buchungen", may.seeBookings()),
      tenantLinks && link("#/freigaben", "Freigaben", may.seeBookings()),
      tenantLinks && link("#/telefon", "Telefonbuchung", may.book()),
      tenantLinks && link("#/kunden", "Kundschaft", may.seeBookings(), ["#/kunde/"]),
      tenantLinks && link("#/finanzen", "Finanzen", may.seeFinance(), ["#/rechnung/", ...(may.setup() ? [] : ["#/tarife"])]),
      tenantLinks && link("#/statistik", "Statistik"),
      tenantLinks && link("#/protokoll", "Protokoll", may.audit()),
      tenantLinks && link("#/einrichtung", "Einrichtung", may.setup(), ["#/tarife", "#/zusatzleistungen", "#/auftritt"]),
      tenantLinks && link("#/konten", "Konten", may.accounts()),
    ),
    h(
      "div",
      { class: "who" },
      h("a", { href: "#/ich", "aria-current": location.hash.startsWith("#/ich") ? "page" : null }, `${me.name || me.email} · ${roleText(me.role)}`),
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
  if (me.totp_setup_required) return viewMe(true);
  if (OPERATOR) return operatorRoute();
  const hash = location.hash.slice(1) || "/heute";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  if (path === "/ich") return viewMe(false); // every role
  if (path === "/finanzen" && may.seeFinance()) return viewFinance();
  if (path === "/finanzen/rechnungen" && may.seeFinance()) return viewInvoices(params);
  if (path === "/finanzen/zahlungen" && may.seeFinance()) return viewPayments();
  if (path === "/finanzen/gutschriften" && may.seeFinance()) return viewCreditNotes();
  if (path === "/finanzen/buecher" && may.seeFinance()) return viewBooks(params);
  if (path.startsWith("/rechnung/") && may.seeFinance()) return viewInvoice(decodeURIComponent(path.slice(10)));
  if (path === "/einrichtung" && may.setup()) return viewSetup();
  if (path === "/tarife" && (may.setup() || may.seeFinance())) return viewTariffs();
  if (path === "/zusatzleistungen" && may.setup()) return viewAddons();
  if (path === "/auftritt" && may.setup()) return viewPublic();
  if (path.startsWith("/einrichtung/") && may.setup()) return viewRules(decodeURIComponent(path.slice(13)));
  if (path === "/protokoll" && may.audit()) return viewAudit(params);
  if (path === "/statistik") return viewStatistics(params); // every role
  if (!may.seeBookings()) return viewFinance();
  if (path.startsWith("/buchung/")) return viewBooking(decodeURIComponent(path.slice(9)));
  if (path === "/buchungen") return viewSearch(params);
  if (path === "/freigaben") return viewApprovals();
  if (path === "/kalender") return viewWeek(params);
  if (path === "/telefon" && may.book()) return viewPhone(params);
  if (path === "/konten" && may.accounts()) return viewAccounts();
  if (path === "/kunden") return viewCustomers();
  if (path.startsWith("/kunde/")) return viewCustomer(decodeURIComponent(path.slice(7)));
  return viewToday();
}
const render = route;

function operatorRoute() {
  const path = location.hash.slice(1).split("?")[0];
  if (path === "/ich") return viewMe(false);
  if (path === "/sicherungen") return viewBackups();
  if (path === "/konten") return viewAccounts();
  return viewTenants();
}

// The tenant's name, time zone and resources, which every view uses.
async function loadTenant() {
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
}

async function start() {
  if (OPERATOR) {
    tenant = { name: "Betrieb", time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone };
    document.querySelector("[data-tenant-name]").textContent = "Saalbuch · Betrieb";
  } else {
    await loadTenant();
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
