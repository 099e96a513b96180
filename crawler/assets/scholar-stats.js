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

  function dateOf(text) {
    var match = typeof text === 'string' ? /^([0-9]{4}-[0-9]{2}-[0-9]{2})/.exec(text) : null;
    return match ? match[1] : null;
  }

  /* How the numbers are to be read, for a tooltip: an estimate, numbers kept while
   * Scholar is unreachable, or another source's count. */
  function sourceNote(data) {
    var source = data.source;
    var estimate = isObject(data.estimate) ? data.estimate : null;
    if (data.estimated === true) {
      var basis = estimate && typeof estimate.source === 'string' ? estimate.source : 'another source';
      var note = 'Estimate: Google Scholar\'s numbers';
      if (dateOf(data.updated)) note += ' of ' + dateOf(data.updated);
      note += ' plus the growth ' + basis + ' counted';
      if (estimate && dateOf(estimate.since)) note += ' since ' + dateOf(estimate.since);
      if (estimate && asCount(estimate.papers_matched) !== null && asCount(estimate.papers) !== null) {
        note += ' (' + estimate.papers_matched + ' of ' + estimate.papers + ' papers matched)';
      }
      return note;
    }
    if (dateOf(data.stale_since)) {
      var kept = (source === undefined || source === null || SCHOLAR_SOURCES.indexOf(source) !== -1)
        ? 'Google Scholar\'s numbers' : 'Numbers counted by ' + String(source);
      if (dateOf(data.updated)) kept += ' as of ' + dateOf(data.updated);
      return kept + ' (Google Scholar unreachable since ' + dateOf(data.stale_since) + ')';
    }
    if (source === undefined || source === null || SCHOLAR_SOURCES.indexOf(source) !== -1) return null;
    var counted = 'Counted by ' + String(source) + ', not by Google Scholar';
    if (typeof data.updated === 'string') counted += ' (updated ' + data.updated + ')';
    return counted;
  }

  /* An estimate reads "≈ 431" wherever it appears. */
  function render(element, value, fallbackFormat, note, approximate) {
    var format = element.getAttribute('data-format');
    if (format === null) format = fallbackFormat;
    var shown = (approximate ? '\u2248 ' : '') + String(value);
    element.textContent = format.split('{n}').join(shown);
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
    var approximate = data.estimated === true;
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
        render(element, value, '{n}', note, approximate && key !== 'updated' && key !== 'since_year' && key !== 'publications');
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
      render(element, count.total, PAPER_FORMAT, note, approximate);
      return true;
    });
    /* One warning for the whole page, however many elements name unknown papers. */
    if (unknown.length > 0) warn('unknown paper ID' + (unknown.length > 1 ? 's ' : ' ') + unknown.join(', '));
    return filled;
  }

  /* Charts: <div class="scholar_stats_chart" data-author="ID"> gets a small labelled SVG chart of citations
   * over time from gs_history.json; data-paper="ID:PUBID" one paper's; data-chart="years" the citations per
   * year as bars (Scholar's histogram, from gs_data.json). Built with createElementNS and textContent only;
   * an element whose data cannot be read is left exactly as it was.
   * The files are looked for beside the gs_data.json that answered (no time lost on a URL that failed),
   * each one fetched once per page, all at once. */
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var HISTORY_FILE = 'gs_history.json';
  var DATA_FILE = 'gs_data.json';
  var ID_PATTERN = /^[A-Za-z0-9_-]{12}$/;
  var DAY_MS = 86400000;
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var KINDS = ['citations', 'years'];
  var HEIGHT = 120;
  var MAX_WIDTH = 480;
  var FONT = 11;

  /* The folder of an author's files, from a gs_data.json URL and the author that file belongs to:
   * that folder for its own author, <ID>/ beside it (or beside its own <ID>/ folder) for the others. */
  function authorFolder(url, owner, author) {
    var cut = url.lastIndexOf('/');
    if (cut < 0 || url.slice(cut + 1).split('?')[0] !== DATA_FILE) return null;
    var folder = url.slice(0, cut + 1);
    if (owner === author) return folder;
    var own = typeof owner === 'string' && ID_PATTERN.test(owner) ? owner + '/' : null;
    var parent = own !== null && folder.slice(-own.length) === own ? folder.slice(0, -own.length) : folder;
    return parent + author + '/';
  }

  /* Every place a file of the author may be, the answered URL's first: the others are only asked
   * when that one fails. */
  function fileUrls(loaded, urls, author, file) {
    var out = [];
    function add(url) {
      if (url !== null && out.indexOf(url) === -1) out.push(url);
    }
    if (loaded.url !== null) {
      var owner = isObject(loaded.data) ? loaded.data.scholar_id : null;
      var folder = authorFolder(String(loaded.url), owner, author);
      add(folder === null ? null : folder + file);
    }
    for (var i = 0; i < urls.length; i++) {
      var url = String(urls[i]);
      var cut = url.lastIndexOf('/');
      if (cut < 0 || url.slice(cut + 1).split('?')[0] !== DATA_FILE) continue;
      var here = url.slice(0, cut + 1);
      add(here + file);
      add(here.replace(/[A-Za-z0-9_-]{12}\/$/, '') + author + '/' + file);
    }
    return out;
  }

  async function fetchJson(url, ms) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = timeoutAfter(ms, controller);
    var work = (async function () {
      var init = { credentials: 'omit', redirect: 'follow' };
      if (controller) init.signal = controller.signal;
      var response = await fetch(url, init);
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return JSON.parse(await response.text());
    })();
    try {
      return await Promise.race([work, timer.promise]);
    } finally {
      timer.cancel();
    }
  }

  function isHistoryOf(data, author) {
    return isObject(data) && data.format === 1 && data.scholar_id === author && typeof data.start === 'string';
  }

  function isDataOf(data, author) {
    return looksValid(data) && data.scholar_id === author;
  }

  /* One fetch per URL per page, whoever asks. */
  function makeFetcher(ms) {
    var started = {};
    return function (url) {
      if (!Object.prototype.hasOwnProperty.call(started, url)) started[url] = fetchJson(url, ms);
      return started[url];
    };
  }

  async function firstGood(candidates, get, check) {
    for (var i = 0; i < candidates.length; i++) {
      try {
        var data = await get(candidates[i]);
        if (check(data)) return data;
      } catch (e) { /* the next URL */ }
    }
    return null;
  }

  function svgNode(name, attributes) {
    var node = document.createElementNS(SVG_NS, name);
    for (var key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key)) node.setAttribute(key, String(attributes[key]));
    }
    return node;
  }

  function svgText(parent, text, attributes) {
    var node = svgNode('text', attributes);
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function dayOf(text) {
    var date = dateOf(text);
    var t = date === null ? NaN : Date.parse(date + 'T00:00:00Z');
    return isNaN(t) ? null : Math.floor(t / DAY_MS);
  }

  function isoDay(day) {
    return new Date(day * DAY_MS).toISOString().slice(0, 10);
  }

  /* "5 Dec 2026": the same in every browser, whatever its locale. */
  function shortDay(day) {
    var d = new Date(day * DAY_MS);
    return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear();
  }

  function grouped(n) {
    return String(n).replace(/\B(?=([0-9]{3})+(?![0-9]))/g, ',');
  }

  /* The top of the scale: the smallest 1, 2, 2.5 or 5 times a power of ten at or above the highest value,
   * so the gridlines carry round numbers. The scale always starts at zero. */
  function niceTop(high) {
    if (high <= 1) return 1;
    var power = Math.pow(10, Math.floor(Math.log(high) / Math.LN10));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= high) return steps[i] * power;
    }
    return 10 * power;
  }

  function textWidth(text, size) {
    return text.length * size * 0.6;
  }

  function chartSize(element) {
    var asked = asCount(element.getAttribute('data-max-width'));
    var widest = asked !== null && asked >= 100 ? asked : MAX_WIDTH;
    var width = element.clientWidth || 0;
    if (width <= 0) width = 300;
    var height = asCount(element.getAttribute('data-height'));
    if (height === null || height < 80 || height > 600) height = HEIGHT;
    return { width: Math.max(120, Math.min(width, widest)), height: height };
  }

  function newSvg(size, words, kind) {
    var svg = svgNode('svg', {
      width: size.width, height: size.height, viewBox: '0 0 ' + size.width + ' ' + size.height,
      role: 'img', tabindex: 0, focusable: 'true', 'font-size': FONT, 'font-family': 'inherit',
      fill: 'currentColor', class: 'scholar_stats_chart_svg scholar_stats_chart_' + kind,
      style: 'display:block;max-width:100%;overflow:visible'
    });
    svg.setAttribute('aria-label', words);
    var title = svgNode('title', {});
    title.textContent = words;
    svg.appendChild(title);
    return svg;
  }

  /* Gridlines at zero, half and the top, labelled at the left; returns where the plot starts. */
  function drawScale(svg, size, top, box) {
    var ticks = top % 2 === 0 || top > 2 ? [0, top / 2, top] : [0, top];
    var left = 0;
    for (var i = 0; i < ticks.length; i++) left = Math.max(left, textWidth(grouped(ticks[i]), FONT));
    box.left = Math.ceil(left) + 6;
    function y(value) { return box.top + (1 - value / top) * (size.height - box.top - box.bottom); }
    for (var k = 0; k < ticks.length; k++) {
      var at = y(ticks[k]);
      svg.appendChild(svgNode('line', {
        x1: box.left, x2: size.width - box.right, y1: at.toFixed(1), y2: at.toFixed(1),
        stroke: 'currentColor', 'stroke-opacity': ticks[k] === 0 ? 0.6 : 0.18, 'stroke-width': 1,
        class: ticks[k] === 0 ? 'scholar_stats_chart_zero' : 'scholar_stats_chart_grid'
      }));
      svgText(svg, grouped(ticks[k]), {
        x: box.left - 5, y: (at + FONT * 0.35).toFixed(1), 'text-anchor': 'end', class: 'scholar_stats_chart_tick'
      });
    }
    return y;
  }

  /* A line of citations over time: zero at the bottom, the first date at the left, today at the right,
   * the newest count at the end of the line. When Google Scholar has not answered since some day, the
   * time since then is shaded and the line dashed there: the count is the last one known, not a new one. */
  function drawLine(element, spec) {
    var size = chartSize(element);
    var points = spec.points;
    var first = points[0];
    var last = points[points.length - 1];
    var end = Math.max(spec.today, last[0], spec.checked);
    if (end === first[0]) end = first[0] + 1;
    var high = 0;
    for (var i = 0; i < points.length; i++) high = Math.max(high, points[i][1]);
    var top = niceTop(high);
    var box = { top: 16, bottom: 18, right: 2, left: 0 };
    var staleDay = spec.stale !== null && spec.stale < end ? Math.max(spec.stale, first[0]) : null;
    var words = spec.label + ': ' + first[1] + ' citations on ' + isoDay(first[0]) + ', ' + last[1] + ' on ' + isoDay(last[0]);
    if (staleDay !== null) words += '; Google Scholar not reached since ' + isoDay(staleDay);
    var svg = newSvg(size, words, spec.kind);
    var y = drawScale(svg, size, top, box);
    function x(day) { return box.left + (day - first[0]) / (end - first[0]) * (size.width - box.left - box.right); }
    if (staleDay !== null) {
      svg.appendChild(svgNode('rect', {
        x: x(staleDay).toFixed(1), y: box.top, width: Math.max(1, x(end) - x(staleDay)).toFixed(1),
        height: size.height - box.top - box.bottom, 'fill-opacity': 0.12, class: 'scholar_stats_chart_stale'
      }));
    }
    var solidEnd = staleDay !== null ? Math.max(staleDay, last[0]) : end;
    var d = 'M' + x(first[0]).toFixed(1) + ' ' + y(first[1]).toFixed(1);
    for (var j = 1; j < points.length; j++) {
      d += 'H' + x(points[j][0]).toFixed(1) + 'V' + y(points[j][1]).toFixed(1);
    }
    d += 'H' + x(solidEnd).toFixed(1);
    var baseline = y(0).toFixed(1);
    svg.appendChild(svgNode('path', {
      d: d + 'V' + baseline + 'H' + x(first[0]).toFixed(1) + 'Z', 'fill-opacity': 0.12, stroke: 'none',
      class: 'scholar_stats_chart_area'
    }));
    svg.appendChild(svgNode('path', {
      d: d, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linejoin': 'round',
      class: 'scholar_stats_chart_line'
    }));
    if (solidEnd < end) {
      var level = y(last[1]).toFixed(1);
      svg.appendChild(svgNode('path', {
        d: 'M' + x(solidEnd).toFixed(1) + ' ' + level + 'H' + x(end).toFixed(1), fill: 'none',
        stroke: 'currentColor', 'stroke-width': 2, 'stroke-dasharray': '4 3', class: 'scholar_stats_chart_carried'
      }));
    }
    var value = grouped(last[1]);
    var endY = y(last[1]);
    var valueY = endY - 5 >= FONT ? endY - 5 : endY + FONT + 4;
    svgText(svg, value, {
      x: size.width - box.right, y: valueY.toFixed(1),
      'text-anchor': 'end', 'font-weight': 'bold', 'font-size': FONT + 1, class: 'scholar_stats_chart_value'
    });
    var bottom = size.height - 4;
    svgText(svg, shortDay(first[0]), { x: box.left, y: bottom, class: 'scholar_stats_chart_from' });
    svgText(svg, shortDay(end), {
      x: size.width - box.right, y: bottom, 'text-anchor': 'end', class: 'scholar_stats_chart_to'
    });
    if (staleDay !== null) {
      var note = 'not updated since ' + shortDay(staleDay);
      if (shortDay(staleDay).slice(-4) === shortDay(end).slice(-4)) note = note.slice(0, -5);
      var wide = textWidth(note, FONT);
      var dates = textWidth(shortDay(first[0]), FONT) + textWidth(shortDay(end), FONT);
      var free = size.width - box.left - box.right - dates;
      /* In the shaded days if they have room, else between the two dates, else above the plot
       * (clear of the count at the line's end), else only in the words. */
      if (x(end) - x(staleDay) >= wide + 6) {
        svgText(svg, note, {
          x: (x(end) - 3).toFixed(1), y: (size.height - box.bottom - 4).toFixed(1), 'text-anchor': 'end',
          class: 'scholar_stats_chart_note'
        });
      } else if (free >= wide + 16) {
        svgText(svg, note, {
          x: (box.left + textWidth(shortDay(first[0]), FONT) + free / 2).toFixed(1), y: bottom,
          'text-anchor': 'middle', 'font-style': 'italic', class: 'scholar_stats_chart_note'
        });
      } else {
        var valueLeft = size.width - box.right - textWidth(value, FONT + 1);
        var clear = valueY - FONT - 1 > FONT || box.left + 4 + wide + 6 <= valueLeft;
        if (clear && box.left + 4 + wide <= size.width - box.right) {
          svgText(svg, note, {
            x: box.left + 4, y: FONT - 2, 'font-style': 'italic', class: 'scholar_stats_chart_note'
          });
        }
      }
    }
    return { svg: svg, drawn: String(last[1]), width: size.width };
  }

  /* Citations per year as bars, as Google Scholar's profile shows them: a year Scholar lists no
   * citations for is an empty slot, not a missing one. */
  function drawBars(element, spec) {
    var size = chartSize(element);
    var years = spec.years;
    var high = 0;
    for (var i = 0; i < years.length; i++) high = Math.max(high, years[i][1]);
    var top = niceTop(high);
    var box = { top: 16, bottom: 18, right: 2, left: 0 };
    var svg = newSvg(size, spec.label + ': ' + years.map(function (p) { return p[0] + ': ' + p[1]; }).join(', '), 'years');
    var y = drawScale(svg, size, top, box);
    var slot = (size.width - box.left - box.right) / years.length;
    var every = Math.max(1, Math.ceil(textWidth('2026', FONT) / (slot * 0.9)));
    for (var k = 0; k < years.length; k++) {
      var x = box.left + k * slot;
      var yTop = y(years[k][1]);
      var bar = svgNode('rect', {
        x: (x + slot * 0.15).toFixed(1), y: yTop.toFixed(1), width: Math.max(1, slot * 0.7).toFixed(1),
        height: Math.max(0, y(0) - yTop).toFixed(1), class: 'scholar_stats_chart_bar'
      });
      var tip = svgNode('title', {});
      tip.textContent = years[k][0] + ': ' + years[k][1] + ' citations';
      bar.appendChild(tip);
      svg.appendChild(bar);
      var lastBar = k === years.length - 1;
      if ((years.length - 1 - k) % every === 0) {
        svgText(svg, String(years[k][0]), {
          x: (x + slot / 2).toFixed(1), y: size.height - 4, 'text-anchor': 'middle', class: 'scholar_stats_chart_year'
        });
      }
      if (lastBar || slot >= textWidth(grouped(high), FONT) + 4) {
        svgText(svg, grouped(years[k][1]), {
          x: (x + slot / 2).toFixed(1), y: (yTop - 4).toFixed(1), 'text-anchor': 'middle',
          'font-weight': lastBar ? 'bold' : 'normal', class: lastBar ? 'scholar_stats_chart_value' : 'scholar_stats_chart_count'
        });
      }
    }
    return { svg: svg, drawn: String(years[years.length - 1][1]), width: size.width };
  }

  function decodeSeries(flat) {
    if (!Array.isArray(flat) || flat.length % 2 !== 0) return null;
    var points = [];
    var day = 0;
    var value = 0;
    for (var i = 0; i < flat.length; i += 2) {
      if (typeof flat[i] !== 'number' || typeof flat[i + 1] !== 'number' || !isFinite(flat[i]) || !isFinite(flat[i + 1])) return null;
      day += flat[i];
      value += flat[i + 1];
      points.push([day, value]);
    }
    return points;
  }

  /* {"2021": 5, ...} as [[2021, 5], ...] with the years Scholar leaves out (no citations) as 0. */
  function yearSeries(perYear) {
    if (!isObject(perYear)) return null;
    var found = {};
    var low = Infinity;
    var high = -Infinity;
    for (var key in perYear) {
      if (!Object.prototype.hasOwnProperty.call(perYear, key) || !/^[0-9]{4}$/.test(key)) continue;
      var n = asCount(perYear[key]);
      if (n === null) return null;
      var year = parseInt(key, 10);
      found[year] = n;
      low = Math.min(low, year);
      high = Math.max(high, year);
    }
    if (low === Infinity || high - low > 200) return null;
    var out = [];
    for (var y = low; y <= high; y++) out.push([y, Object.prototype.hasOwnProperty.call(found, y) ? found[y] : 0]);
    return out;
  }

  function chartSpec(item, files, today) {
    var data = files.data;
    var history = files.history;
    var name = isObject(data) && typeof data.name === 'string' ? data.name
      : (isObject(history) && typeof history.name === 'string' ? history.name : item.author);
    if (item.kind === 'years') {
      var years = data === null ? null : yearSeries(data.cites_per_year);
      if (years === null || years.length === 0) return null;
      return { draw: drawBars, years: years, label: 'Citations per year of ' + name };
    }
    if (history === null) return null;
    var base = dayOf(history.start);
    if (base === null) return null;
    var papers = isObject(history.papers) ? history.papers : {};
    var flat = item.paper === null ? history.citations
      : (Object.prototype.hasOwnProperty.call(papers, item.paper) ? papers[item.paper] : null);
    if (flat === null) return { unknown: item.paper };
    var points = decodeSeries(flat);
    if (points === null || points.length === 0) return null;
    for (var i = 0; i < points.length; i++) points[i][0] += base;
    var checked = points[points.length - 1][0];
    var updated = [history.updated, isObject(data) ? data.updated : null];
    for (var k = 0; k < updated.length; k++) {
      var day = dayOf(updated[k]);
      if (day !== null) checked = Math.max(checked, day);
    }
    var stale = isObject(data) ? dayOf(data.stale_since) : null;
    return {
      draw: drawLine, points: points, checked: checked, stale: stale, today: today, kind: item.paper === null ? 'citations' : 'paper',
      label: item.paper === null ? 'Citations of ' + name : 'Citations of this paper'
    };
  }

  function place(element, spec) {
    var out = spec.draw(element, spec);
    while (element.firstChild) element.removeChild(element.firstChild);
    element.appendChild(out.svg);
    element.setAttribute('data-scholar-stats-drawn', out.drawn);
    return out.width;
  }

  /* The chart follows its element's width: drawn again, at the new size, when that changes. */
  function follow(element, spec, width) {
    if (typeof ResizeObserver !== 'function') return;
    var drawnAt = width;
    new ResizeObserver(function () {
      try {
        if (chartSize(element).width === drawnAt) return;
        drawnAt = place(element, spec);
      } catch (e) {
        warn('could not draw a chart: ' + ((e && e.message) || e));
      }
    }).observe(element);
  }

  async function drawCharts(loaded, urls, ms) {
    var elements = document.getElementsByClassName('scholar_stats_chart');
    var items = [];
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      var paper = element.getAttribute('data-paper');
      var author = paper !== null ? paper.split(':')[0] : element.getAttribute('data-author');
      var kind = element.getAttribute('data-chart') || 'citations';
      if (author === null || !ID_PATTERN.test(author)) {
        warn('a scholar_stats_chart needs data-author="SCHOLAR_ID" or data-paper="SCHOLAR_ID:PAPER_ID"');
        continue;
      }
      if (KINDS.indexOf(kind) === -1 || (paper !== null && kind !== 'citations')) {
        warn('data-chart="' + kind + '" is not a chart: ' + (paper !== null ? 'a paper has only "citations"' : KINDS.join(' or ')));
        continue;
      }
      items.push({ element: element, author: author, paper: paper, kind: kind });
    }
    var get = makeFetcher(ms);
    var files = {};
    function fileOf(author, file, check) {
      var key = author + '/' + file;
      if (!Object.prototype.hasOwnProperty.call(files, key)) {
        if (file === DATA_FILE && isObject(loaded.data) && loaded.data.scholar_id === author) {
          files[key] = Promise.resolve(loaded.data);
        } else {
          files[key] = firstGood(fileUrls(loaded, urls, author, file), get, check);
        }
      }
      return files[key];
    }
    var today = Math.floor(Date.now() / DAY_MS);
    var unknown = [];
    var done = await Promise.all(items.map(async function (item) {
      try {
        var wanted = {
          data: item.kind === 'years' || (isObject(loaded.data) && loaded.data.scholar_id === item.author)
            ? fileOf(item.author, DATA_FILE, function (d) { return isDataOf(d, item.author); }) : null,
          history: item.kind === 'citations'
            ? fileOf(item.author, HISTORY_FILE, function (d) { return isHistoryOf(d, item.author); }) : null
        };
        var spec = chartSpec(item, { data: await wanted.data, history: await wanted.history }, today);
        if (spec === null) return 0;
        if (spec.unknown) {
          unknown.push(spec.unknown);
          return 0;
        }
        follow(item.element, spec, place(item.element, spec));
        return 1;
      } catch (e) {
        warn('could not draw a chart: ' + ((e && e.message) || e));
        return 0;
      }
    }));
    if (unknown.length > 0) warn('unknown paper ID ' + unknown.join(', ') + ' in gs_history.json');
    return done.reduce(function (a, b) { return a + b; }, 0);
  }

  var URLS = Array.isArray(config && config.urls) ? config.urls : [];
  var TIMEOUT_MS = asCount(config && config.timeoutMs) || 5000;
  /* Started at once, shared: the numbers and the charts wait for the same answer. */
  var loading = load(URLS, TIMEOUT_MS).catch(function (e) {
    return { url: null, data: null, errors: [String((e && e.message) || e)] };
  });

  async function main() {
    var result = { url: null, filled: 0, errors: [] };
    try {
      var loaded = await loading;
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

  async function charts() {
    try {
      await domReady();
      if (document.getElementsByClassName('scholar_stats_chart').length === 0) return 0;
      return await drawCharts(await loading, URLS, TIMEOUT_MS);
    } catch (e) {
      warn('charts: ' + ((e && e.message) || e));
      return 0;
    }
  }

  var done = Promise.all([main(), charts()]).then(function (results) {
    results[0].charts = results[1];
    return results[0];
  });
  try {
    window.scholarStats = done;
  } catch (e) { /* a frozen window is fine */ }
})(/*scholar-stats:config*/{ "urls": [], "timeoutMs": 5000 }/*end*/);
