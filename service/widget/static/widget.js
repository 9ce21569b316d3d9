/*
 * partnermatch export-advisor widget.
 *
 * Embed:
 *   <script src="https://HOST/widget.js" data-key="pk_…" data-lang="cs"
 *           data-region="CZ080" async></script>
 *   <div data-partnermatch></div>
 *
 * A visitor describes what the firm needs, gets research organisations that can
 * help, and may ask the region's export advisor for an introduction. Each
 * div[data-partnermatch] gets its own open shadow root; the page's CSS cannot
 * reach inside. The only global is window.Partnermatch {version, render(el)}.
 */
(() => {
  "use strict";

  const MARK = "data-partnermatch-rendered";
  const SELECTOR = "div[data-partnermatch]";

  if (window.Partnermatch) {
    // Loaded twice: the first copy renders.
    document.querySelectorAll(SELECTOR).forEach((el) => window.Partnermatch.render(el));
    return;
  }

  const script =
    document.currentScript ||
    [...document.querySelectorAll('script[src*="widget.js"][data-key]')].pop();
  if (!script) return;

  const KEY = script.dataset.key || "";
  const LANG = script.dataset.lang === "en" ? "en" : "cs";
  const HOME_REGION = (script.dataset.region || "").trim().toUpperCase() || null;
  const API = new URL(script.src, location.href).origin;

  // The service writes its fields of technology here when it serves the script.
  const FIELDS = /*FIELDS*/ [];

  const REGIONS = {
    CZ010: ["Hlavní město Praha", "Prague"],
    CZ020: ["Středočeský kraj", "Central Bohemian Region"],
    CZ031: ["Jihočeský kraj", "South Bohemian Region"],
    CZ032: ["Plzeňský kraj", "Plzeň Region"],
    CZ041: ["Karlovarský kraj", "Karlovy Vary Region"],
    CZ042: ["Ústecký kraj", "Ústí nad Labem Region"],
    CZ051: ["Liberecký kraj", "Liberec Region"],
    CZ052: ["Královéhradecký kraj", "Hradec Králové Region"],
    CZ053: ["Pardubický kraj", "Pardubice Region"],
    CZ063: ["Kraj Vysočina", "Vysočina Region"],
    CZ064: ["Jihomoravský kraj", "South Moravian Region"],
    CZ071: ["Olomoucký kraj", "Olomouc Region"],
    CZ072: ["Zlínský kraj", "Zlín Region"],
    CZ080: ["Moravskoslezský kraj", "Moravian-Silesian Region"],
  };

  const TEXTS = {
    cs: {
      title: "Najděte partnera pro výzkum a vývoj",
      need: "Co potřebuje vaše firma vyřešit?",
      needHint:
        "Například: senzor pro měření vlhkosti dřeva. Enter spustí hledání, Shift+Enter vloží nový řádek.",
      region: "Kraj partnera (nepovinné)",
      anyRegion: "Kterýkoli kraj",
      field: "Obor (nepovinné)",
      anyField: "Kterýkoli obor",
      search: "Hledat",
      searching: "Hledám…",
      results: "Výsledky hledání",
      empty: "Žádná organizace neodpovídá dost dobře. Zkuste potřebu popsat jinak.",
      connect: "Požádat exportního poradce o propojení",
      tooMany: "Příliš mnoho hledání, zkuste to za chvíli znovu.",
      forbidden: "Tento widget není na tomto webu povolen.",
      network: "Nepodařilo se spojit se serverem. Zkuste to prosím znovu.",
      generic: "Něco se nepovedlo. Zkuste to prosím znovu.",
      gone: "Tato organizace už není k dispozici.",
      leadTitle: "Propojení s organizací",
      leadIntro: "Exportní poradce vašeho kraje vás s organizací propojí.",
      company: "Název firmy",
      ico: "IČO (8 číslic, nepovinné)",
      email: "E-mail",
      contact: "Kontaktní osoba (nepovinné)",
      consent: "Souhlasím, aby mě exportní poradce kontaktoval.",
      send: "Odeslat žádost",
      sending: "Odesílám…",
      cancel: "Zrušit",
      thanks: "Děkujeme, exportní poradce se vám ozve.",
      duplicate: "Váš požadavek už poradce má.",
      fields: {
        company_name: "Vyplňte název firmy.",
        ico: "Zkontrolujte IČO (8 číslic).",
        email: "Zadejte platnou e-mailovou adresu.",
        contact_name: "Zkontrolujte jméno kontaktní osoby.",
        consent: "Bez souhlasu vás poradce nemůže kontaktovat.",
      },
      invalid: "Zkontrolujte tento údaj.",
    },
    en: {
      title: "Find a research and development partner",
      need: "What does your company need?",
      needHint:
        "For example: a sensor that measures the moisture of wood. Enter searches, Shift+Enter starts a new line.",
      region: "Partner's region (optional)",
      anyRegion: "Any region",
      field: "Field (optional)",
      anyField: "Any field",
      search: "Search",
      searching: "Searching…",
      results: "Search results",
      empty: "No organisation matches well enough. Try describing the need differently.",
      connect: "Ask the export advisor to connect us",
      tooMany: "Too many searches, try again in a moment.",
      forbidden: "This widget is not allowed on this site.",
      network: "Could not reach the server. Please try again.",
      generic: "Something went wrong. Please try again.",
      gone: "This organisation is no longer available.",
      leadTitle: "Introduction to",
      leadIntro: "Your region's export advisor will introduce you.",
      company: "Company name",
      ico: "Company ID – IČO (8 digits, optional)",
      email: "E-mail",
      contact: "Contact name (optional)",
      consent: "I agree that the export advisor may contact me.",
      send: "Send request",
      sending: "Sending…",
      cancel: "Cancel",
      thanks: "Thank you, the export advisor will be in touch.",
      duplicate: "Your request is already with the advisor.",
      fields: {
        company_name: "Enter the company name.",
        ico: "Check the company ID (IČO, 8 digits).",
        email: "Enter a valid e-mail address.",
        contact_name: "Check the contact name.",
        consent: "Without your consent the advisor cannot contact you.",
      },
      invalid: "Check this field.",
    },
  };
  const T = TEXTS[LANG];

  // Colours meet 4.5:1 on white; the host element and the wrapper reset every
  // inherited property, so page rules cannot restyle the widget.
  const CSS = `
:host{all:initial!important;direction:ltr!important;unicode-bidi:isolate!important;display:block!important;visibility:visible!important;opacity:1!important;
  color:#1f2328!important;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif!important}
.pm{all:initial;direction:ltr;display:block;box-sizing:border-box;width:100%;max-width:100%;padding:16px;
  background:#fff;color:#1f2328;border:1px solid #8c959f;border-radius:8px;
  font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;text-align:left;
  overflow-wrap:break-word;overflow-wrap:anywhere}
.pm *,.pm *::before,.pm *::after{box-sizing:border-box;margin:0;padding:0;max-width:100%;
  font:inherit;color:inherit}
.pm h2{font-size:18px;font-weight:700;line-height:1.3;margin-bottom:12px}
.pm .f{margin-bottom:12px}
.pm label{display:block;font-weight:600;margin-bottom:4px}
.pm .hint{font-size:14px;color:#57606a;margin-top:4px}
.pm textarea,.pm input:not([type=checkbox]),.pm select{display:block;width:100%;min-width:0;
  padding:8px 10px;border:1px solid #6e7781;border-radius:6px;background:#fff;color:#1f2328;font-size:16px}
.pm textarea{min-height:5.5em;resize:vertical}
.pm .row{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end}
.pm .row .f{flex:1 1 200px;margin:0}
.pm button{display:inline-block;cursor:pointer;padding:9px 16px;border-radius:6px;font-weight:600;
  font-size:16px;line-height:1.3;text-align:center;border:2px solid #0b5cad;background:#0b5cad;color:#fff}
.pm button.alt{background:#fff;color:#0b5cad}
.pm button:disabled{cursor:default;background:#57606a;border-color:#57606a;color:#fff}
.pm :focus{outline:3px solid #0b5cad;outline-offset:2px}
.pm :focus:not(:focus-visible){outline:none}
.pm :focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
.pm .err{color:#b3261e;font-weight:600}
.pm .err:not(:empty){margin-top:12px}
.pm .ferr{color:#b3261e;font-size:14px}
.pm .ferr:not(:empty){margin-top:4px}
.pm [aria-invalid=true]{border-color:#b3261e}
.pm .ok{color:#1a7f37;font-weight:600}
.pm .ok:not(:empty){margin-top:8px}
.pm .res{margin-top:16px}
.pm ul{list-style:none}
.pm li{border:1px solid #8c959f;border-radius:6px;padding:12px;margin-top:12px}
.pm .name{font-weight:700}
.pm .meta{font-size:14px;color:#57606a}
.pm .why{margin:6px 0 10px}
.pm .lead{margin-top:12px;padding-top:12px;border-top:1px solid #d0d7de}
.pm .lead .t{font-weight:700}
.pm .lead .i{font-size:14px;color:#57606a;margin-bottom:10px}
.pm .chk{display:flex;gap:8px;align-items:flex-start}
.pm .chk input{flex:none;width:20px;height:20px;margin-top:2px;accent-color:#0b5cad}
.pm .chk label{font-weight:400;margin:0}
.pm .btns{display:flex;flex-wrap:wrap;gap:8px;margin-top:4px}
`;

  /** An element with attributes (`text` sets textContent, `on…` adds a listener) and children. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (name === "text") el.textContent = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child != null) el.append(child);
    return el;
  }

  function regionName(code) {
    const names = REGIONS[code];
    return names ? names[LANG === "en" ? 1 : 0] : code;
  }

  /** POST JSON to the API: {status, data}; throws on network failure. */
  async function post(path, body) {
    const response = await fetch(API + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { Authorization: "Bearer " + KEY, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      // no JSON body
    }
    return { status: response.status, data };
  }

  function logProblem(what, status, data) {
    console.error(`partnermatch: ${what} failed (${status})`, (data && data.detail) || "");
  }

  function errorText(status) {
    if (status === 429) return T.tooMany;
    if (status === 403) return T.forbidden;
    return T.generic;
  }

  /** A labelled field: label, control, optional hint and an (empty) error message. */
  function field(id, label, control, hint) {
    control.id = id;
    const parts = [h("label", { for: id, text: label }), control];
    if (hint) parts.push(h("p", { class: "hint", id: id + "-hint", text: hint }));
    parts.push(h("p", { class: "ferr", id: id + "-err" }));
    return h("div", { class: "f" }, ...parts);
  }

  function build(root) {
    const state = { need: "", region: null, busy: false, lead: null };

    const need = h("textarea", {
      name: "need",
      required: true,
      minlength: 3,
      maxlength: 2000,
      rows: 3,
      "aria-describedby": "pm-need-hint",
      onkeydown: (event) => {
        if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit();
        else button.click();
      },
    });
    const region = h(
      "select",
      { name: "region" },
      h("option", { value: "", text: T.anyRegion }),
      ...Object.keys(REGIONS).map((code) => h("option", { value: code, text: regionName(code) }))
    );
    const topic = h(
      "select",
      { name: "field" },
      h("option", { value: "", text: T.anyField }),
      ...FIELDS.map((item) => h("option", { value: item.id, text: item.label[LANG] || item.id }))
    );
    const button = h("button", { type: "submit", text: T.search });
    const form = h(
      "form",
      { role: "search", onsubmit: (event) => search(event) },
      field("pm-need", T.need, need, T.needHint),
      h(
        "div",
        { class: "row" },
        field("pm-region", T.region, region),
        FIELDS.length ? field("pm-field", T.field, topic) : null,
        button
      )
    );
    const alert = h("p", { class: "err", role: "alert", "data-error": true });
    const message = h("p", { class: "msg", "data-message": true });
    const list = h("ul", { "data-results": true, "aria-label": T.results });
    const confirmation = h("p", { class: "ok", "data-confirmation": true });
    const results = h(
      "div",
      { class: "res", part: "results", "aria-live": "polite", "aria-busy": "false" },
      message,
      list,
      confirmation
    );

    root.append(
      h("style", { text: CSS }),
      h("div", { class: "pm", lang: LANG }, h("h2", { text: T.title }), form, alert, results)
    );

    function setBusy(busy) {
      state.busy = busy;
      button.disabled = busy;
      button.textContent = busy ? T.searching : T.search;
      results.setAttribute("aria-busy", String(busy));
    }

    async function search(event) {
      event.preventDefault();
      const text = need.value.trim();
      if (state.busy || !text) return;
      setBusy(true);
      alert.textContent = "";
      const body = { text, limit: 5 };
      if (region.value) body.region = region.value;
      if (topic.value) body.field = topic.value;
      try {
        const { status, data } = await post("/api/v1/widget/search", body);
        if (status >= 200 && status < 300 && data && Array.isArray(data.results)) {
          state.need = text;
          state.region = body.region || null;
          showResults(data.results);
        } else {
          logProblem("search", status, data);
          alert.textContent = errorText(status);
        }
      } catch (error) {
        console.error("partnermatch: search failed", error);
        alert.textContent = T.network;
      } finally {
        setBusy(false);
      }
    }

    function showResults(items) {
      closeLead(false);
      confirmation.textContent = "";
      results.append(confirmation); // it may sit in an old result
      list.replaceChildren(...items.map(resultItem));
      message.textContent = items.length ? "" : T.empty;
    }

    function resultItem(result, index) {
      const org = result.organization || {};
      const id = "pm-r" + index;
      const where = org.region ? regionName(org.region) : org.country;
      const ask = h("button", {
        type: "button",
        class: "alt",
        text: T.connect,
        "aria-expanded": "false",
        "aria-describedby": id + "-name",
      });
      const item = h(
        "li",
        null,
        h("p", { class: "name", id: id + "-name", text: org.name || "" }),
        h("p", { class: "meta", text: [result.title, where].filter(Boolean).join(" · ") }),
        h("p", { class: "why", text: result.why || "" }),
        ask
      );
      ask.addEventListener("click", () => {
        const open = state.lead && state.lead.ask === ask;
        closeLead(false);
        if (!open) openLead(result, item, ask);
      });
      return item;
    }

    function closeLead(refocus) {
      const lead = state.lead;
      if (!lead) return;
      state.lead = null;
      lead.box.remove();
      lead.ask.setAttribute("aria-expanded", "false");
      lead.ask.removeAttribute("aria-controls");
      if (refocus) lead.ask.focus();
    }

    function openLead(result, item, ask) {
      const lead = leadForm(result, ask);
      state.lead = lead;
      // aria-live off: opening the form is not announced as a results change.
      lead.box = h("div", { class: "lead", "aria-live": "off" }, lead.form);
      item.append(lead.box);
      ask.setAttribute("aria-expanded", "true");
      ask.setAttribute("aria-controls", "pm-lead");
      lead.form.elements.namedItem("company_name").focus();
    }

    function leadForm(result, ask) {
      const input = (attrs) => h("input", attrs);
      const error = h("p", { class: "err", role: "alert" });
      const send = h("button", { type: "submit", text: T.send });
      const form = h(
        "form",
        { id: "pm-lead", "data-lead": true, "aria-labelledby": "pm-lead-t" },
        h("p", {
          class: "t",
          id: "pm-lead-t",
          text: `${T.leadTitle} ${(result.organization || {}).name || ""}`.trim(),
        }),
        h("p", { class: "i", text: T.leadIntro }),
        field(
          "pm-company",
          T.company,
          input({ name: "company_name", required: true, maxlength: 300, autocomplete: "organization" })
        ),
        field(
          "pm-ico",
          T.ico,
          input({ name: "ico", inputmode: "numeric", pattern: "[0-9]{8}", maxlength: 8, autocomplete: "off" })
        ),
        field(
          "pm-email",
          T.email,
          input({ name: "email", type: "email", required: true, maxlength: 254, autocomplete: "email" })
        ),
        field(
          "pm-contact",
          T.contact,
          input({ name: "contact_name", maxlength: 200, autocomplete: "name" })
        ),
        h(
          "div",
          { class: "f" },
          h(
            "div",
            { class: "chk" },
            input({ type: "checkbox", name: "consent", id: "pm-consent", required: true }),
            h("label", { for: "pm-consent", text: T.consent })
          ),
          h("p", { class: "ferr", id: "pm-consent-err" })
        ),
        error,
        h(
          "div",
          { class: "btns" },
          send,
          h("button", { type: "button", class: "alt", text: T.cancel, onclick: () => closeLead(true) })
        )
      );
      form.addEventListener("keydown", (event) => {
        if (event.key !== "Escape") return;
        event.preventDefault();
        event.stopPropagation();
        closeLead(true);
      });
      form.addEventListener("input", (event) => clearFieldError(event.target));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        submitLead(lead);
      });
      const lead = { form, error, send, ask, result, busy: false };
      return lead;
    }

    function leadBody(lead) {
      const value = (name) => lead.form.elements[name].value.trim();
      const body = {
        profile_id: lead.result.profile_id,
        company_name: value("company_name"),
        email: value("email"),
        need: state.need,
        consent: true,
      };
      if (value("ico")) body.ico = value("ico");
      if (value("contact_name")) body.contact_name = value("contact_name");
      const to = HOME_REGION || state.region;
      if (to) body.region = to;
      return body;
    }

    async function submitLead(lead) {
      if (lead.busy) return;
      lead.busy = true;
      lead.send.disabled = true;
      lead.send.textContent = T.sending;
      lead.form.setAttribute("aria-busy", "true");
      lead.error.textContent = "";
      try {
        const { status, data } = await post("/api/v1/widget/leads", leadBody(lead));
        if (status === 201 || status === 409) {
          done(lead, status === 201 ? T.thanks : T.duplicate);
          return;
        }
        logProblem("lead", status, data);
        if (status === 422 && showFieldErrors(lead, data)) return;
        lead.error.textContent = status === 404 ? T.gone : errorText(status);
      } catch (error) {
        console.error("partnermatch: lead failed", error);
        lead.error.textContent = T.network;
      } finally {
        lead.busy = false;
        lead.send.disabled = false;
        lead.send.textContent = T.send;
        lead.form.removeAttribute("aria-busy");
      }
    }

    /** Close the form and say so under its result (inside the live region). */
    function done(lead, text) {
      if (state.lead === lead) closeLead(true);
      if (lead.ask.isConnected) lead.ask.after(confirmation);
      else results.append(confirmation);
      confirmation.textContent = text;
    }

    /** Marks the fields named by problem+json `errors[].pointer`; false when none is in the form. */
    function showFieldErrors(lead, data) {
      let first = null;
      for (const problem of (data && data.errors) || []) {
        const name = String(problem.pointer || "").replace(/^#\//, "").split("/")[0];
        const control = name && lead.form.elements.namedItem(name);
        if (!control || !control.id) continue;
        const message = root.getElementById(control.id + "-err");
        message.textContent = T.fields[name] || T.invalid;
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", message.id);
        first = first || control;
      }
      if (first) first.focus();
      return Boolean(first);
    }

    function clearFieldError(control) {
      if (!control || control.getAttribute("aria-invalid") !== "true") return;
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
      const message = root.getElementById(control.id + "-err");
      if (message) message.textContent = "";
    }
  }

  /** Renders the widget into `element` once; returns its shadow root. */
  function render(element) {
    if (!(element instanceof Element)) throw new TypeError("Partnermatch.render needs an element");
    if (element.hasAttribute(MARK)) return element.shadowRoot;
    element.setAttribute(MARK, "");
    const root = element.attachShadow({ mode: "open" });
    build(root);
    return root;
  }

  function renderAll() {
    if (!KEY) {
      console.error("partnermatch: the script tag has no data-key");
      return;
    }
    document.querySelectorAll(SELECTOR).forEach(render);
  }

  window.Partnermatch = Object.freeze({ version: "1.0.0", render });

  renderAll();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll, { once: true });
  }
})();
