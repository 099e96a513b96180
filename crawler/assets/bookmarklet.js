/* scholar-stats bookmarklet: on your own Google Scholar profile page, click "Show more"
 * until the list is complete, then save the page for `scholar-stats import-html`.
 * Runs in your browser, with your session: nothing is sent anywhere.
 */
(function () {
  'use strict';
  var MAX_CLICKS = 200;
  var WAIT_MS = 30000;
  var rows = function () { return document.querySelectorAll('#gsc_a_b .gsc_a_tr').length; };
  var button = document.getElementById('gsc_bpf_more');
  if (!document.getElementById('gsc_prf_in') || !document.getElementById('gsc_a_b')) {
    alert('scholar-stats: this is not a Google Scholar profile page. Open your profile (scholar.google.com/citations?user=...) and click the bookmark again.');
    return;
  }
  var done = function () { return !button || button.disabled || button.hasAttribute('disabled'); };
  var user = (/[?&]user=([A-Za-z0-9_-]{12})/.exec(location.search) || [])[1] ||
    (/[?&]user=([A-Za-z0-9_-]{12})/.exec(document.documentElement.innerHTML) || [])[1] || 'profile';

  function save() {
    var stamp = new Date().toISOString().slice(0, 10);
    var html = '<!DOCTYPE html>\n<!-- saved from url=' + location.href.replace(/--/g, '%2D%2D') + ' by the scholar-stats bookmarklet on ' +
      new Date().toISOString() + ' -->\n' + document.documentElement.outerHTML;
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
    link.download = 'scholar-' + user + '-' + stamp + '.html';
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  }

  var clicks = 0;
  function step() {
    if (done()) {
      save();
      return;
    }
    if (clicks >= MAX_CLICKS) {
      alert('scholar-stats: "Show more" is still enabled after ' + clicks + ' clicks; the page was not saved.');
      return;
    }
    var before = rows();
    var waited = 0;
    clicks += 1;
    button.click();
    // Scholar may disable the button while its request is out: only new rows
    // say the click was answered, and then the button's state is final.
    (function wait() {
      if (rows() > before) {
        step();
      } else if (waited >= WAIT_MS) {
        // An incomplete list is never saved: a snapshot must hold every publication.
        alert('scholar-stats: Google Scholar stopped answering after ' + before + ' rows; the page was not saved. Try again later.');
      } else {
        waited += 250;
        setTimeout(wait, 250);
      }
    })();
  }
  step();
})();
