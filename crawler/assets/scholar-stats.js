/* scholar-stats homepage snippet: fills citation counts from a gs_data.json.
 * Drop-in for pages marked up for AcadHomepage (#total_cit, .show_paper_citations[data]).
 * Never throws into the page: a missing element, an unknown paper ID or a dead data URL
 * leaves the page as it was. Inserts text only (textContent, setAttribute), never markup.
 * Written to survive HTML minifiers that join lines (jekyll-compress-html): block comments
 * only, and every statement ends with a semicolon.
 */
(function (config) {
  'use strict';

  /* Numbers from these sources are Google Scholar's own; any other source is named in a tooltip.
   * The upper-case ones are what scholarly writes (AcadHomepage's own crawler: AUTHOR_PROFILE_PAGE). */
  var SCHOLAR_SOURCES = ['scholar', 'scholarly', 'serpapi',
    'AUTHOR_PROFILE_PAGE', 'SEARCH_AUTHOR_SNIPPETS', 'CO_AUTHORS_LIST'];

  /* data-scholar-stats="KEY" -> field of gs_data.json (AcadHomepage / scholarly names). */
  var FIELDS = {
    citations: 'citedby',
    citations_since: 'citedby5y',
    h_index: 'hindex',
    h_index_since: 'hindex5y',
    i10_index: 'i10index',
    i10_index_since: 'i10index5y',
    since_year: 'since_year'
  };

  /* The ids AcadHomepage-style pages already use. */
  var IDS = { total_cit: 'citations', h_index: 'h_index', i10_index: 'i10_index', gs_updated: 'updated' };

  var PAPER_FORMAT = '| Citations: {n}';

  function warn(message) {
    try {
      if (typeof console !== 'undefined' && console.warn) console.warn('scholar-stats: ' + message);
    } catch (e) { /* a console that throws must not stop the page */ }
  }

  /* A count is a non-negative integer, or a string of digits (some writers quote numbers). */
  function asCount(value) {
    if (typeof value === 'number' && isFinite(value) && value >= 0 && Math.floor(value) === value) return value;
    if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return parseInt(value, 10);
    return null;
  }

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function looksValid(data) {
    return isObject(data) && asCount(data.citedby) !== null;
  }

  function timeoutAfter(ms, controller) {
    var timer = null;
    var promise = new Promise(function (resolve, reject) {
      timer = setTimeout(function () {
        if (controller) controller.abort();
        reject(new Error('timed out after ' + ms + ' ms'));
      }, ms);
    });
    return { promise: promise, cancel: function () { clearTimeout(timer); } };
  }

  async function fetchData(url, ms) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = timeoutAfter(ms, controller);
    /* The timer covers the body too: a server may send headers and then stall. */
    var work = (async function () {
      var init = { credentials: 'omit', redirect: 'follow' };
      if (controller) init.signal = controller.signal;
      var response = await fetch(url, init);
      if (!response.ok) throw new Error('HTTP ' + response.status);
      var text = await response.text();
      var data;
      try {
        data = JSON.parse(text);
      } catch (e) {
        throw new Error('not JSON');
      }
      if (!looksValid(data)) throw new Error('no citedby count');
      return data;
    })();
    try {
      return await Promise.race([work, timer.promise]);
    } finally {
      timer.cancel();
    }
  }

  async function load(urls, ms) {
    var errors = [];
    for (var i = 0; i < urls.length; i++) {
      try {
        var data = await fetchData(urls[i], ms);
        return { url: urls[i], data: data, errors: errors };
      } catch (e) {
        errors.push(urls[i] + ': ' + ((e && e.message) || String(e)));
      }
    }
    return { url: null, data: null, errors: errors };
  }

  function domReady() {
    return new Promise(function (resolve) {
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', function () { resolve(); }, { once: true });
      } else {
        resolve();
      }
    });
  }

  function sourceNote(data) {
    var source = data.source;
    if (source === undefined || source === null || SCHOLAR_SOURCES.indexOf(source) !== -1) return null;
    var note = 'Counted by ' + String(source) + ', not by Google Scholar';
    if (typeof data.updated === 'string') note += ' (updated ' + data.updated + ')';
    return note;
  }

  function render(element, value, fallbackFormat, note) {
    var format = element.getAttribute('data-format');
    if (format === null) format = fallbackFormat;
    element.textContent = format.split('{n}').join(String(value));
    if (note !== null) element.setAttribute('title', note);
  }

  function valueOf(key, data) {
    if (key === 'updated') {
      if (typeof data.updated !== 'string' || data.updated === '') return null;
      /* "2026-11-23T19:35:50Z" (ours) and "2026-11-23 19:35:50.123456" (AcadHomepage's) read better
       * as a date; anything else is shown as the text it is. */
      var match = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]/.exec(data.updated);
      return match ? match[1] : data.updated;
    }
    if (key === 'publications') {
      return isObject(data.publications) ? Object.keys(data.publications).length : null;
    }
    if (Object.prototype.hasOwnProperty.call(FIELDS, key)) return asCount(data[FIELDS[key]]);
    return null;
  }

  function paperCount(ids, publications) {
    var total = 0;
    var known = 0;
    var unknown = [];
    for (var i = 0; i < ids.length; i++) {
      var pub = Object.prototype.hasOwnProperty.call(publications, ids[i]) ? publications[ids[i]] : null;
      var n = isObject(pub) ? asCount(pub.num_citations) : null;
      if (n === null) {
        unknown.push(ids[i]);
      } else {
        total += n;
        known += 1;
      }
    }
    return { total: known > 0 ? total : null, unknown: unknown };
  }

  function fill(data) {
    var note = sourceNote(data);
    var filled = 0;
    /* An element can match twice (id="h_index" and data-scholar-stats); fill it once. */
    var seen = [];

    function each(elements, update) {
      for (var i = 0; i < elements.length; i++) {
        try {
          if (seen.indexOf(elements[i]) !== -1) continue;
          seen.push(elements[i]);
          if (update(elements[i])) filled += 1;
        } catch (e) {
          warn('could not fill an element: ' + ((e && e.message) || e));
        }
      }
    }

    var byKey = function (key) {
      return function (element) {
        var value = valueOf(key, data);
        if (value === null) return false;
        render(element, value, '{n}', note);
        return true;
      };
    };

    Object.keys(IDS).forEach(function (id) {
      var element = document.getElementById(id);
      each(element ? [element] : [], byKey(IDS[id]));
    });
    each(document.querySelectorAll('[data-scholar-stats]'), function (element) {
      return byKey(element.getAttribute('data-scholar-stats'))(element);
    });

    var publications = isObject(data.publications) ? data.publications : {};
    var unknown = [];
    each(document.getElementsByClassName('show_paper_citations'), function (element) {
      var ids = (element.getAttribute('data') || '').split(',')
        .map(function (id) { return id.trim(); })
        .filter(function (id) { return id !== ''; });
      if (ids.length === 0) return false;
      var count = paperCount(ids, publications);
      for (var i = 0; i < count.unknown.length; i++) {
        if (unknown.indexOf(count.unknown[i]) === -1) unknown.push(count.unknown[i]);
      }
      if (count.total === null) return false;
      render(element, count.total, PAPER_FORMAT, note);
      return true;
    });
    /* One warning for the whole page, however many elements name unknown papers. */
    if (unknown.length > 0) warn('unknown paper ID' + (unknown.length > 1 ? 's ' : ' ') + unknown.join(', '));
    return filled;
  }

  async function main() {
    var result = { url: null, filled: 0, errors: [] };
    try {
      var urls = Array.isArray(config && config.urls) ? config.urls : [];
      var ms = asCount(config && config.timeoutMs) || 5000;
      var loaded = await load(urls, ms);
      result.url = loaded.url;
      result.errors = loaded.errors;
      await domReady();
      if (loaded.data === null) {
        warn('no citation data could be loaded: ' + loaded.errors.join('; '));
        return result;
      }
      result.filled = fill(loaded.data);
    } catch (e) {
      result.errors.push(String((e && e.message) || e));
    }
    return result;
  }

  var done = main();
  try {
    window.scholarStats = done;
  } catch (e) { /* a frozen window is fine */ }
})(/*scholar-stats:config*/{ "urls": [], "timeoutMs": 5000 }/*end*/);
