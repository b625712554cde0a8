/*
 * Saalbuch widget, v1 — the citizens' side of Saalbuch in any web page.
 *
 *   <script type="module" src="https://SAALBUCH/widget/v1/saalbuch.js"></script>
 *   <saalbuch-booking tenant="buergerhaus" resource="grosser-saal" lang="de"></saalbuch-booking>
 *
 * Elements: <saalbuch-catalog tenant kind lang>, <saalbuch-booking tenant
 * resource lang>, and for the pages Saalbuch hosts <saalbuch-manage tenant
 * booking lang> and <saalbuch-pay tenant invoice lang>. <div
 * class="saalbuch-booking" data-tenant=… data-resource=…> (and
 * .saalbuch-catalog) works where a CMS strips unknown tags. Everything
 * renders in a shadow root; styling hooks are CSS custom properties
 * (--saalbuch-…) and ::part() names, listed in web/README.md. Events for the
 * host page: saalbuch:booked and saalbuch:paid (CustomEvent, detail.number).
 *
 * No framework and no dependency: the host page loads one file, and the
 * widget speaks only to the public HTTP API of the server it came from.
 * Every text is built with textContent (never innerHTML), so nothing a
 * tenant or booker typed can become markup.
 */

const ORIGIN = new URL(import.meta.url).origin;
const MIN = 60000;
const DAY = 86400000;

// ---------------------------------------------------------------- texts --

const TEXT = {
  de: {
    loading: "Wird geladen …",
    prevWeek: "Vorherige Woche",
    nextWeek: "Nächste Woche",
    week: "Woche",
    day: "Tag",
    free: "Frei",
    choose: "Auswählen",
    chosen: "Ausgewählt",
    closed: "geschlossen",
    fullyBooked: "ausgebucht",
    noTimes: "An diesem Tag ist keine Buchung möglich.",
    dayChosen: (d, n) => `${d}: ${n} mögliche Anfangszeiten.`,
    start: "Beginn",
    end: "Ende",
    units: "Anzahl",
    seats: "Plätze",
    unitsLeft: (n) => `noch ${n} frei`,
    seatsLeft: (n) => (n === 0 ? "ausgebucht" : `noch ${n} ${n === 1 ? "Platz" : "Plätze"} frei`),
    sessions: "Termine",
    noSessions: "Zurzeit sind keine Termine geplant.",
    addons: "Zusätzlich buchen",
    addonMandatory: "(wird immer mitgebucht)",
    series: "Regelmäßig buchen",
    seriesWeekly: "Jede Woche zur gleichen Zeit wiederholen",
    seriesCount: "Anzahl der Termine",
    contact: "Ihre Angaben",
    name: "Name",
    email: "E-Mail-Adresse",
    phone: "Telefon (freiwillig)",
    notes: "Anlass oder Hinweise (freiwillig)",
    consent: "Ich willige ein, dass meine Angaben zur Bearbeitung dieser Buchung gespeichert werden.",
    privacy: "Datenschutzhinweise",
    terms: "Nutzungsbedingungen",
    required: "Pflichtfeld",
    book: "Jetzt buchen",
    request: "Buchung absenden",
    sending: "Wird gesendet …",
    price: "Preis",
    priceFree: "kostenlos",
    priceEstimate: (p) => `voraussichtlich ${p} (inkl. USt.)`,
    perHour: "pro Stunde",
    perBooking: "pro Buchung",
    perUnit: "pro Stück",
    summary: "Ihre Auswahl",
    chooseTime: "Bitte wählen Sie zuerst einen Tag und eine Uhrzeit.",
    errName: "Bitte geben Sie Ihren Namen an.",
    errEmail: "Bitte geben Sie eine gültige E-Mail-Adresse an.",
    address: "Rechnungsanschrift",
    addressWhy: "Eine Rechnung über 250 € muss Ihren vollständigen Namen und Ihre Anschrift nennen (§ 14 UStG).",
    addressName: "Name auf der Rechnung (freiwillig, z. B. Ihr Verein)",
    street: "Straße und Hausnummer",
    postcode: "Postleitzahl",
    city: "Ort",
    errStreet: "Bitte geben Sie Straße und Hausnummer an.",
    errPostcode: "Bitte geben Sie die Postleitzahl an.",
    errCity: "Bitte geben Sie den Ort an.",
    errConsent: "Bitte bestätigen Sie die Einwilligung.",
    errForm: "Bitte prüfen Sie die markierten Felder.",
    suggestions: "Diese Zeiten sind noch frei:",
    noSuggestions: "In den nächsten Tagen ist keine gleich lange Zeit frei.",
    doneTitle: { confirmed: "Gebucht", held: "Vorgemerkt", requested: "Anfrage gesendet" },
    doneText: {
      confirmed: "Ihre Buchung ist bestätigt. Eine Bestätigung geht an Ihre E-Mail-Adresse.",
      held: "Der Termin ist für Sie vorgemerkt. Er wird mit der Zahlung verbindlich; ohne Zahlung verfällt er am {until}.",
      requested: "Ihre Anfrage wird geprüft. Sie erhalten eine E-Mail, sobald sie entschieden ist.",
    },
    number: "Buchungsnummer",
    when: "Wann",
    what: "Was",
    manageLink: "Buchung ansehen, ändern oder stornieren",
    manageHint: "Diesen Link bekommen Sie auch per E-Mail. Er ist Ihr Zugang zu dieser Buchung; geben Sie ihn nicht weiter.",
    ics: "In den Kalender (.ics)",
    pay: "Jetzt bezahlen",
    payAmount: (p) => `Zu zahlen: ${p}`,
    another: "Weitere Buchung",
    invoice: "Rechnung",
    seriesDone: (n) => `${n} Termine gebucht.`,
    paidNotice: (n) => `Vielen Dank – die Zahlung für ${n} ist eingegangen.`,
    catalogEmpty: "Hier gibt es zurzeit nichts zu buchen.",
    kinds: { room: "Raum", device: "Gerät", pool: "Zum Ausleihen", event: "Kurs / Veranstaltung" },
    capacityPool: (n) => `${n} Stück`,
    capacityEvent: (n) => `${n} Plätze`,
    parts: "Auch in Teilen buchbar:",
    back: "Zurück zur Übersicht",
    bookThis: (n) => `${n} buchen`,
    needsQualification: "Nur nach Einweisung buchbar.",
    manageTitle: (n) => `Ihre Buchung ${n}`,
    status: "Stand",
    statuses: {
      requested: "angefragt – wird geprüft",
      held: "vorgemerkt – noch nicht bezahlt",
      confirmed: "bestätigt",
      completed: "abgeschlossen",
      no_show: "nicht wahrgenommen",
      rejected: "abgelehnt",
      cancelled: "storniert",
      expired: "verfallen",
    },
    statusText: {
      requested: "Ihre Anfrage wird geprüft. Sie erhalten eine E-Mail, sobald sie entschieden ist.",
      held: "Der Termin ist vorgemerkt und wird mit der Zahlung verbindlich.",
      confirmed: "Ihre Buchung gilt. Sie können sie bis zum Beginn ändern oder stornieren.",
      completed: "Der Termin hat stattgefunden.",
      no_show: "Der Termin wurde nicht wahrgenommen.",
      rejected: "Die Anfrage wurde abgelehnt. Sie können einen anderen Termin buchen.",
      cancelled: "Diese Buchung ist storniert und gilt nicht mehr.",
      expired: "Die Vormerkung ist verfallen, weil sie nicht rechtzeitig bezahlt oder bestätigt wurde. Der Termin ist wieder frei.",
    },
    history: "Verlauf",
    events: {
      placed: "Gebucht",
      approved: "Angenommen",
      hold_started: "Vorgemerkt",
      confirmed: "Bestätigt",
      rejected: "Abgelehnt",
      expired: "Verfallen",
      cancelled: "Storniert",
      completed: "Abgeschlossen",
      no_show: "Nicht wahrgenommen",
      rescheduled: "Verlegt",
      notified: "E-Mail gesendet",
      person_erased: "Persönliche Daten gelöscht",
    },
    by: { booker: "von Ihnen", staff: "von der Verwaltung", payment: "durch die Zahlung" },
    movedTo: (t) => `auf ${t}`,
    bookedBy: "Gebucht für",
    heldUntil: "Vorgemerkt bis",
    doorCode: "Türcode",
    doorValid: "Der Code öffnet die Tür in dieser Zeit. Geben Sie ihn nicht weiter.",
    doorLater: (when) => `Ihren Türcode sehen Sie hier ab ${when}; dann bekommen Sie ihn auch per E-Mail.`,
    doorPending: "Ihr Türcode wird gerade erstellt. Bitte laden Sie die Seite in einigen Minuten neu.",
    erased: "Die persönlichen Daten zu dieser Buchung wurden gelöscht.",
    invoiceStatus: {
      open: "offen",
      partly_paid: "teilweise bezahlt",
      paid: "bezahlt",
      overpaid: "überzahlt – der Rest wird erstattet",
      cancelled: "storniert",
    },
    total: "Betrag",
    open: "Offen",
    due: "Fällig am",
    kassenzeichen: "Kassenzeichen (bei Überweisung angeben)",
    invoicePdf: (n) => `Rechnung ${n} (PDF)`,
    invoiceXml: (n) => `E-Rechnung ${n} (XML)`,
    receiptPdf: (n) => `Zahlungsbeleg ${n} (PDF)`,
    creditPdf: (n) => `Gutschrift ${n} (PDF)`,
    reschedule: "Termin ändern",
    rescheduleTitle: "Neuen Termin wählen",
    rescheduleSubmit: "Auf diesen Termin verlegen",
    rescheduled: "Die Buchung wurde verlegt.",
    cancel: "Buchung stornieren",
    cancelTitle: "Buchung stornieren?",
    cancelFree: "Die Stornierung ist kostenlos.",
    cancelFee: (fee, pct) => `Es fällt eine Stornogebühr von ${fee} an (${pct} % des Preises).`,
    cancelRefund: (r) => `${r} werden Ihnen erstattet.`,
    cancelReason: "Grund (freiwillig)",
    cancelConfirm: "Ja, verbindlich stornieren",
    keep: "Nein, Buchung behalten",
    cancelled: "Die Buchung ist storniert.",
    noToken: "Der Link ist unvollständig. Bitte öffnen Sie ihn genau so, wie er in Ihrer E-Mail steht.",
    notFound: "Diese Buchung wurde nicht gefunden, oder der Link gilt nicht mehr.",
    archived: "Diese Buchung liegt mehr als 400 Tage zurück und ist archiviert. Bei Fragen wenden Sie sich bitte an die Verwaltung.",
    payTitle: "Bezahlen",
    payIntro: "Sie werden zum Zahlungsanbieter weitergeleitet und kommen danach hierher zurück.",
    payGo: "Weiter zur Zahlung",
    payNothing: "Für diese Rechnung ist nichts mehr zu zahlen.",
    payWaiting: "Wir warten auf die Bestätigung des Zahlungsanbieters …",
    paySuccess: "Vielen Dank! Die Zahlung ist eingegangen.",
    payConfirmed: (n) => `Ihre Buchung ${n} ist damit bestätigt.`,
    payFailed: "Die Zahlung wurde nicht abgeschlossen. Es wurde nichts abgebucht.",
    payRetry: "Erneut versuchen",
    payPending: "Der Zahlungsanbieter hat die Zahlung noch nicht bestätigt. Das kann einige Minuten dauern; den Stand sehen Sie jederzeit über den Link in Ihrer E-Mail.",
    payNoToken: "Diese Seite kennt Ihre Buchung nicht (zum Beispiel in einem neuen Fenster geöffnet). Den Stand Ihrer Zahlung sehen Sie über den Link in Ihrer E-Mail.",
    toBooking: "Zur Buchung",
    toSite: "Zurück zur Website",
    download: "Herunterladen",
    close: "Schließen",
  },
  en: {
    loading: "Loading …",
    prevWeek: "Previous week",
    nextWeek: "Next week",
    week: "Week",
    day: "Day",
    free: "Free",
    choose: "Choose",
    chosen: "Chosen",
    closed: "closed",
    fullyBooked: "fully booked",
    noTimes: "No booking is possible on this day.",
    dayChosen: (d, n) => `${d}: ${n} possible start times.`,
    start: "Start",
    end: "End",
    units: "Quantity",
    seats: "Seats",
    unitsLeft: (n) => `${n} left`,
    seatsLeft: (n) => (n === 0 ? "fully booked" : `${n} ${n === 1 ? "seat" : "seats"} left`),
    sessions: "Dates",
    noSessions: "No dates are scheduled at the moment.",
    addons: "Add to your booking",
    addonMandatory: "(always included)",
    series: "Book regularly",
    seriesWeekly: "Repeat every week at the same time",
    seriesCount: "Number of dates",
    contact: "Your details",
    name: "Name",
    email: "E-mail address",
    phone: "Phone (optional)",
    notes: "Occasion or notes (optional)",
    consent: "I agree that my details are stored to process this booking.",
    privacy: "Privacy notice",
    terms: "Terms of use",
    required: "required",
    book: "Book now",
    request: "Send booking",
    sending: "Sending …",
    price: "Price",
    priceFree: "free of charge",
    priceEstimate: (p) => `about ${p} (incl. VAT)`,
    perHour: "per hour",
    perBooking: "per booking",
    perUnit: "per item",
    summary: "Your choice",
    chooseTime: "Please choose a day and a time first.",
    errName: "Please enter your name.",
    errEmail: "Please enter a valid e-mail address.",
    address: "Billing address",
    addressWhy: "An invoice over 250 € must state your full name and address (German VAT law, § 14 UStG).",
    addressName: "Name on the invoice (optional, e.g. your club)",
    street: "Street and number",
    postcode: "Postcode",
    city: "Town or city",
    errStreet: "Please enter the street and number.",
    errPostcode: "Please enter the postcode.",
    errCity: "Please enter the town or city.",
    errConsent: "Please give your consent.",
    errForm: "Please check the marked fields.",
    suggestions: "These times are still free:",
    noSuggestions: "No time of the same length is free in the next days.",
    doneTitle: { confirmed: "Booked", held: "On hold", requested: "Request sent" },
    doneText: {
      confirmed: "Your booking is confirmed. A confirmation is on its way to your e-mail address.",
      held: "The time is held for you. It becomes binding once paid; unpaid, it expires on {until}.",
      requested: "Your request will be reviewed. You will get an e-mail as soon as it is decided.",
    },
    number: "Booking number",
    when: "When",
    what: "What",
    manageLink: "View, change or cancel the booking",
    manageHint: "You also get this link by e-mail. It is your access to this booking; do not share it.",
    ics: "Add to calendar (.ics)",
    pay: "Pay now",
    payAmount: (p) => `To pay: ${p}`,
    another: "Book another time",
    invoice: "Invoice",
    seriesDone: (n) => `${n} dates booked.`,
    paidNotice: (n) => `Thank you – the payment for ${n} has been received.`,
    catalogEmpty: "There is nothing to book here at the moment.",
    kinds: { room: "Room", device: "Device", pool: "To borrow", event: "Course / event" },
    capacityPool: (n) => `${n} items`,
    capacityEvent: (n) => `${n} seats`,
    parts: "Also bookable in parts:",
    back: "Back to the overview",
    bookThis: (n) => `Book ${n}`,
    needsQualification: "Bookable only after an introduction.",
    manageTitle: (n) => `Your booking ${n}`,
    status: "Status",
    statuses: {
      requested: "requested – under review",
      held: "on hold – not yet paid",
      confirmed: "confirmed",
      completed: "completed",
      no_show: "not attended",
      rejected: "declined",
      cancelled: "cancelled",
      expired: "expired",
    },
    statusText: {
      requested: "Your request is under review. You will get an e-mail as soon as it is decided.",
      held: "The time is held for you and becomes binding once paid.",
      confirmed: "Your booking stands. You can change or cancel it until it starts.",
      completed: "The booking has taken place.",
      no_show: "The booking was not attended.",
      rejected: "The request was declined. You are welcome to book another time.",
      cancelled: "This booking is cancelled and no longer valid.",
      expired: "The hold expired because it was not paid or confirmed in time. The time is free again.",
    },
    history: "History",
    events: {
      placed: "Booked",
      approved: "Approved",
      hold_started: "Put on hold",
      confirmed: "Confirmed",
      rejected: "Declined",
      expired: "Expired",
      cancelled: "Cancelled",
      completed: "Completed",
      no_show: "Not attended",
      rescheduled: "Moved",
      notified: "E-mail sent",
      person_erased: "Personal data erased",
    },
    by: { booker: "by you", staff: "by the staff", payment: "by the payment" },
    movedTo: (t) => `to ${t}`,
    bookedBy: "Booked for",
    heldUntil: "Held until",
    doorCode: "Door code",
    doorValid: "The code opens the door during this time. Please do not pass it on.",
    doorLater: (when) => `You will see your door code here from ${when}; you will then also get it by e-mail.`,
    doorPending: "Your door code is being made. Please reload this page in a few minutes.",
    erased: "The personal data of this booking has been erased.",
    invoiceStatus: {
      open: "open",
      partly_paid: "partly paid",
      paid: "paid",
      overpaid: "overpaid – the rest will be refunded",
      cancelled: "cancelled",
    },
    total: "Amount",
    open: "Open",
    due: "Due on",
    kassenzeichen: "Payment reference (quote it on a bank transfer)",
    invoicePdf: (n) => `Invoice ${n} (PDF)`,
    invoiceXml: (n) => `E-invoice ${n} (XML)`,
    receiptPdf: (n) => `Receipt ${n} (PDF)`,
    creditPdf: (n) => `Credit note ${n} (PDF)`,
    reschedule: "Change the time",
    rescheduleTitle: "Choose a new time",
    rescheduleSubmit: "Move to this time",
    rescheduled: "The booking has been moved.",
    cancel: "Cancel the booking",
    cancelTitle: "Cancel this booking?",
    cancelFree: "Cancelling is free of charge.",
    cancelFee: (fee, pct) => `A cancellation fee of ${fee} applies (${pct} % of the price).`,
    cancelRefund: (r) => `${r} will be refunded to you.`,
    cancelReason: "Reason (optional)",
    cancelConfirm: "Yes, cancel for good",
    keep: "No, keep the booking",
    cancelled: "The booking is cancelled.",
    noToken: "The link is incomplete. Please open it exactly as it appears in your e-mail.",
    notFound: "This booking was not found, or the link is no longer valid.",
    archived: "This booking ended more than 400 days ago and is archived. Please contact the staff with any questions.",
    payTitle: "Pay",
    payIntro: "You will be taken to the payment provider and brought back here afterwards.",
    payGo: "Continue to payment",
    payNothing: "Nothing is left to pay on this invoice.",
    payWaiting: "Waiting for the payment provider's confirmation …",
    paySuccess: "Thank you! The payment has been received.",
    payConfirmed: (n) => `Your booking ${n} is now confirmed.`,
    payFailed: "The payment was not completed. Nothing has been charged.",
    payRetry: "Try again",
    payPending: "The payment provider has not confirmed the payment yet. This can take a few minutes; the link in your e-mail always shows the current state.",
    payNoToken: "This page does not know your booking (for example, when opened in a new window). The link in your e-mail shows the state of your payment.",
    toBooking: "Go to the booking",
    toSite: "Back to the website",
    download: "Download",
    close: "Close",
  },
};

// Every refusal of the API as a sentence a person understands.
const PROBLEMS = {
  de: {
    booking_conflict: "Diese Zeit ist leider schon belegt (einschließlich der Vor- und Nachbereitungszeit).",
    capacity_exceeded: "Für diese Zeit sind nicht mehr genug Plätze oder Stück frei.",
    outside_opening_hours: "Zu dieser Zeit ist nicht geöffnet.",
    not_on_slot_grid: (d) => `Buchungen beginnen und dauern in Schritten von ${d.granularity_minutes} Minuten.`,
    duration_too_short: (d) => `Eine Buchung dauert mindestens ${hm(d.min_duration_minutes, "de")}.`,
    duration_too_long: (d) => `Eine Buchung dauert höchstens ${hm(d.max_duration_minutes, "de")}.`,
    lead_time_not_met: "So kurzfristig kann hier nicht gebucht werden. Bitte wählen Sie einen späteren Termin.",
    beyond_horizon: "So weit im Voraus kann hier noch nicht gebucht werden.",
    starts_in_the_past: "Diese Zeit liegt in der Vergangenheit.",
    group_not_permitted: "Dieses Angebot kann nicht öffentlich gebucht werden. Bitte wenden Sie sich an die Verwaltung.",
    recipient_required: "Eine Rechnung über 250 € muss Ihre Anschrift nennen. Bitte ergänzen Sie die Rechnungsanschrift.",
    customer_required: "Dieses Angebot können nur registrierte Kundinnen und Kunden buchen. Bitte wenden Sie sich an die Verwaltung.",
    qualification_required: "Dieses Gerät darf nur nach einer Einweisung gebucht werden.",
    qualification_expired: "Ihre Einweisung für dieses Gerät ist abgelaufen.",
    quota_exceeded: "Ihr Kontingent für diesen Zeitraum ist ausgeschöpft.",
    session_required: "Bitte wählen Sie einen Termin.",
    addon_required: "Zu dieser Buchung gehört ein Zusatz, der mitgebucht werden muss.",
    addon_unavailable: "Ein gewählter Zusatz ist zu dieser Zeit nicht mehr verfügbar.",
    addon_not_offered: "Ein gewählter Zusatz wird hier nicht angeboten.",
    unknown_addon: "Ein gewählter Zusatz ist unbekannt.",
    unknown_resource: "Dieses Angebot gibt es nicht (mehr).",
    not_found: "Das wurde nicht gefunden.",
    no_route: "Das wurde nicht gefunden.",
    validation_failed: "Bitte prüfen Sie Ihre Angaben.",
    rate_limited: "Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
    booking_started: "Die Buchung hat schon begonnen und kann nicht mehr geändert werden.",
    already_cancelled: "Diese Buchung ist bereits storniert.",
    invalid_transition: "Das ist im jetzigen Stand der Buchung nicht möglich.",
    price_would_change: "Dieser Termin hätte einen anderen Preis. Bitte stornieren Sie und buchen Sie neu.",
    version_mismatch: "Die Buchung wurde inzwischen geändert. Die Seite zeigt jetzt den neuen Stand.",
    series_conflict: "Nicht alle Termine der Reihe sind frei; es wurde nichts gebucht.",
    no_occurrence_bookable: "Keiner der Termine ist frei.",
    invalid_rrule: "Die Wiederholung ist ungültig.",
    invoice_paid: "Für diese Rechnung ist nichts mehr offen.",
    payments_not_configured: "Online-Zahlung ist hier nicht eingerichtet. Bitte überweisen Sie den Betrag mit dem Kassenzeichen.",
    provider_unavailable: "Der Zahlungsanbieter ist gerade nicht erreichbar. Bitte versuchen Sie es in ein paar Minuten erneut.",
    booking_archived: "Diese Buchung ist archiviert.",
    person_erased: "Die persönlichen Daten zu dieser Buchung wurden gelöscht.",
    invalid_customer_token: "Ihr Kundenzugang ist ungültig.",
    unauthenticated: "Der Link ist ungültig oder unvollständig.",
    not_permitted: "Das ist mit diesem Link nicht erlaubt.",
    shutting_down: "Der Dienst startet gerade neu. Bitte versuchen Sie es gleich noch einmal.",
    not_ready: "Der Dienst startet gerade. Bitte versuchen Sie es gleich noch einmal.",
    too_many_connections: "Das Buchungssystem ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
    storage_failure: "Der Dienst hat gerade eine Störung; es wurde nichts gespeichert. Bitte versuchen Sie es später erneut.",
    integrity_alarm: "Die Buchung ist hier gerade nicht möglich; der Betrieb prüft eine Störung. Bitte versuchen Sie es später erneut.",
    time_zone_unknown: "Die Buchung ist hier gerade nicht möglich; der Betrieb behebt eine Störung. Bitte versuchen Sie es später erneut.",
    einvoice_incomplete: "Die E-Rechnung kann noch nicht erstellt werden, weil beim Anbieter Angaben fehlen. Die Rechnung als PDF steht bereit; für die E-Rechnung wenden Sie sich bitte an den Anbieter.",
    booking_exists: "Diese Buchung gibt es schon.",
    origin_not_allowed: (d) => `Das Buchungs-Widget von ${d.tenant} ist für diese Website (${d.origin}) nicht freigegeben. Bitte buchen Sie direkt bei ${d.tenant}:`,
    series_exists: "Diese Buchungsreihe gibt es schon.",
    unknown_customer: "Dieser Kundenzugang ist unbekannt.",
    booking_not_open: "Diese Buchung ist abgeschlossen und kann nicht mehr geändert werden.",
    booking_not_started: "Die Buchung hat noch nicht begonnen.",
    idempotency_key_reused: "Diese Anfrage wurde schon einmal mit anderen Angaben gesendet. Bitte laden Sie die Seite neu.",
    invalid_idempotency_key: "Die Anfrage war fehlerhaft. Bitte laden Sie die Seite neu.",
    invalid_if_match: "Die Anfrage war fehlerhaft. Bitte laden Sie die Seite neu.",
    invalid_key: "Der Zugang ist ungültig.",
    invalid_query: "Die Anfrage war fehlerhaft. Bitte laden Sie die Seite neu.",
    malformed_json: "Die Anfrage war fehlerhaft. Bitte laden Sie die Seite neu.",
    position_not_reached: "Das Buchungssystem ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
    body_too_large: "Ihre Angaben sind zu lang. Bitte kürzen Sie die Hinweise.",
    headers_too_large: "Die Anfrage war zu groß. Bitte laden Sie die Seite neu.",
    internal_error: "Im Buchungssystem ist ein Fehler aufgetreten; es wurde nichts gespeichert. Bitte versuchen Sie es später erneut.",
    network: "Keine Verbindung zum Buchungssystem. Bitte prüfen Sie Ihre Internetverbindung und versuchen Sie es erneut.",
    other: "Das hat leider nicht geklappt. Bitte versuchen Sie es erneut.",
  },
  en: {
    booking_conflict: "Sorry, this time is already taken (including set-up and clean-up time).",
    capacity_exceeded: "Not enough seats or items are left for this time.",
    outside_opening_hours: "It is not open at this time.",
    not_on_slot_grid: (d) => `Bookings start and last in steps of ${d.granularity_minutes} minutes.`,
    duration_too_short: (d) => `A booking lasts at least ${hm(d.min_duration_minutes, "en")}.`,
    duration_too_long: (d) => `A booking lasts at most ${hm(d.max_duration_minutes, "en")}.`,
    lead_time_not_met: "This cannot be booked at such short notice. Please choose a later time.",
    beyond_horizon: "This cannot be booked that far ahead yet.",
    starts_in_the_past: "This time is in the past.",
    group_not_permitted: "This cannot be booked by the public. Please contact the staff.",
    recipient_required: "An invoice over 250 € must state your address. Please add the billing address.",
    customer_required: "Only registered customers can book this. Please contact the staff.",
    qualification_required: "This device can only be booked after an introduction.",
    qualification_expired: "Your introduction for this device has expired.",
    quota_exceeded: "Your quota for this period is used up.",
    session_required: "Please choose a date.",
    addon_required: "This booking needs an add-on that must be booked with it.",
    addon_unavailable: "An add-on you chose is no longer available at this time.",
    addon_not_offered: "An add-on you chose is not offered here.",
    unknown_addon: "An add-on you chose is unknown.",
    unknown_resource: "This offer does not exist (any more).",
    not_found: "This was not found.",
    no_route: "This was not found.",
    validation_failed: "Please check your details.",
    rate_limited: "Too many requests in a short time. Please wait a moment and try again.",
    booking_started: "The booking has already started and can no longer be changed.",
    already_cancelled: "This booking is already cancelled.",
    invalid_transition: "This is not possible in the booking's current state.",
    price_would_change: "That time would have a different price. Please cancel and book anew.",
    version_mismatch: "The booking has changed in the meantime. The page now shows its current state.",
    series_conflict: "Not all dates of the series are free; nothing was booked.",
    no_occurrence_bookable: "None of the dates is free.",
    invalid_rrule: "The repetition is invalid.",
    invoice_paid: "Nothing is left to pay on this invoice.",
    payments_not_configured: "Online payment is not set up here. Please pay by bank transfer quoting the payment reference.",
    provider_unavailable: "The payment provider cannot be reached right now. Please try again in a few minutes.",
    booking_archived: "This booking is archived.",
    person_erased: "The personal data of this booking has been erased.",
    invalid_customer_token: "Your customer access is invalid.",
    unauthenticated: "The link is invalid or incomplete.",
    not_permitted: "This is not allowed with this link.",
    shutting_down: "The service is restarting. Please try again in a moment.",
    not_ready: "The service is starting. Please try again in a moment.",
    too_many_connections: "The booking system is busy right now. Please try again in a moment.",
    storage_failure: "The service has a fault right now; nothing was stored. Please try again later.",
    integrity_alarm: "Booking is not possible here right now; the operators are checking a fault. Please try again later.",
    time_zone_unknown: "Booking is not possible here right now; the operators are fixing a fault. Please try again later.",
    einvoice_incomplete: "The e-invoice cannot be produced yet because the provider's details are incomplete. The invoice PDF is ready; for the e-invoice, please contact the provider.",
    booking_exists: "This booking already exists.",
    origin_not_allowed: (d) => `The booking widget of ${d.tenant} is not enabled for this website (${d.origin}). Please book directly with ${d.tenant}:`,
    series_exists: "This series of bookings already exists.",
    unknown_customer: "This customer access is unknown.",
    booking_not_open: "This booking is closed and can no longer be changed.",
    booking_not_started: "The booking has not started yet.",
    idempotency_key_reused: "This request was already sent with other details. Please reload the page.",
    invalid_idempotency_key: "The request was malformed. Please reload the page.",
    invalid_if_match: "The request was malformed. Please reload the page.",
    invalid_key: "The access is invalid.",
    invalid_query: "The request was malformed. Please reload the page.",
    malformed_json: "The request was malformed. Please reload the page.",
    position_not_reached: "The booking system is busy right now. Please try again in a moment.",
    body_too_large: "Your details are too long. Please shorten the notes.",
    headers_too_large: "The request was too large. Please reload the page.",
    internal_error: "An error occurred in the booking system; nothing was stored. Please try again later.",
    network: "No connection to the booking system. Please check your internet connection and try again.",
    other: "Sorry, that did not work. Please try again.",
  },
};

function hm(minutes, lang) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (lang === "de") return [h ? `${h} Std.` : "", m ? `${m} Min.` : ""].filter(Boolean).join(" ");
  return [h ? `${h} h` : "", m ? `${m} min` : ""].filter(Boolean).join(" ");
}

function problemText(problem, lang) {
  const table = PROBLEMS[lang] || PROBLEMS.de;
  const entry = table[problem.code] || table.other;
  return typeof entry === "function" ? entry(problem.details || {}) : entry;
}

// ---------------------------------------------------------- the API ------

// One call of the public API. Resolves to {ok, status, data, problem,
// headers}; never rejects (a network failure is the problem "network").
async function api(path, options = {}, attempt = 0) {
  const { method = "GET", body, token, accept, ifMatch } = options;
  // Reads after a change wait for it (a query parameter, not a header: no
  // CORS preflight), so a booking never reappears as free a moment later.
  const tenant = (/^\/v1\/tenants\/([^/?]+)/.exec(path) || [])[1];
  const written = tenant ? writtenPosition.get(tenant) : undefined;
  const url = method === "GET" && written ? `${path}${path.includes("?") ? "&" : "?"}min_position=${written}` : path;
  const headers = { Accept: accept || "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Saalbuch-Manage-Token"] = token;
  if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
  if (method === "POST") headers["Idempotency-Key"] = randomKey();
  let res;
  try {
    res = await fetch(ORIGIN + url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { ok: false, status: 0, problem: { code: "network" } };
  }
  const position = Number(res.headers.get("Saalbuch-Position"));
  if (method !== "GET" && tenant && res.ok && position > (writtenPosition.get(tenant) || 0)) {
    writtenPosition.set(tenant, position);
  }
  // Reads that were rate limited wait as the server asks (at most 5 s), twice.
  if (res.status === 429 && method === "GET" && attempt < 2) {
    const wait = Math.min(5, Math.max(1, parseInt(res.headers.get("Retry-After") || "1", 10) || 1));
    await new Promise((r) => setTimeout(r, wait * 1000));
    return api(path, options, attempt + 1);
  }
  if (accept && accept !== "application/json" && res.ok) {
    return { ok: true, status: res.status, blob: await res.blob(), headers: res.headers };
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.ok) return { ok: true, status: res.status, data, headers: res.headers };
  const problem = data && data.code ? data : { code: res.status === 429 ? "rate_limited" : "other" };
  return { ok: false, status: res.status, problem };
}

// Per tenant, the log position of the newest change this page made.
const writtenPosition = new Map();

function randomKey() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

const tenantCache = new Map();
// The tenant's public description, once per page for all widgets.
function loadTenant(tenant) {
  if (!tenantCache.has(tenant)) tenantCache.set(tenant, api(`/v1/tenants/${enc(tenant)}`));
  return tenantCache.get(tenant);
}
const enc = encodeURIComponent;

// ------------------------------------------------------- time and money --

// Local wall-clock times are kept as "naive" milliseconds: the wall clock
// read as if it were UTC. Grid, day and week arithmetic then needs no time
// zone database; the offset of each instant comes from the API's *_local.
function parseLocal(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return null;
  const naive = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let offset = 0;
  if (m[7] !== "Z") offset = (m[7][0] === "-" ? -1 : 1) * (+m[7].slice(1, 3) * 60 + +m[7].slice(4, 6));
  return { naive, offset };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function toRfc3339(naive, offset) {
  const d = new Date(naive);
  const sign = offset < 0 ? "-" : "+";
  const o = Math.abs(offset);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00${sign}${pad(Math.floor(o / 60))}:${pad(o % 60)}`
  );
}

// The wall clock now in `zone`, as naive milliseconds.
function nowNaive(zone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date())) {
    parts[p.type] = +p.value;
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

// A UTC instant (RFC 3339 string) as naive milliseconds in `zone`.
function utcToNaive(utc, zone) {
  const d = new Date(utc);
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(d)) {
    parts[p.type] = +p.value;
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
}

const LOCALE = { de: "de-DE", en: "en-GB" };
function fmt(naive, lang, options) {
  return new Intl.DateTimeFormat(LOCALE[lang], { timeZone: "UTC", ...options }).format(new Date(naive));
}
const fmtDayLong = (n, l) => fmt(n, l, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fmtDayShort = (n, l) => fmt(n, l, { weekday: "short", day: "numeric", month: "numeric" });
const fmtTime = (n, l) => fmt(n, l, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
function fmtRange(start, end, lang) {
  const sameDay = Math.floor(start / DAY) === Math.floor(end / DAY) || (end % DAY === 0 && end - start <= DAY);
  const endText = end % DAY === 0 && sameDay ? "24:00" : fmtTime(end, lang);
  const tail = lang === "de" ? " Uhr" : "";
  if (sameDay) return `${fmtDayLong(start, lang)}, ${fmtTime(start, lang)}–${endText}${tail}`;
  return `${fmtDayLong(start, lang)}, ${fmtTime(start, lang)}${tail} – ${fmtDayLong(end, lang)}, ${fmtTime(end, lang)}${tail}`;
}
function fmtDateTime(naive, lang) {
  return `${fmtDayLong(naive, lang)}, ${fmtTime(naive, lang)}${lang === "de" ? " Uhr" : ""}`;
}
function fmtMoney(cents, currency, lang) {
  return new Intl.NumberFormat(LOCALE[lang], { style: "currency", currency: currency || "EUR" }).format(cents / 100);
}
function money(m, lang) {
  return m && typeof m === "object" ? fmtMoney(m.amount, m.currency, lang) : "";
}

// ------------------------------------------------------------- the DOM --

// h("button", {class: "x", onclick: f, part: "button"}, "text", child…)
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let idCounter = 0;
const uid = (p) => `sb-${p}-${++idCounter}`;

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename });
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

const STYLE = `
:host { display: block; }
.root {
  all: initial;
  display: block;
  font-family: inherit;
  font-size: var(--saalbuch-font-size, 16px);
  line-height: 1.5;
  color: var(--saalbuch-text, #1a1a1a);
  background: var(--saalbuch-background, transparent);
  text-align: start;
  overflow-wrap: break-word;
}
.root * { box-sizing: border-box; }
button, input, select, textarea { font: inherit; color: inherit; letter-spacing: inherit; }
h1, h2, h3, h4, h5, h6 { font-weight: 700; margin: 0 0 .5em; line-height: 1.25; }
.title { font-size: 1.35em; }
.subtitle { font-size: 1.1em; margin-top: 1.25em; }
p { margin: 0 0 .75em; }
a { color: var(--saalbuch-link, var(--saalbuch-accent, #0b5cad)); text-decoration: underline; }
button, .button {
  display: inline-flex; align-items: center; justify-content: center; gap: .35em;
  min-height: 2.75em; padding: .5em 1em; margin: 0;
  border: 2px solid var(--saalbuch-accent, #0b5cad); border-radius: var(--saalbuch-radius, .375em);
  background: #fff; color: var(--saalbuch-accent, #0b5cad); cursor: pointer; font-weight: 600;
  text-decoration: none; text-align: center;
}
button.primary, .button.primary { background: var(--saalbuch-accent, #0b5cad); color: var(--saalbuch-on-accent, #fff); }
button.danger { border-color: var(--saalbuch-danger, #b3261e); color: var(--saalbuch-danger, #b3261e); }
button.danger.primary { background: var(--saalbuch-danger, #b3261e); color: #fff; }
button[disabled], button[aria-disabled="true"] { opacity: .6; cursor: not-allowed; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
[tabindex]:focus-visible {
  outline: 3px solid var(--saalbuch-focus, #1a1a1a); outline-offset: 2px;
  box-shadow: 0 0 0 5px #fff;
}
.row { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: .75em 0; }
.muted { color: var(--saalbuch-muted, #4f5359); }
.weeknav { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5em; margin: .5em 0; }
.weeknav h4 { margin: 0; font-size: 1.05em; }
table { border-collapse: collapse; width: 100%; margin: .25em 0 1em; }
caption { text-align: start; font-weight: 600; padding: .25em 0; }
th, td { text-align: start; padding: .4em .5em; border-bottom: 1px solid var(--saalbuch-border, #c9ced4); vertical-align: middle; }
th { font-weight: 600; white-space: nowrap; }
tr.chosen th, tr.chosen td { background: var(--saalbuch-highlight, #e8f0fa); }
td.action { text-align: end; }
td.action button { min-height: 2.4em; padding: .3em .8em; white-space: nowrap; }
td.free { overflow-wrap: anywhere; }
fieldset { border: 1px solid var(--saalbuch-border, #c9ced4); border-radius: var(--saalbuch-radius, .375em); padding: .75em; margin: 0 0 1em; min-width: 0; }
legend { font-weight: 600; padding: 0 .25em; }
.slots { display: flex; flex-wrap: wrap; gap: .4em; }
.slot { position: relative; }
.slot input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.slot span {
  display: inline-block; min-width: 4.2em; padding: .45em .6em; text-align: center;
  border: 2px solid var(--saalbuch-border-strong, #6b7178); border-radius: var(--saalbuch-radius, .375em); background: #fff; cursor: pointer;
}
.slot input:checked + span { background: var(--saalbuch-accent, #0b5cad); border-color: var(--saalbuch-accent, #0b5cad); color: var(--saalbuch-on-accent, #fff); font-weight: 700; }
.slot input:focus-visible + span { outline: 3px solid var(--saalbuch-focus, #1a1a1a); outline-offset: 2px; }
label { display: block; font-weight: 600; margin: .5em 0 .2em; }
label.check { display: flex; gap: .5em; align-items: flex-start; font-weight: 400; }
label.check input { margin-top: .3em; width: 1.15em; height: 1.15em; flex: none; }
input[type=text], input[type=email], input[type=tel], input[type=number], select, textarea {
  display: block; width: 100%; max-width: 32em; padding: .5em; min-height: 2.75em;
  border: 1px solid var(--saalbuch-border-strong, #6b7178); border-radius: var(--saalbuch-radius, .375em); background: #fff; color: #1a1a1a;
}
input[type=number] { max-width: 8em; }
textarea { min-height: 5em; }
[aria-invalid="true"] { border-color: var(--saalbuch-danger, #b3261e); border-width: 2px; }
.field-error { color: var(--saalbuch-danger, #b3261e); font-weight: 600; margin: .2em 0 0; }
.error { border-inline-start: 4px solid var(--saalbuch-danger, #b3261e); background: #fdf0ef; padding: .6em .8em; margin: .75em 0; border-radius: .25em; }
.notice { border-inline-start: 4px solid var(--saalbuch-success, #1e6b34); background: #eef7f0; padding: .6em .8em; margin: .75em 0; border-radius: .25em; }
.door { border: 1px solid var(--saalbuch-border, #8a8a8a); border-radius: var(--saalbuch-radius, .375em); padding: .25em 1em; margin: 1em 0; }
.door-code { font: 700 2em/1.2 ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .15em; margin: .25em 0; }
.result { border: 2px solid var(--saalbuch-success, #1e6b34); border-radius: var(--saalbuch-radius, .375em); padding: 1em; margin: 1em 0; }
dl { display: grid; grid-template-columns: minmax(7em, max-content) 1fr; gap: .25em 1em; margin: .5em 0 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
.price { font-weight: 600; }
.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: .75em; grid-template-columns: repeat(auto-fill, minmax(14em, 1fr)); }
.cards li { border: 1px solid var(--saalbuch-border, #c9ced4); border-radius: var(--saalbuch-radius, .375em); padding: .75em; display: flex; flex-direction: column; gap: .4em; }
.cards li .name { font-weight: 700; font-size: 1.05em; margin: 0; }
.cards li button { margin-top: auto; align-self: flex-start; }
button.linklike { display: inline; min-height: 0; padding: 0; border: 0; background: none; color: var(--saalbuch-link, var(--saalbuch-accent, #0b5cad)); text-decoration: underline; font-weight: 400; }
.badge { display: inline-block; padding: .1em .5em; border-radius: 1em; background: #eef0f3; font-size: .9em; }
.status { font-weight: 700; }
ol.history { padding-inline-start: 1.25em; }
.brand { display: flex; gap: .75em; align-items: center; margin-bottom: .5em; }
.brand img { max-height: 3em; max-width: 10em; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 30em) {
  th, td { padding: .35em .2em; }
  td.action button { padding: .3em .45em; }
  td.free { font-size: .95em; }
}
`;

let sheet = null;
function adoptStyle(root) {
  if ("adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h("style", { text: STYLE }));
  }
}

// The base of every Saalbuch element: a shadow root with the widget's style,
// a live region for announcements, language and heading level from the
// attributes, and the tenant's accent colour.
class SaalbuchElement extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.lang_ = this.getAttribute("lang") === "en" ? "en" : "de";
    this.t = TEXT[this.lang_];
    this.level = Math.min(6, Math.max(1, parseInt(this.getAttribute("heading") || "2", 10) || 2));
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    adoptStyle(shadow);
    this.root = h("div", { class: "root", part: "root", lang: this.lang_ });
    this.live = h("div", { class: "sr-only", role: "status", "aria-live": "polite" });
    this.body = h("div");
    this.root.append(this.live, this.body);
    shadow.append(this.root);
    this.body.append(h("p", { class: "muted", text: this.t.loading }));
    this.start().catch((e) => this.fail({ code: "other", detail: String(e) }));
  }

  get tenant() {
    return this.getAttribute("tenant") || "";
  }

  heading(offset, text, extra) {
    return h(`h${Math.min(6, this.level + offset)}`, { class: offset ? "subtitle" : "title", part: "heading", ...extra }, text);
  }

  announce(text) {
    this.live.textContent = "";
    setTimeout(() => (this.live.textContent = text), 50);
  }

  errorBox(problem, extra) {
    return h("div", { class: "error", part: "error", role: "alert", tabindex: "-1" }, problemText(problem, this.lang_), extra);
  }

  fail(problem) {
    const link = problem.details && problem.details.link;
    this.body.replaceChildren(this.errorBox(problem, link ? h("p", {}, h("a", { href: link }, link)) : null));
  }

  async brand() {
    const r = await loadTenant(this.tenant);
    if (!r.ok) return r;
    this.tenantDoc = r.data;
    this.zone = r.data.time_zone || "Europe/Berlin";
    const pub = r.data.public || {};
    // A tenant that names its websites: elsewhere the API withholds its
    // replies from the browser, so say so instead of "no connection".
    const origins = pub.allowed_origins || [];
    if (origins.length && location.origin !== ORIGIN && !origins.includes(location.origin)) {
      const resource = this.getAttribute("resource");
      const link = `${ORIGIN}/book/${enc(this.tenant)}${resource ? `/${enc(resource)}` : ""}${this.lang_ === "en" ? "?lang=en" : ""}`;
      return { ok: false, problem: { code: "origin_not_allowed", details: { tenant: this.tenantName(), origin: location.origin, link } } };
    }
    if (pub.accent_color && !this.style.getPropertyValue("--saalbuch-accent")) {
      this.root.style.setProperty("--saalbuch-accent", pub.accent_color);
    }
    return r;
  }

  // On a page Saalbuch hosts: the window's title, the page's language and
  // the tenant's name in its header.
  pageTitle(text) {
    if (document.body && document.body.hasAttribute("data-saalbuch-page")) {
      document.title = `${text} – ${this.tenantDoc ? this.tenantName() : "Saalbuch"}`;
      document.documentElement.lang = this.lang_;
      const name = document.querySelector("[data-saalbuch-tenant-name]");
      if (name && this.tenantDoc) {
        const logo = ((this.tenantDoc.public || {}).logo_url || "").startsWith("https://") ? this.tenantDoc.public.logo_url : "";
        name.replaceChildren(logo ? h("img", { src: logo, alt: "", class: "logo" }) : "", this.tenantName());
      }
    }
  }

  tenantName() {
    const pub = (this.tenantDoc && this.tenantDoc.public) || {};
    return pub.display_name || (this.tenantDoc && this.tenantDoc.name) || this.tenant;
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail }));
  }

  manageUrl(booking, token) {
    const q = this.lang_ === "en" ? "?lang=en" : "";
    return `${ORIGIN}/manage/${enc(this.tenant)}/${enc(booking)}${q}#token=${enc(token)}`;
  }

  async downloadIcs(booking, token, number, button) {
    button.setAttribute("aria-disabled", "true");
    const r = await api(`/v1/tenants/${enc(this.tenant)}/bookings/${enc(booking)}/calendar.ics`, {
      token,
      accept: "text/calendar",
    });
    button.removeAttribute("aria-disabled");
    if (!r.ok) return this.announce(problemText(r.problem, this.lang_));
    download(r.blob, `${number}.ics`);
  }
}

// -------------------------------------------------------------- catalog --

class CatalogElement extends SaalbuchElement {
  async start() {
    const t = await this.brand();
    if (!t.ok) return this.fail(t.problem);
    const r = await api(`/v1/tenants/${enc(this.tenant)}/resources?limit=500`);
    if (!r.ok) return this.fail(r.problem);
    this.resources = r.data.items || [];
    this.pageTitle(this.tenantName());
    this.showList();
  }

  showList(focusId) {
    const kind = this.getAttribute("kind");
    const all = this.resources.filter((x) => !kind || x.kind === kind);
    const byId = new Map(all.map((x) => [x.id, x]));
    const top = all.filter((x) => !x.parent || !byId.has(x.parent));
    const list = h("ul", { class: "cards", part: "catalog" });
    for (const res of top) {
      const parts = all.filter((x) => x.parent === res.id);
      const button = h("button", {
        type: "button",
        class: "primary",
        part: "button",
        "data-resource": res.id,
        onclick: () => this.open(res.id),
      }, this.t.bookThis(res.name));
      const cap =
        res.kind === "pool" ? this.t.capacityPool(res.capacity) : res.kind === "event" ? this.t.capacityEvent(res.capacity) : null;
      list.append(
        h("li", { part: "resource" },
          h(`h${Math.min(6, this.level + 1)}`, { class: "name" }, res.name),
          h("span", { class: "badge" }, this.t.kinds[res.kind] || res.kind, cap ? ` · ${cap}` : ""),
          res.description ? h("p", { class: "muted" }, res.description) : null,
          res.requires_qualification ? h("p", { class: "muted" }, this.t.needsQualification) : null,
          parts.length
            ? h("p", {}, this.t.parts, " ",
                ...parts.flatMap((p, i) => [i ? ", " : "", h("button", {
                  type: "button", class: "linklike", part: "button", "data-resource": p.id, onclick: () => this.open(p.id),
                }, p.name)]))
            : null,
          button));
    }
    this.body.replaceChildren(
      this.heading(0, this.tenantName()),
      top.length ? list : h("p", { text: this.t.catalogEmpty }));
    if (focusId) {
      const b = this.shadowRoot.querySelector(`button[data-resource="${CSS.escape(focusId)}"]`);
      if (b) b.focus();
    }
  }

  open(id) {
    const back = h("button", { type: "button", part: "button", onclick: () => this.showList(id) }, `← ${this.t.back}`);
    const view = document.createElement("saalbuch-booking");
    view.setAttribute("tenant", this.tenant);
    view.setAttribute("resource", id);
    view.setAttribute("lang", this.lang_);
    view.setAttribute("heading", String(this.level));
    this.body.replaceChildren(h("div", { class: "row" }, back), view);
    back.focus();
  }
}

// -------------------------------------------------------------- picking --

// The slot picker: a week of one resource from the availability projection,
// offering only what Decide would accept (opening hours, busy time with both
// bookings' buffers, slot grid, shortest and longest duration, lead time,
// horizon, remaining units). Used by the booking view and for rescheduling.
class Picker {
  constructor(owner, resource, { units = 1, duration = 0, exclude = null, onChange }) {
    this.o = owner;
    this.t = owner.t;
    this.lang = owner.lang_;
    this.res = resource;
    this.rules = resource.rules || {};
    this.units = units;
    this.duration = duration;
    this.exclude = exclude; // [startNaive, endNaive] of the booking being moved
    this.onChange = onChange;
    this.zone = owner.zone;
    const now = nowNaive(this.zone);
    const today = Math.floor(now / DAY) * DAY;
    const weekday = (new Date(today).getUTCDay() + 6) % 7;
    this.monday = today - weekday * DAY;
    this.firstMonday = this.monday;
    this.day = null;
    this.choice = null;
    this.el = h("div", { part: "calendar" });
  }

  get grid() {
    return (this.rules.granularity_minutes || 15) * MIN;
  }

  async load() {
    const from = new Date(this.monday - DAY).toISOString().replace(/\.\d+Z$/, "Z");
    const to = new Date(this.monday + 8 * DAY).toISOString().replace(/\.\d+Z$/, "Z");
    const r = await api(`/v1/tenants/${enc(this.o.tenant)}/resources/${enc(this.res.id)}/availability?from=${from}&to=${to}`);
    if (!r.ok) return r;
    const seg = (x) => {
      const s = parseLocal(x.start_local);
      const e = parseLocal(x.end_local);
      return { s: s.naive, e: e.naive, offset: s.offset, remaining: x.remaining };
    };
    this.free = (r.data.free || []).map(seg);
    this.busy = (r.data.busy || []).map(seg);
    if (this.exclude) {
      // The booking being moved does not stand in its own way.
      const [xs, xe] = this.exclude;
      this.busy = this.busy.filter((b) => !(b.s <= xs && b.e >= xe));
      this.free = mergeSegments([...this.free, { s: xs, e: xe, offset: this.free[0]?.offset ?? 60, remaining: this.res.capacity || 1 }]);
    }
    this.now = nowNaive(this.zone);
    return r;
  }

  // Valid [start, end] pairs of one day (naive ms), start → [ends].
  slotsOf(dayStart) {
    const r = this.rules;
    const grid = this.grid;
    const minDur = Math.max(grid, (r.min_duration_minutes || 0) * MIN);
    const maxDur = Math.min(r.max_duration_minutes ? r.max_duration_minutes * MIN : 31 * DAY, 31 * DAY);
    const bb = (r.buffer_before_minutes || 0) * MIN;
    const ba = (r.buffer_after_minutes || 0) * MIN;
    const earliest = this.now + Math.max(1, (r.lead_time_minutes || 0) * MIN);
    const latest = this.now + (r.horizon_days ? r.horizon_days * DAY : 5 * 365 * DAY);
    const dayEnd = dayStart + DAY;
    const out = new Map();
    // Runs of touching free segments with enough units.
    const segs = this.free.filter((f) => f.e > dayStart && f.s < dayEnd + maxDur && f.remaining >= this.units);
    const runs = [];
    for (const f of segs) {
      const last = runs[runs.length - 1];
      if (last && last.e === f.s) last.e = f.e;
      else runs.push({ s: f.s, e: f.e, offset: f.offset });
    }
    const clear = (s, e) => !this.busy.some((b) => b.s < e + ba && b.e > s - bb && (this.res.kind === "room" || this.res.kind === "device"));
    for (const run of runs) {
      let s = Math.ceil(Math.max(run.s, dayStart) / grid) * grid;
      for (; s < Math.min(run.e, dayEnd) && s + minDur <= run.e; s += grid) {
        if (s < earliest || s > latest) continue;
        const ends = [];
        for (let e = s + minDur; e <= Math.min(run.e, s + maxDur); e += grid) {
          if (this.duration && e - s !== this.duration) continue;
          if (clear(s, e)) ends.push(e);
          else break;
        }
        if (ends.length) out.set(s, { ends, offset: run.offset });
      }
    }
    return out;
  }

  render(announce) {
    const t = this.t;
    const weekEnd = this.monday + 6 * DAY;
    const label = `${fmt(this.monday, this.lang, { day: "numeric", month: "long" })} – ${fmt(weekEnd, this.lang, { day: "numeric", month: "long", year: "numeric" })}`;
    const prev = h("button", {
      type: "button", part: "button", "aria-label": t.prevWeek,
      disabled: this.monday <= this.firstMonday, onclick: () => this.week(-1),
    }, "‹ ", t.prevWeek);
    const next = h("button", { type: "button", part: "button", "aria-label": t.nextWeek, onclick: () => this.week(1) }, t.nextWeek, " ›");
    const caption = h("caption", {}, `${t.week}: ${label}`);
    const tbody = h("tbody");
    for (let d = 0; d < 7; d++) {
      const day = this.monday + d * DAY;
      const slots = this.slotsOf(day);
      const free = this.freeText(day);
      const chosen = this.day === day;
      const name = fmt(day, this.lang, { weekday: "long", day: "numeric", month: "long" });
      const button = h("button", {
        type: "button", part: "button day", "aria-pressed": chosen ? "true" : "false",
        "aria-label": `${name}: ${chosen ? t.chosen : t.choose}`,
        disabled: slots.size === 0, onclick: () => this.pick(day),
      }, chosen ? t.chosen : t.choose);
      tbody.append(h("tr", { class: chosen ? "chosen" : "" },
        h("th", { scope: "row" }, fmtDayShort(day, this.lang)),
        h("td", { class: "free" }, free),
        h("td", { class: "action" }, button)));
    }
    const table = h("table", { part: "week" }, caption,
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t.day), h("th", { scope: "col" }, t.free), h("td"))),
      tbody);
    const nav = h("div", { class: "weeknav" }, prev, next);
    this.el.replaceChildren(nav, table, this.timesEl());
    if (announce) this.o.announce(announce);
  }

  freeText(day) {
    const parts = [];
    for (const f of this.free) {
      const s = Math.max(f.s, day);
      const e = Math.min(f.e, day + DAY);
      if (e <= s) continue;
      const last = parts[parts.length - 1];
      if (last && last[1] === s) last[1] = e;
      else parts.push([s, e]);
    }
    if (!parts.length) return h("span", { class: "muted" }, this.t.closed);
    const text = parts.map(([s, e]) => `${fmtTime(s, this.lang)}–${e % DAY === 0 ? "24:00" : fmtTime(e, this.lang)}`).join(", ");
    return this.slotsOf(day).size ? text : h("span", { class: "muted" }, `${this.t.fullyBooked} (${text})`);
  }

  timesEl() {
    const t = this.t;
    if (this.day === null) return h("p", { class: "muted", text: t.chooseTime });
    const slots = this.slotsOf(this.day);
    if (!slots.size) return h("p", { text: t.noTimes });
    const group = uid("start");
    const fs = h("fieldset", { part: "slots" }, h("legend", {}, `${t.start} – ${fmtDayLong(this.day, this.lang)}`));
    const box = h("div", { class: "slots" });
    for (const [s] of slots) {
      const input = h("input", {
        type: "radio", name: group, value: String(s), checked: this.choice && this.choice.start === s,
        onchange: () => this.chooseStart(s),
      });
      box.append(h("label", { class: "slot", part: "slot" }, input, h("span", {}, fmtTime(s, this.lang))));
    }
    fs.append(box);
    const out = h("div", {}, fs);
    if (this.choice && slots.has(this.choice.start) && !this.duration) {
      const id = uid("end");
      const select = h("select", { id, part: "field", onchange: (e) => this.chooseEnd(+e.target.value) });
      for (const e of slots.get(this.choice.start).ends) {
        select.append(h("option", { value: String(e), selected: e === this.choice.end ? "selected" : undefined },
          `${e % DAY === 0 ? "24:00" : fmtTime(e, this.lang)} (${hm((e - this.choice.start) / MIN, this.lang)})`));
      }
      out.append(h("label", { for: id }, t.end), select);
    }
    return out;
  }

  async week(delta) {
    this.monday += delta * 7 * DAY;
    this.day = null;
    this.choice = null;
    const r = await this.load();
    if (!r.ok) return this.o.announce(problemText(r.problem, this.lang));
    const first = [...Array(7).keys()].map((d) => this.monday + d * DAY).find((d) => this.slotsOf(d).size);
    if (first !== undefined) this.day = first;
    this.render(`${this.t.week}: ${fmt(this.monday, this.lang, { day: "numeric", month: "long" })}`);
    const btn = this.el.querySelector(delta < 0 ? ".weeknav button" : ".weeknav button:last-child");
    if (btn && !btn.disabled) btn.focus();
    this.onChange(null);
  }

  pick(day) {
    this.day = day;
    this.choice = null;
    const n = this.slotsOf(day).size;
    this.render(this.t.dayChosen(fmtDayLong(day, this.lang), n));
    const first = this.el.querySelector(".slots input");
    if (first) first.focus();
    this.onChange(null);
  }

  chooseStart(s) {
    const slot = this.slotsOf(this.day).get(s);
    if (!slot) return;
    const keep = this.choice && slot.ends.includes(this.choice.end) ? this.choice.end : slot.ends[0];
    this.choice = { start: s, end: keep, offset: slot.offset };
    const focused = s;
    this.render();
    const input = this.el.querySelector(`.slots input[value="${focused}"]`);
    if (input) input.focus();
    this.onChange(this.choice);
  }

  chooseEnd(e) {
    this.choice = { ...this.choice, end: e };
    this.onChange(this.choice);
  }

  // A new quantity: the times offered change; a chosen time that still has
  // room stays chosen.
  setUnits(units) {
    if (units === this.units) return;
    this.units = units;
    const c = this.choice;
    const slot = c && this.day !== null ? this.slotsOf(this.day).get(c.start) : null;
    if (!slot || !slot.ends.includes(c.end)) this.choice = null;
    this.render();
    this.onChange(this.choice);
  }

  // Jumps to a given day and start (a suggestion after a conflict).
  async goTo(start, end) {
    const day = Math.floor(start / DAY) * DAY;
    const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
    if (monday !== this.monday) {
      this.monday = monday;
      await this.load();
    }
    this.day = day;
    const slot = this.slotsOf(day).get(start);
    this.choice = slot ? { start, end: slot.ends.includes(end) ? end : slot.ends[0], offset: slot.offset } : null;
    this.render();
    const input = this.el.querySelector(`.slots input[value="${start}"]`);
    if (input) input.focus();
    this.onChange(this.choice);
  }

  // The nearest free slots of the same length from `from` on (this and the
  // next three weeks), for a refused time.
  async suggest(start, end, count = 3) {
    const length = end - start;
    const out = [];
    const saved = { monday: this.monday, free: this.free, busy: this.busy };
    try {
      for (let w = 0; w < 4 && out.length < count; w++) {
        if (w > 0) {
          this.monday += 7 * DAY;
          const r = await this.load();
          if (!r.ok) break;
        } else {
          const r = await this.load();
          if (!r.ok) break;
        }
        const candidates = [];
        for (let d = 0; d < 7; d++) {
          for (const [s, slot] of this.slotsOf(this.monday + d * DAY)) {
            if (slot.ends.includes(s + length)) candidates.push(s);
          }
        }
        candidates.sort((a, b) => Math.abs(a - start) - Math.abs(b - start));
        for (const s of candidates) {
          if (out.length < count && s !== start) out.push([s, s + length]);
        }
      }
    } finally {
      Object.assign(this, saved);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }
}

function mergeSegments(list) {
  list.sort((a, b) => a.s - b.s);
  const out = [];
  for (const f of list) {
    const last = out[out.length - 1];
    if (last && f.s <= last.e && last.remaining === f.remaining) last.e = Math.max(last.e, f.e);
    else out.push({ ...f });
  }
  return out;
}

// -------------------------------------------------------------- booking --

class BookingElement extends SaalbuchElement {
  async start() {
    // One round trip for everything but the availability (which needs the
    // tenant's time zone for its week).
    const base = `/v1/tenants/${enc(this.tenant)}`;
    const [t, res, addons, tariffs] = await Promise.all([
      this.brand(),
      api(`${base}/resources/${enc(this.getAttribute("resource") || "")}`),
      api(`${base}/addons`),
      api(`${base}/tariffs?limit=500`),
    ]);
    if (!t.ok) return this.fail(t.problem);
    if (!res.ok) return this.fail(res.problem.code === "not_found" ? { code: "unknown_resource" } : res.problem);
    this.res = res.data;
    this.addons = ((addons.ok && addons.data.items) || []).map((a) => ({
      ...a,
      offer: (a.offers || []).find((o) => o.resource === this.res.id),
    })).filter((a) => a.offer);
    this.tariffs = (tariffs.ok && tariffs.data.items) || [];
    this.pageTitle(this.res.name);
    this.checkPaidReturn();
    await this.showPicker();
  }

  tariffFor(target) {
    const list = this.tariffs.filter((x) => x.target === target);
    const t = list.find((x) => x.group === "public") || list.find((x) => !x.group);
    if (!t || !t.versions || !t.versions.length) return null;
    const now = Date.now();
    const v = [...t.versions].reverse().find((x) => Date.parse(x.valid_from) <= now);
    return v ? { ...v, currency: t.currency } : null;
  }

  gross(v, cents) {
    return v.gross ? cents : Math.round(cents * (1 + v.tax_rate_percent / 100));
  }

  priceLabel() {
    const v = this.tariffFor(`resource/${this.res.id}`);
    if (!v) return null;
    if (v.amount === 0) return this.t.priceFree;
    const per = { hour: this.t.perHour, booking: this.t.perBooking, unit: this.t.perUnit }[v.unit] || "";
    return `${fmtMoney(this.gross(v, v.amount), v.currency, this.lang_)} ${per}`;
  }

  estimate() {
    const p = this.priceTotal();
    if (!p) return null;
    return p.total === 0 ? this.t.priceFree : this.t.priceEstimate(fmtMoney(p.total, p.currency, this.lang_));
  }

  // The expected gross total in minor units ({total, currency}), or null
  // when nothing is priced or no time is chosen. The server decides the
  // real price; this only says what to ask for and to show.
  priceTotal() {
    const c = this.choice;
    if (!c && this.res.kind !== "event") return null;
    let total = 0;
    let currency = "EUR";
    let any = false;
    const add = (target, pieces) => {
      const v = this.tariffFor(target);
      if (!v) return;
      any = true;
      currency = v.currency;
      let amount = v.amount * pieces;
      if (v.unit === "hour" && c) amount = (v.amount * pieces * (c.end - c.start)) / 3600000;
      if (v.unit === "booking") amount = v.amount;
      total += this.gross(v, Math.round(amount));
    };
    add(`resource/${this.res.id}`, this.unitsValue());
    for (const a of this.chosenAddons()) add(`addon/${a.addon}`, a.quantity);
    return any ? { total, currency } : null;
  }

  // Above 250 € gross an invoice must name its recipient's address
  // (§ 14 (4) UStG, § 33 UStDV): the billing address is asked for then.
  showAddress(show) {
    if (!this.address) return;
    this.address.hidden = !show;
    for (const n of ["street", "postcode", "city"]) this.addressInput(n).required = show;
  }

  addressInput(n) {
    return this.shadowRoot.querySelector(`[name="address.${n}"]`);
  }

  unitsValue() {
    const input = this.shadowRoot.querySelector("input[name=units]");
    return input ? Math.max(1, parseInt(input.value, 10) || 1) : 1;
  }

  chosenAddons() {
    return [...this.shadowRoot.querySelectorAll("input[name=addon]")]
      .filter((i) => i.checked)
      .map((i) => ({ addon: i.value, quantity: 1 }));
  }

  async showPicker() {
    const t = this.t;
    const res = this.res;
    this.choice = null;
    const price = this.priceLabel();
    const header = h("div", {},
      this.heading(0, res.name),
      res.description ? h("p", { class: "muted" }, res.description) : null,
      price ? h("p", { class: "price", part: "price" }, `${t.price}: ${price}`) : null);
    this.summary = h("p", { class: "muted", part: "summary", "aria-live": "polite" });
    this.errors = h("div");
    let pickerEl;
    if (res.kind === "event") {
      pickerEl = await this.sessionList();
    } else {
      this.picker = new Picker(this, res, { onChange: (c) => this.chose(c) });
      const r = await this.picker.load();
      if (!r.ok) return this.fail(r.problem);
      // Open on the first day with a free time (this week or the next).
      for (let w = 0; w < 2 && this.picker.day === null; w++) {
        const first = [...Array(7).keys()].map((d) => this.picker.monday + d * DAY).find((d) => this.picker.slotsOf(d).size);
        if (first !== undefined) this.picker.day = first;
        else if (w === 0) {
          this.picker.monday += 7 * DAY;
          await this.picker.load();
        }
      }
      this.picker.render();
      pickerEl = this.picker.el;
    }
    this.form = this.bookingForm();
    this.body.replaceChildren(header, this.paidNotice || "", pickerEl, this.form);
    this.chose(null);
  }

  async sessionList() {
    const t = this.t;
    const from = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const to = new Date(Date.now() + 62 * DAY).toISOString().replace(/\.\d+Z$/, "Z");
    const r = await api(`/v1/tenants/${enc(this.tenant)}/resources/${enc(this.res.id)}/availability?from=${from}&to=${to}`);
    const sessions = (r.ok && r.data.sessions) || [];
    if (!sessions.length) return h("p", { text: t.noSessions });
    const name = uid("session");
    const fs = h("fieldset", { part: "calendar" }, h("legend", {}, t.sessions));
    for (const s of sessions) {
      const start = utcToNaive(s.start, this.zone);
      const end = utcToNaive(s.end, this.zone);
      const full = s.remaining <= 0;
      fs.append(h("label", { class: "check", part: "slot" },
        h("input", {
          type: "radio", name, value: s.session, disabled: full,
          onchange: () => this.chose({ session: s.session, start, end, remaining: s.remaining }),
        }),
        h("span", {}, h("strong", {}, s.title || this.res.name), h("br"), fmtRange(start, end, this.lang_), " · ", t.seatsLeft(s.remaining))));
    }
    return fs;
  }

  chose(c) {
    this.choice = c;
    if (!this.summary) return;
    const t = this.t;
    if (!c) {
      this.summary.textContent = t.chooseTime;
      return;
    }
    const est = this.estimate();
    const p = this.priceTotal();
    if (p && p.total > 25000) this.showAddress(true);
    this.summary.textContent = `${t.summary}: ${fmtRange(c.start, c.end, this.lang_)}${est ? ` · ${est}` : ""}`;
    const units = this.shadowRoot.querySelector("input[name=units]");
    if (units && c.remaining) units.max = String(c.remaining);
  }

  field(label, input, hint) {
    const id = input.id || (input.id = uid("f"));
    const err = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    input.setAttribute("aria-describedby", [hint ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" "));
    return h("div", { class: "field" },
      h("label", { for: id }, label),
      hint ? h("p", { class: "muted", id: `${id}-hint` }, hint) : null,
      input, err);
  }

  bookingForm() {
    const t = this.t;
    const res = this.res;
    const pub = (this.tenantDoc && this.tenantDoc.public) || {};
    const form = h("form", { part: "form", novalidate: true, onsubmit: (e) => this.submit(e) });
    if (res.kind === "pool" || res.kind === "event") {
      const max = res.kind === "pool" ? res.capacity : res.capacity;
      const units = h("input", {
        type: "number", name: "units", min: "1", max: String(max), value: "1", inputmode: "numeric",
        onchange: () => {
          if (this.picker) this.picker.setUnits(this.unitsValue());
          else this.chose(this.choice);
        },
      });
      form.append(this.field(res.kind === "event" ? t.seats : t.units, units));
    }
    if (this.addons.length) {
      const fs = h("fieldset", {}, h("legend", {}, t.addons));
      for (const a of this.addons) {
        const v = this.tariffFor(`addon/${a.id}`);
        const price = v ? ` (${fmtMoney(this.gross(v, v.amount), v.currency, this.lang_)})` : "";
        fs.append(h("label", { class: "check" },
          h("input", {
            type: "checkbox", name: "addon", value: a.id, checked: a.offer.mandatory, disabled: a.offer.mandatory,
            onchange: () => this.chose(this.choice),
          }),
          h("span", {}, a.name, price, a.offer.mandatory ? ` ${t.addonMandatory}` : "")));
      }
      form.append(fs);
    }
    if (res.kind === "room" || res.kind === "device" || res.kind === "pool") {
      const count = h("input", { type: "number", name: "count", min: "2", max: "52", value: "4", inputmode: "numeric" });
      const countField = this.field(t.seriesCount, count);
      countField.hidden = true;
      const box = h("input", {
        type: "checkbox", name: "series",
        onchange: (e) => {
          countField.hidden = !e.target.checked;
        },
      });
      form.append(h("fieldset", {}, h("legend", {}, t.series), h("label", { class: "check" }, box, h("span", {}, t.seriesWeekly)), countField));
    }
    const contact = h("fieldset", {}, h("legend", {}, t.contact));
    contact.append(
      this.field(`${t.name} (${t.required})`, h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: "200" })),
      this.field(`${t.email} (${t.required})`, h("input", { type: "email", name: "email", autocomplete: "email", required: true, maxlength: "254" })),
      this.field(t.phone, h("input", { type: "tel", name: "phone", autocomplete: "tel", maxlength: "50" })),
      this.field(t.notes, h("textarea", { name: "notes", maxlength: "2000", rows: "3" })));
    const consentText = (pub.consent && (pub.consent[this.lang_] || pub.consent.de)) || t.consent;
    const consent = h("input", { type: "checkbox", name: "consent", required: true, id: uid("consent") });
    const consentErr = h("p", { class: "field-error", id: `${consent.id}-error`, hidden: true });
    consent.setAttribute("aria-describedby", consentErr.id);
    const links = [];
    if (pub.privacy_url) links.push(h("a", { href: pub.privacy_url, target: "_blank", rel: "noopener" }, t.privacy));
    if (pub.terms_url) links.push(h("a", { href: pub.terms_url, target: "_blank", rel: "noopener" }, t.terms));
    contact.append(
      h("label", { class: "check", for: consent.id }, consent, h("span", {}, consentText, ` (${t.required})`)),
      consentErr);
    if (links.length) contact.append(h("p", {}, ...links.flatMap((l, i) => [i ? " · " : "", l])));
    const input = (name, autocomplete, max) => h("input", { type: "text", name: `address.${name}`, autocomplete, maxlength: max });
    this.address = h("fieldset", { hidden: true, part: "address" }, h("legend", {}, t.address),
      h("p", { class: "muted" }, t.addressWhy),
      this.field(t.addressName, input("name", "organization", "200")),
      this.field(`${t.street} (${t.required})`, input("street", "street-address", "200")),
      this.field(`${t.postcode} (${t.required})`, input("postcode", "postal-code", "16")),
      this.field(`${t.city} (${t.required})`, input("city", "address-level2", "100")));
    form.append(contact, this.address, this.summary, this.errors,
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary", part: "button submit" }, t.book)));
    return form;
  }

  // Client checks first (each named at its field), then the API decides.
  validate() {
    const t = this.t;
    const root = this.shadowRoot;
    const checks = [
      ["name", (v) => v.trim().length > 0, t.errName],
      ["email", (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()), t.errEmail],
    ];
    const inputs = checks.map(([name, ok, message]) => [root.querySelector(`[name=${name}]`), ok, message]);
    inputs.push([root.querySelector("[name=consent]"), (_, input) => input.checked, t.errConsent]);
    if (this.address && !this.address.hidden) {
      for (const [n, message] of [["street", t.errStreet], ["postcode", t.errPostcode], ["city", t.errCity]]) {
        inputs.push([this.addressInput(n), (v) => v.trim().length > 0, message]);
      }
    }
    // Every field is marked; the first wrong one (in the form's order) gets the focus.
    let first = null;
    for (const [input, ok, message] of inputs) {
      const bad = this.mark(input, ok(input.value, input) ? null : message);
      first = first || bad;
    }
    return first;
  }

  mark(input, message) {
    const err = this.shadowRoot.getElementById(`${input.id}-error`);
    if (message) {
      input.setAttribute("aria-invalid", "true");
      err.textContent = message;
      err.hidden = false;
      return input;
    }
    input.removeAttribute("aria-invalid");
    err.hidden = true;
    err.textContent = "";
    return null;
  }

  async submit(e) {
    e.preventDefault();
    const t = this.t;
    this.errors.replaceChildren();
    if (!this.choice) {
      const box = this.errorBox({ code: "session_required" }, null);
      box.firstChild.textContent = t.chooseTime;
      this.errors.append(box);
      box.focus();
      return;
    }
    const invalid = this.validate();
    if (invalid) {
      const box = h("div", { class: "error", part: "error", role: "alert" }, t.errForm);
      this.errors.append(box);
      invalid.focus();
      return;
    }
    const root = this.shadowRoot;
    const value = (n) => root.querySelector(`[name=${n}]`).value.trim();
    const contact = { name: value("name"), email: value("email"), language: this.lang_ };
    if (value("phone")) contact.phone = value("phone");
    if (value("notes")) contact.notes = value("notes");
    if (this.address && !this.address.hidden) {
      const a = (n) => this.addressInput(n).value.trim();
      contact.address = { street: a("street"), postcode: a("postcode"), city: a("city") };
      if (a("name")) contact.address.name = a("name");
    }
    const c = this.choice;
    const body = { resource: this.res.id, contact };
    if (c.session) body.session = c.session;
    else {
      body.start = toRfc3339(c.start, c.offset);
      body.end = toRfc3339(c.end, c.offset);
    }
    if (this.res.kind === "pool" || this.res.kind === "event") body.units = this.unitsValue();
    const addons = this.chosenAddons();
    if (addons.length) body.addons = addons;
    const series = root.querySelector("[name=series]");
    const button = root.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = t.sending;
    let r;
    if (series && series.checked) {
      const count = Math.min(52, Math.max(2, parseInt(value("count"), 10) || 2));
      r = await api(`/v1/tenants/${enc(this.tenant)}/series`, { method: "POST", body: { ...body, rrule: `FREQ=WEEKLY;COUNT=${count}` } });
    } else {
      r = await api(`/v1/tenants/${enc(this.tenant)}/bookings`, { method: "POST", body });
    }
    button.disabled = false;
    button.textContent = t.book;
    if (r.ok) return r.data.occurrences ? this.seriesDone(r.data) : this.done(r.data);
    await this.refused(r.problem, c);
  }

  async refused(problem, c) {
    const t = this.t;
    let extra = null;
    if (problem.code === "recipient_required") this.showAddress(true);
    if (problem.code === "validation_failed" && problem.details && problem.details.fields) {
      for (const f of problem.details.fields) {
        const name = String(f.field || "").replace(/^contact\./, "");
        const input = this.shadowRoot.querySelector(`[name="${CSS.escape(name)}"]`);
        if (input) this.mark(input, f.message || t.errForm);
      }
    }
    if (problem.code === "series_conflict" && problem.details && problem.details.occurrences) {
      const bad = problem.details.occurrences.filter((o) => o.outcome === "refused");
      extra = h("ul", {}, ...bad.map((o) => {
        const s = parseLocal(o.start_local);
        const e = parseLocal(o.end_local);
        return h("li", {}, s && e ? fmtRange(s.naive, e.naive, this.lang_) : o.start, ": ", problemText({ code: o.code }, this.lang_));
      }));
    }
    if ((problem.code === "booking_conflict" || problem.code === "capacity_exceeded") && this.picker && !c.session) {
      await this.picker.load();
      const suggestions = await this.picker.suggest(c.start, c.end);
      this.picker.render();
      extra = suggestions.length
        ? h("div", {}, h("p", {}, t.suggestions), h("div", { class: "row" }, ...suggestions.map(([s, e]) =>
            h("button", { type: "button", part: "button suggestion", onclick: () => this.takeSuggestion(s, e) }, fmtRange(s, e, this.lang_)))))
        : h("p", {}, t.noSuggestions);
    }
    const box = this.errorBox(problem, extra);
    this.errors.replaceChildren(box);
    box.focus();
  }

  async takeSuggestion(s, e) {
    this.errors.replaceChildren();
    await this.picker.goTo(s, e);
    this.announce(`${this.t.summary}: ${fmtRange(s, e, this.lang_)}`);
  }

  done(b) {
    const t = this.t;
    const start = parseLocal(b.start_local).naive;
    const end = parseLocal(b.end_local).naive;
    const token = b.manage_token;
    const title = t.doneTitle[b.status] || t.doneTitle.confirmed;
    let text = t.doneText[b.status] || t.doneText.confirmed;
    if (b.hold_until) text = text.replace("{until}", fmtDateTime(utcToNaive(b.hold_until, this.zone), this.lang_));
    const heading = this.heading(0, `${title}: ${b.number}`, { tabindex: "-1" });
    const dl = h("dl", {},
      h("dt", {}, t.number), h("dd", {}, b.number),
      h("dt", {}, t.what), h("dd", {}, this.res.name),
      h("dt", {}, t.when), h("dd", {}, fmtRange(start, end, this.lang_)));
    if (b.units > 1) dl.append(h("dt", {}, this.res.kind === "event" ? t.seats : t.units), h("dd", {}, String(b.units)));
    const actions = h("div", { class: "row" });
    if (b.invoice) {
      dl.append(h("dt", {}, t.invoice), h("dd", {}, `${b.invoice.number} · ${money(b.invoice.total, this.lang_)}`));
      if (b.invoice.total && b.invoice.total.amount > 0 && token) {
        actions.append(h("button", { type: "button", class: "primary", part: "button pay", onclick: () => this.pay(b, token) }, t.pay));
      }
    }
    if (token) {
      const ics = h("button", { type: "button", part: "button", onclick: () => this.downloadIcs(b.id, token, b.number, ics) }, t.ics);
      actions.append(ics, h("a", { href: this.manageUrl(b.id, token), class: "button", part: "button manage", target: "_blank", rel: "noopener" }, t.manageLink));
    }
    actions.append(h("button", { type: "button", part: "button", onclick: () => this.showPicker() }, t.another));
    const box = h("div", { class: "result", part: "result" }, heading, h("p", {}, text), dl, actions, token ? h("p", { class: "muted" }, t.manageHint) : null);
    this.body.replaceChildren(box);
    heading.focus();
    this.announce(`${title}: ${b.number}`);
    this.emit("saalbuch:booked", { number: b.number, booking: b.id, status: b.status, tenant: this.tenant, resource: this.res.id });
  }

  seriesDone(s) {
    const t = this.t;
    const heading = this.heading(0, t.seriesDone(s.booked), { tabindex: "-1" });
    const list = h("ul", {}, ...s.occurrences.filter((o) => o.outcome === "booked").map((o) =>
      h("li", {}, `${o.number}: ${fmtRange(parseLocal(o.start_local).naive, parseLocal(o.end_local).naive, this.lang_)}`)));
    const first = s.occurrences.find((o) => o.outcome === "booked");
    const actions = h("div", { class: "row" });
    if (first && s.manage_token) {
      actions.append(h("a", { href: this.manageUrl(first.booking, s.manage_token), class: "button", part: "button manage", target: "_blank", rel: "noopener" }, t.manageLink));
    }
    actions.append(h("button", { type: "button", part: "button", onclick: () => this.showPicker() }, t.another));
    this.body.replaceChildren(h("div", { class: "result", part: "result" }, heading, list, actions, h("p", { class: "muted" }, t.manageHint)));
    heading.focus();
    this.announce(t.seriesDone(s.booked));
    for (const o of s.occurrences.filter((x) => x.outcome === "booked")) {
      this.emit("saalbuch:booked", { number: o.number, booking: o.booking, status: o.status, tenant: this.tenant, resource: this.res.id, series: s.id });
    }
  }

  // To the payment page Saalbuch hosts (it starts the provider's checkout
  // and is where the provider sends the citizen back). The token travels in
  // the fragment; this page remembers it to recognise the return.
  pay(b, token) {
    try {
      sessionStorage.setItem(`saalbuch:${this.tenant}:${b.id}`, token);
    } catch {
      /* storage may be off; the return then shows no notice */
    }
    const back = location.href.replace(/#.*$/, "");
    const q = this.lang_ === "en" ? "?lang=en" : "";
    location.assign(`${ORIGIN}/pay/${enc(this.tenant)}/${enc(b.invoice.id)}${q}#token=${enc(token)}&booking=${enc(b.id)}&back=${enc(back)}`);
  }

  // Back from the payment page with #saalbuch-paid=<booking>: confirm with
  // the API (not the URL) and tell the host page.
  async checkPaidReturn() {
    const m = /saalbuch-paid=([A-Za-z0-9_.-]+)/.exec(location.hash);
    if (!m || window.__saalbuchPaidHandled) return;
    let token = null;
    try {
      token = sessionStorage.getItem(`saalbuch:${this.tenant}:${m[1]}`);
    } catch {
      token = null;
    }
    if (!token) return;
    window.__saalbuchPaidHandled = true;
    const r = await api(`/v1/tenants/${enc(this.tenant)}/bookings/${enc(m[1])}/invoice`, { token });
    if (!r.ok || r.data.open > 0) return;
    history.replaceState(null, "", location.href.replace(/#.*$/, ""));
    const text = this.t.paidNotice(r.data.booking_number || r.data.number);
    this.paidNotice = h("div", { class: "notice", part: "notice", role: "status" }, text);
    if (this.body.contains(this.form)) this.body.insertBefore(this.paidNotice, this.body.children[1] || null);
    this.emit("saalbuch:paid", { number: r.data.booking_number, booking: m[1], invoice: r.data.number, tenant: this.tenant });
  }
}

// --------------------------------------------------------------- manage --

function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

class ManageElement extends SaalbuchElement {
  async start() {
    this.token = hashParams().get("token");
    this.id = this.getAttribute("booking") || "";
    const t = await this.brand();
    if (!t.ok) return this.fail(t.problem);
    this.pageTitle(this.t.manageTitle(""));
    if (!this.token) return this.noToken();
    await this.refresh();
  }

  noToken() {
    this.body.replaceChildren(this.heading(0, this.t.manageTitle("")), h("div", { class: "error", role: "alert" }, this.t.noToken));
  }

  get base() {
    return `/v1/tenants/${enc(this.tenant)}`;
  }

  async refresh(message) {
    const t = this.t;
    const r = await api(`${this.base}/bookings/${enc(this.id)}`, { token: this.token });
    if (!r.ok) {
      const text = r.problem.code === "booking_archived" ? t.archived : r.status === 404 || r.status === 401 ? t.notFound : problemText(r.problem, this.lang_);
      this.body.replaceChildren(this.heading(0, t.manageTitle("")), h("div", { class: "error", part: "error", role: "alert" }, text));
      return;
    }
    const b = (this.booking = r.data);
    const [res, inv] = await Promise.all([
      api(`${this.base}/resources/${enc(b.resource)}`),
      api(`${this.base}/bookings/${enc(this.id)}/invoice`, { token: this.token }),
    ]);
    this.res = res.ok ? res.data : { id: b.resource, name: b.resource, rules: {} };
    this.invoice = inv.ok ? inv.data : null;
    this.pageTitle(t.manageTitle(b.number));
    this.render(message);
  }

  render(message) {
    const t = this.t;
    const b = this.booking;
    const start = parseLocal(b.start_local).naive;
    const end = parseLocal(b.end_local).naive;
    const heading = this.heading(0, t.manageTitle(b.number), { tabindex: "-1" });
    const out = [heading];
    if (message) out.push(h("div", { class: "notice", part: "notice", role: "status" }, message));
    out.push(h("p", {}, h("span", { class: "status", part: "status" }, `${t.status}: ${t.statuses[b.status] || b.status}`), h("br"), t.statusText[b.status] || ""));
    const dl = h("dl", {},
      h("dt", {}, t.what), h("dd", {}, this.res.name),
      h("dt", {}, t.when), h("dd", {}, fmtRange(start, end, this.lang_)));
    if (b.status === "held" && b.hold_until) dl.append(h("dt", {}, t.heldUntil), h("dd", {}, fmtDateTime(utcToNaive(b.hold_until, this.zone), this.lang_)));
    if (b.units > 1) dl.append(h("dt", {}, this.res.kind === "event" ? t.seats : t.units), h("dd", {}, String(b.units)));
    if (b.contact && b.contact.erased) dl.append(h("dt", {}, t.bookedBy), h("dd", {}, t.erased));
    else if (b.contact && b.contact.name) dl.append(h("dt", {}, t.bookedBy), h("dd", {}, `${b.contact.name}${b.contact.email ? ` (${b.contact.email})` : ""}`));
    out.push(dl);
    const door = b.door && b.status === "confirmed" ? this.doorSection(b.door) : null;
    if (door) out.push(door);
    const open = ["requested", "held", "confirmed"].includes(b.status);
    const future = Date.parse(b.start) > Date.now();
    const actions = h("div", { class: "row" });
    const ics = h("button", { type: "button", part: "button", onclick: () => this.downloadIcs(b.id, this.token, b.number, ics) }, t.ics);
    if (open) actions.append(ics);
    if (open && future && this.res.kind !== "event") {
      actions.append(h("button", { type: "button", part: "button", onclick: () => this.reschedule() }, t.reschedule));
    }
    if (open && future) {
      actions.append(h("button", { type: "button", class: "danger", part: "button cancel", onclick: () => this.askCancel() }, t.cancel));
    }
    out.push(actions);
    this.panel = h("div");
    out.push(this.panel);
    if (this.invoice) out.push(this.invoiceSection());
    out.push(this.historySection());
    this.body.replaceChildren(...out);
    if (message) heading.focus();
  }

  // The door code, from the tenant's reveal time on; before that, when.
  doorSection(door) {
    const t = this.t;
    const L = this.lang_;
    const box = h("section", { class: "door", part: "door", "aria-labelledby": "door-heading" },
      this.heading(1, t.doorCode, { id: "door-heading" }));
    if (door.code) {
      box.append(
        h("p", { class: "door-code", part: "door-code" }, door.code),
        h("p", {}, fmtRange(utcToNaive(door.valid_from, this.zone), utcToNaive(door.valid_to, this.zone), L)),
        h("p", { class: "muted" }, t.doorValid));
    } else if (door.shown_from && Date.parse(door.shown_from) > Date.now()) {
      box.append(h("p", {}, t.doorLater(fmtDateTime(utcToNaive(door.shown_from, this.zone), L))));
    } else if (door.state === "pending") {
      box.append(h("p", {}, t.doorPending));
    } else {
      return null;
    }
    return box;
  }

  invoiceSection() {
    const t = this.t;
    const inv = this.invoice;
    const cur = inv.currency;
    const L = this.lang_;
    const dl = h("dl", {},
      h("dt", {}, t.invoice), h("dd", {}, inv.number),
      h("dt", {}, t.total), h("dd", {}, fmtMoney(inv.gross, cur, L)),
      h("dt", {}, t.status), h("dd", {}, t.invoiceStatus[inv.status] || inv.status));
    if (inv.open > 0) {
      dl.append(h("dt", {}, t.open), h("dd", {}, fmtMoney(inv.open, cur, L)));
      if (inv.due) dl.append(h("dt", {}, t.due), h("dd", {}, fmtDayLong(utcToNaive(inv.due, this.zone), L)));
      if (inv.kassenzeichen) dl.append(h("dt", {}, t.kassenzeichen), h("dd", {}, inv.kassenzeichen));
    }
    const actions = h("div", { class: "row" });
    if (inv.open > 0 && ["requested", "held", "confirmed"].includes(this.booking.status)) {
      actions.append(h("a", {
        class: "button primary", part: "button pay",
        href: `/pay/${enc(this.tenant)}/${enc(inv.id)}${L === "en" ? "?lang=en" : ""}#token=${enc(this.token)}&booking=${enc(this.id)}`,
      }, `${t.pay} (${fmtMoney(inv.open, cur, L)})`));
    }
    const documentButton = (label, path, filename, accept = "application/pdf") => {
      const b = h("button", {
        type: "button", part: "button",
        onclick: async () => {
          const r = await api(path, { token: this.token, accept });
          if (!r.ok) return this.announce(problemText(r.problem, L));
          download(r.blob, filename);
        },
      }, label);
      actions.append(b);
    };
    documentButton(t.invoicePdf(inv.number), `${this.base}/invoices/${enc(inv.id)}`, `${inv.number}.pdf`);
    // The same invoice as an EN 16931 e-invoice, for clubs and businesses.
    documentButton(t.invoiceXml(inv.number), `${this.base}/invoices/${enc(inv.id)}/einvoice.xml`, `${inv.number}.xml`, "application/xml");
    for (const p of inv.receipts || []) {
      documentButton(t.receiptPdf(p), `${this.base}/receipts/${enc(p)}`, `${p}.pdf`);
    }
    return h("section", { "aria-label": t.invoice }, this.heading(1, t.invoice), dl, actions);
  }

  historySection() {
    const t = this.t;
    const list = h("ol", { class: "history", part: "history" });
    for (const item of this.booking.history || []) {
      if (item.event === "notified") continue;
      const when = fmt(utcToNaive(item.at, this.zone), this.lang_, { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      let text = t.events[item.event] || item.event;
      if (item.by && t.by[item.by]) text += ` ${t.by[item.by]}`;
      if (item.event === "rescheduled" && item.start && item.end) {
        text += ` ${t.movedTo(fmtRange(utcToNaive(item.start, this.zone), utcToNaive(item.end, this.zone), this.lang_))}`;
      }
      if (item.reason) text += ` („${item.reason}“)`;
      list.append(h("li", {}, h("span", { class: "muted" }, `${when}: `), text));
    }
    return h("section", { "aria-label": t.history }, this.heading(1, t.history), list);
  }

  async askCancel() {
    const t = this.t;
    const L = this.lang_;
    // What cancelling now would cost, decided by the server as the cancel
    // itself would be (GET …/cancellation), before the booker confirms.
    const q = await api(`${this.base}/bookings/${enc(this.id)}/cancellation`, { token: this.token });
    if (!q.ok) return this.panel.replaceChildren(this.errorBox(q.problem));
    if (q.data.allowed === false) return this.panel.replaceChildren(this.errorBox(q.data.refusal || { code: "other" }));
    const lines = [];
    const fee = q.data.fee;
    if (!fee || fee.amount === 0) lines.push(t.cancelFree);
    else lines.push(t.cancelFee(money(fee, L), q.data.fee_percent));
    if (q.data.refund_total && q.data.refund_total.amount > 0) lines.push(t.cancelRefund(money(q.data.refund_total, L)));
    const reasonId = uid("reason");
    const heading = this.heading(1, t.cancelTitle, { tabindex: "-1" });
    const box = h("div", { class: "error", part: "confirm", role: "group", "aria-label": t.cancelTitle },
      heading,
      ...lines.map((l) => h("p", { class: "price" }, l)),
      h("label", { for: reasonId }, t.cancelReason),
      h("input", { type: "text", id: reasonId, maxlength: "500" }),
      h("div", { class: "row" },
        h("button", { type: "button", class: "danger primary", part: "button cancel-confirm", onclick: () => this.cancel(reasonId) }, t.cancelConfirm),
        h("button", { type: "button", part: "button", onclick: () => this.panel.replaceChildren() }, t.keep)));
    this.panel.replaceChildren(box);
    heading.focus();
  }

  async cancel(reasonId) {
    const reason = this.shadowRoot.getElementById(reasonId).value.trim();
    const body = reason ? { reason } : {};
    const r = await api(`${this.base}/bookings/${enc(this.id)}/cancel`, { method: "POST", token: this.token, body });
    if (!r.ok) {
      const box = this.errorBox(r.problem);
      this.panel.replaceChildren(box);
      return box.focus();
    }
    await this.refresh(this.t.cancelled);
    this.announce(this.t.cancelled);
  }

  async reschedule() {
    const t = this.t;
    const b = this.booking;
    const start = parseLocal(b.start_local).naive;
    const end = parseLocal(b.end_local).naive;
    const submit = h("button", { type: "button", class: "primary", part: "button", disabled: true, onclick: () => this.move() }, t.rescheduleSubmit);
    const errors = h("div");
    this.picker = new Picker(this, this.res, {
      units: b.units || 1,
      duration: end - start,
      exclude: [parseLocal(b.start_local).naive - (this.res.rules?.buffer_before_minutes || 0) * MIN, end + (this.res.rules?.buffer_after_minutes || 0) * MIN],
      onChange: (c) => {
        this.moveTo = c;
        submit.disabled = !c;
      },
    });
    const day = Math.floor(start / DAY) * DAY;
    const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
    if (monday > this.picker.monday) this.picker.monday = monday;
    const r = await this.picker.load();
    if (!r.ok) return this.panel.replaceChildren(this.errorBox(r.problem));
    this.picker.day = this.picker.slotsOf(day).size ? day : null;
    this.picker.render();
    const heading = this.heading(1, t.rescheduleTitle, { tabindex: "-1" });
    this.moveErrors = errors;
    this.panel.replaceChildren(h("section", { part: "form" }, heading, this.picker.el, errors,
      h("div", { class: "row" }, submit, h("button", { type: "button", part: "button", onclick: () => this.panel.replaceChildren() }, t.close))));
    heading.focus();
  }

  async move() {
    const c = this.moveTo;
    if (!c) return;
    const r = await api(`${this.base}/bookings/${enc(this.id)}/reschedule`, {
      method: "POST", token: this.token,
      body: { start: toRfc3339(c.start, c.offset), end: toRfc3339(c.end, c.offset) },
    });
    if (!r.ok) {
      const box = this.errorBox(r.problem);
      this.moveErrors.replaceChildren(box);
      return box.focus();
    }
    await this.refresh(this.t.rescheduled);
    this.announce(this.t.rescheduled);
  }
}

// ------------------------------------------------------------------ pay --

// Saalbuch's payment page: opened with #token=…&booking=…&back=… it shows
// what is open and starts the provider's checkout; the provider sends the
// citizen back to the same page with ?checkout=…&status=…, and the page
// shows the outcome as the ledger sees it (the webhook, not the URL).
class PayElement extends SaalbuchElement {
  async start() {
    const t = this.t;
    this.invoiceId = this.getAttribute("invoice") || "";
    const key = `saalbuch-pay:${this.tenant}:${this.invoiceId}`;
    const p = hashParams();
    if (p.get("token")) {
      const back = p.get("back") || "";
      const state = { token: p.get("token"), booking: p.get("booking") || "", back: /^https?:\/\//.test(back) ? back : "" };
      try {
        sessionStorage.setItem(key, JSON.stringify(state));
      } catch {
        /* without storage the return page asks for the e-mail's link */
      }
      this.state = state;
      history.replaceState(null, "", location.pathname + location.search);
    } else {
      try {
        this.state = JSON.parse(sessionStorage.getItem(key) || "null");
      } catch {
        this.state = null;
      }
    }
    const b = await this.brand();
    if (!b.ok) return this.fail(b.problem);
    this.pageTitle(t.payTitle);
    const query = new URLSearchParams(location.search);
    if (!this.state) {
      return this.body.replaceChildren(this.heading(0, t.payTitle), h("div", { class: "error", role: "alert" }, t.payNoToken));
    }
    if (query.get("checkout")) return this.returned(query.get("status") || "");
    await this.summary();
  }

  get base() {
    return `/v1/tenants/${enc(this.tenant)}`;
  }

  async loadInvoice() {
    return api(`${this.base}/invoices/${enc(this.invoiceId)}`, { token: this.state.token });
  }

  async summary(problem) {
    const t = this.t;
    const r = await this.loadInvoice();
    if (!r.ok) return this.body.replaceChildren(this.heading(0, t.payTitle), h("div", { class: "error", role: "alert" }, r.status === 404 ? t.notFound : problemText(r.problem, this.lang_)));
    const inv = r.data;
    const L = this.lang_;
    const out = [this.heading(0, `${t.payTitle}: ${t.invoice} ${inv.number}`)];
    if (problem) out.push(this.errorBox(problem));
    const dl = h("dl", {},
      h("dt", {}, t.number), h("dd", {}, inv.booking_number || ""),
      h("dt", {}, t.total), h("dd", {}, fmtMoney(inv.gross, inv.currency, L)),
      h("dt", {}, t.open), h("dd", {}, fmtMoney(Math.max(0, inv.open), inv.currency, L)));
    out.push(dl);
    if (inv.open > 0) {
      out.push(h("p", {}, t.payIntro));
      out.push(h("div", { class: "row" }, h("button", { type: "button", class: "primary", part: "button pay", onclick: (e) => this.checkout(e.target) }, t.payGo)));
    } else {
      out.push(h("div", { class: "notice", role: "status" }, t.payNothing));
    }
    out.push(this.links(false));
    this.body.replaceChildren(...out);
  }

  links(paid) {
    const t = this.t;
    const row = h("div", { class: "row" });
    if (this.state.booking) {
      const q = this.lang_ === "en" ? "?lang=en" : "";
      row.append(h("a", { class: "button", part: "button", href: `/manage/${enc(this.tenant)}/${enc(this.state.booking)}${q}#token=${enc(this.state.token)}` }, t.toBooking));
    }
    if (this.state.back) {
      const url = paid && this.state.booking ? `${this.state.back}#saalbuch-paid=${enc(this.state.booking)}` : this.state.back;
      row.append(h("a", { class: "button", part: "button", href: url }, t.toSite));
    }
    return row;
  }

  async checkout(button) {
    button.disabled = true;
    button.textContent = this.t.sending;
    const r = await api(`${this.base}/invoices/${enc(this.invoiceId)}/checkout`, { method: "POST", token: this.state.token, body: {} });
    if (!r.ok) return this.summary(r.problem);
    location.assign(r.data.url);
  }

  async returned(status) {
    const t = this.t;
    const heading = this.heading(0, t.payTitle, { tabindex: "-1" });
    const live = h("div", { class: "notice", role: "status" }, t.payWaiting);
    this.body.replaceChildren(heading, live);
    const failed = status === "failed" || status === "cancelled" || status === "canceled";
    const deadline = Date.now() + (failed ? 0 : 30000);
    let inv = null;
    do {
      const r = await this.loadInvoice();
      if (r.ok) {
        inv = r.data;
        if (inv.open <= 0) break;
      }
      if (Date.now() >= deadline) break;
      await new Promise((res) => setTimeout(res, 1000));
    } while (Date.now() < deadline);
    const out = [heading];
    if (inv && inv.open <= 0) {
      const booking = await api(`${this.base}/bookings/${enc(this.state.booking || inv.booking)}`, { token: this.state.token });
      out.push(h("div", { class: "result", part: "result", role: "status" },
        h("p", { class: "status" }, t.paySuccess),
        booking.ok && booking.data.status === "confirmed" ? h("p", {}, t.payConfirmed(booking.data.number)) : null,
        h("dl", {}, h("dt", {}, t.invoice), h("dd", {}, inv.number), h("dt", {}, t.total), h("dd", {}, fmtMoney(inv.gross, inv.currency, this.lang_)))));
      out.push(this.links(true));
      this.body.replaceChildren(...out);
      heading.focus();
      this.emit("saalbuch:paid", { number: inv.booking_number, booking: inv.booking, invoice: inv.number, tenant: this.tenant });
      return;
    }
    if (failed) {
      out.push(h("div", { class: "error", part: "error", role: "alert" }, t.payFailed));
      out.push(h("div", { class: "row" }, h("button", { type: "button", class: "primary", part: "button pay", onclick: (e) => this.checkout(e.target) }, t.payRetry)));
    } else {
      out.push(h("div", { class: "notice", role: "status" }, t.payPending));
    }
    out.push(this.links(false));
    this.body.replaceChildren(...out);
    heading.focus();
  }
}

// --------------------------------------------------------- registration --

const ELEMENTS = {
  "saalbuch-catalog": CatalogElement,
  "saalbuch-booking": BookingElement,
  "saalbuch-manage": ManageElement,
  "saalbuch-pay": PayElement,
};
// The sentences, for the browser tests' check that every refusal code of the
// public routes has one in both languages.
export { PROBLEMS };

for (const [name, cls] of Object.entries(ELEMENTS)) {
  if (!customElements.get(name)) customElements.define(name, cls);
}

// <div class="saalbuch-booking" data-tenant=… data-resource=…> for CMSs that
// strip unknown tags: the element is created inside the div.
function upgradeDivs(root) {
  for (const div of root.querySelectorAll("div.saalbuch-booking, div.saalbuch-catalog")) {
    if (div.dataset.saalbuchUpgraded) continue;
    div.dataset.saalbuchUpgraded = "1";
    const name = div.classList.contains("saalbuch-booking") ? "saalbuch-booking" : "saalbuch-catalog";
    const el = document.createElement(name);
    for (const key of ["tenant", "resource", "kind", "lang", "heading"]) {
      if (div.dataset[key]) el.setAttribute(key, div.dataset[key]);
    }
    div.append(el);
  }
}
if (!window.__saalbuchDivs) {
  window.__saalbuchDivs = true;
  const run = () => {
    upgradeDivs(document);
    new MutationObserver(() => upgradeDivs(document)).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}
