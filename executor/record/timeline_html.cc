// executor/record/timeline_html.cc: Recorder::html_timeline, a page with
// inline CSS and JS (no network) that draws the Chrome trace the recorder
// exports: a row per thread and per task, polls as bars (green Ready, blue
// Pending, red threw), wakes and spawns as ticks, flow arrows from each wake
// to the poll it caused, and the lints (then the notes). The page renders itself on load; a
// test reads the DOM that headless Chromium built (tests/record/).

#include <string>

#include "absl/strings/str_replace.h"
#include "executor/record/recorder.h"

namespace pollwake::record {
namespace {

constexpr const char* kHead = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px}
#summary{color:#555;margin:0 0 8px}
#lints li.lint{color:#a40000}
#lints li.clean{color:#2a7a2a}
#lints li.note{color:#666}
#timeline{position:relative;border-top:1px solid #ccc}
.track{display:flex;border-bottom:1px solid #eee;height:22px}
.track.thread .label{background:#f3f3f8}
.label{width:260px;flex:none;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding:2px 6px;font-family:monospace;font-size:11px}
.lane{position:relative;flex:1}
.ev{position:absolute;top:4px;height:14px;min-width:2px;border-radius:2px}
.ev.poll.Pending{background:#4a7fd4}.ev.poll.Ready{background:#3aa655}.ev.poll.threw{background:#c0392b}
.ev.wake{background:#e67e22;top:2px;height:18px;width:2px}
.ev.spawn{background:#8e44ad;top:2px;height:18px;width:2px}
.ev.park{background:#ddd;top:8px;height:6px}
.ev.mark{background:#555;top:6px;height:10px;width:2px}
#flows{position:absolute;left:0;top:0;pointer-events:none}
#flows line{stroke:#e67e22;stroke-width:1;marker-end:url(#arrow)}
.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>@TITLE@</h1>
<p id="summary">rendering...</p>
<p class="legend"><span><i style="background:#3aa655"></i>poll &rarr; Ready</span><span><i style="background:#4a7fd4"></i>poll &rarr; Pending</span><span><i style="background:#e67e22"></i>wake (arrow: to the poll it caused)</span><span><i style="background:#8e44ad"></i>spawn</span><span><i style="background:#ddd"></i>parked</span></p>
<ul id="lints"></ul>
<div id="timeline"></div>
<script id="trace-data" type="application/json">
)HTML";

constexpr const char* kTail = R"HTML(
</script>
<script>
(function () {
  var trace = JSON.parse(document.getElementById('trace-data').textContent);
  var evs = trace.traceEvents;
  var tracks = [], byKey = {};
  function key(pid, tid) { return pid + ':' + tid; }
  evs.forEach(function (e) {
    if (e.ph === 'M' && e.name === 'thread_name') {
      var t = {key: key(e.pid, e.tid), name: e.args.name, pid: e.pid, tid: e.tid, evs: []};
      byKey[t.key] = t; tracks.push(t);
    }
  });
  tracks.sort(function (a, b) { return a.pid - b.pid || a.tid - b.tid; });
  var t0 = Infinity, t1 = -Infinity;
  evs.forEach(function (e) {
    if (e.ph === 'M') return;
    t0 = Math.min(t0, e.ts); t1 = Math.max(t1, e.ts + (e.dur || 0));
  });
  if (!(t1 > t0)) { t0 = 0; t1 = 1; }
  var span = t1 - t0;
  function pct(ts) { return ((ts - t0) / span * 100).toFixed(4) + '%'; }
  var tl = document.getElementById('timeline');
  tracks.forEach(function (t, i) {
    t.row = i;
    var div = document.createElement('div');
    div.className = 'track ' + (t.pid === 1 ? 'thread' : 'task');
    div.dataset.track = t.name;
    var label = document.createElement('div');
    label.className = 'label'; label.textContent = t.name; label.title = t.name;
    var lane = document.createElement('div'); lane.className = 'lane';
    div.appendChild(label); div.appendChild(lane); tl.appendChild(div);
    t.lane = lane;
  });
  var polls = 0, wakes = 0, flows = {}, nflows = 0;
  evs.forEach(function (e) {
    var t = byKey[key(e.pid, e.tid)];
    if (e.ph === 's' || e.ph === 'f') {
      (flows[e.id] = flows[e.id] || {})[e.ph] = {ts: e.ts, track: t};
      return;
    }
    if (!t || e.ph === 'M') return;
    var d = document.createElement('div');
    var cls = 'mark';
    if (e.ph === 'X') {
      cls = e.cat === 'poll' ? 'poll ' + e.args.result : e.cat;
      d.style.width = 'calc(' + (e.dur / span * 100).toFixed(4) + '% + 0px)';
    }
    if (e.cat === 'poll' && t.pid === 2) polls++;
    if (e.cat === 'wake') wakes++;
    d.className = 'ev ' + cls;
    d.style.left = pct(e.ts);
    d.title = e.name + ' @ ' + e.ts.toFixed(3) + ' us' + (e.dur !== undefined ? ' for ' + e.dur.toFixed(3) + ' us' : '') +
      (e.args ? ' ' + JSON.stringify(e.args) : '');
    t.lane.appendChild(d);
  });
  var svgNS = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(svgNS, 'svg');
  svg.id = 'flows';
  var rowH = 23, labelW = 260 + 12;
  svg.setAttribute('width', tl.clientWidth || 1000);
  svg.setAttribute('height', tracks.length * rowH);
  svg.innerHTML = '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L6,3L0,6z" fill="#e67e22"/></marker></defs>';
  var laneW = Math.max((tl.clientWidth || 1000) - labelW, 100);
  Object.keys(flows).forEach(function (id) {
    var f = flows[id];
    if (!f.s || !f.f || !f.s.track || !f.f.track) return;
    var line = document.createElementNS(svgNS, 'line');
    line.setAttribute('class', 'flow');
    line.setAttribute('x1', labelW + (f.s.ts - t0) / span * laneW);
    line.setAttribute('y1', f.s.track.row * rowH + 11);
    line.setAttribute('x2', labelW + (f.f.ts - t0) / span * laneW);
    line.setAttribute('y2', f.f.track.row * rowH + 11);
    svg.appendChild(line); nflows++;
  });
  tl.appendChild(svg);
  var lints = (trace.otherData && trace.otherData.lints) || [];
  var ul = document.getElementById('lints');
  if (lints.length === 0) {
    var li = document.createElement('li'); li.className = 'clean'; li.textContent = 'no lints'; ul.appendChild(li);
  }
  lints.forEach(function (l) {
    var li = document.createElement('li'); li.className = 'lint'; li.dataset.kind = l.kind;
    li.textContent = l.kind + ': ' + l.message; ul.appendChild(li);
  });
  var notes = (trace.otherData && trace.otherData.notes) || [];
  notes.forEach(function (l) {
    var li = document.createElement('li'); li.className = 'note'; li.dataset.kind = l.kind;
    li.textContent = 'note: ' + l.kind + ': ' + l.message; ul.appendChild(li);
  });
  var s = document.getElementById('summary');
  s.dataset.tracks = tracks.length; s.dataset.polls = polls; s.dataset.wakes = wakes; s.dataset.flows = nflows;
  s.textContent = tracks.length + ' tracks, ' + polls + ' polls, ' + wakes + ' wakes, ' + nflows +
    ' wake-to-poll arrows, over ' + span.toFixed(3) + ' us';
  document.body.dataset.rendered = 'yes';
})();
</script>
</body></html>
)HTML";

std::string html_escape(std::string_view s) {
  return absl::StrReplaceAll(absl::string_view(s.data(), s.size()), {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

}  // namespace

std::string Recorder::html_timeline(std::string_view title) const {
  // Inside <script>, "</" could close the element early: JSON allows "\/".
  std::string json = absl::StrReplaceAll(chrome_trace_json(), {{"</", "<\\/"}});
  std::string head = absl::StrReplaceAll(kHead, {{"@TITLE@", html_escape(title)}});
  return head + json + kTail;
}

}  // namespace pollwake::record
