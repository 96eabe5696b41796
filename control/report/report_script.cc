#include "control/report/report_script.h"

namespace faultline {

const char* const kReportStyle = R"css(
body { font-family: sans-serif; margin: 1em 2em; background: #fff; color: #222; }
.chart-box { position: relative; height: 320px; margin-bottom: 2em; }
table { border-collapse: collapse; margin-bottom: 2em; }
td, th { border: 1px solid #bbb; padding: 2px 8px; text-align: left; }
td.number { text-align: right; }
tr.differs td { background: #fdd; }
)css";

const char* const kReportBody = R"html(
<p>Times are seconds from the start of the series. Shaded bands on the rate and residence charts
are partitions, stalls and link-down periods; the timeline lists every fault and control event.</p>
<h2>Summary</h2>
<table id="summary"></table>
<table id="rule-percentiles"></table>
<ul id="notes"></ul>
<div id="series-charts">
<h2>Frames per second</h2>
<div class="chart-box"><canvas id="chart-frames" class="chart"></canvas></div>
<h2>Residence time per interval (log axis)</h2>
<div class="chart-box"><canvas id="chart-residence" class="chart"></canvas></div>
<h2>Fault timeline</h2>
<div class="chart-box"><canvas id="chart-timeline" class="chart"></canvas></div>
</div>
<h2>Delay CDF: measured residence against the configured distribution</h2>
<p id="cdf-source"></p>
<div class="chart-box"><canvas id="chart-cdf" class="chart"></canvas></div>
<div id="record-part">
<h2>Frame record: every frame's fate per rule and direction</h2>
<table id="record-counts"></table>
<table id="record-percentiles"></table>
<h2>Frame record against the series (whole run)</h2>
<table id="record-comparison"></table>
<h2>Drops per second by cause, from the frame record</h2>
<div class="chart-box"><canvas id="chart-record-drops" class="chart"></canvas></div>
</div>
)html";

const char* const kReportScript = R"js(
'use strict';
const data = JSON.parse(document.getElementById('series-data').textContent);
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
                 '#7f7f7f', '#bcbd22', '#17becf'];
const colour = (i) => palette[i % palette.length];
const end = data.t.length ? data.t[data.t.length - 1] : 1;
const bands = data.events.filter((e) => e.until !== null);

// Pixels of a canvas in a colour (not white, grey or black: the axes and grid are grey).
function colouredPixels(canvas) {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
    if (pixels[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) ++count;
  }
  return count;
}
// Marks each chart Chart.js drew, with how many coloured pixels it painted, and counts them: for
// the rendering test (tests/report_render_test.py) and anyone scripting the page.
let rendered = 0;
Chart.register({
  id: 'faultlineRendered',
  afterRender(chart) {
    if (chart.canvas.dataset.rendered === '1') return;
    chart.canvas.dataset.rendered = '1';
    chart.canvas.dataset.colouredPixels = String(colouredPixels(chart.canvas));
    document.body.dataset.chartsRendered = String(++rendered);
  },
});
// Partitions, stalls and link-down periods shaded behind the time charts.
const bandPlugin = {
  id: 'faultlineBands',
  beforeDatasetsDraw(chart) {
    const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
    ctx.save();
    bands.forEach((band) => {
      const left = Math.max(x.getPixelForValue(band.t), area.left);
      const right = Math.min(x.getPixelForValue(band.until), area.right);
      if (right <= left) return;
      ctx.fillStyle = band.kind === 'stall' ? 'rgba(255,165,0,0.18)' : 'rgba(214,39,40,0.12)';
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
    });
    ctx.restore();
  },
};
const timeAxis = {type: 'linear', min: 0, max: end, title: {display: true, text: 'seconds'}};
const points = (values) => data.t.map((t, i) => ({x: t, y: values[i]}));
const line = (label, values, i) => ({label, data: points(values), borderColor: colour(i),
  backgroundColor: colour(i), pointRadius: 0, borderWidth: 2, spanGaps: false});
const base = {animation: false, responsive: true, maintainAspectRatio: false, parsing: true};

function framesChart() {
  const sets = [line('delivered', data.delivered, 0)];
  Object.keys(data.dropped).forEach((cause, i) =>
    sets.push(line('dropped: ' + cause, data.dropped[cause], i + 1)));
  new Chart(document.getElementById('chart-frames'), {type: 'line', data: {datasets: sets},
    options: {...base, scales: {x: timeAxis, y: {title: {display: true, text: 'frames/s'}}}},
    plugins: [bandPlugin]});
}

function residenceChart() {
  const r = data.residence;
  const sets = [line('p50', r.p50, 2), line('p99', r.p99, 3), line('p99.9', r.p999, 1)];
  new Chart(document.getElementById('chart-residence'), {type: 'line', data: {datasets: sets},
    options: {...base, scales: {x: timeAxis,
      y: {type: 'logarithmic', title: {display: true, text: 'residence (us)'}}}},
    plugins: [bandPlugin]});
}

function timelineChart() {
  const kinds = [...new Set(data.events.map((e) => e.kind))];
  const minimum = end / 200;  // a point event drawn as a thin bar
  const bars = data.events.map((e) => ({x: [e.t, e.until !== null ? e.until : e.t + minimum],
    y: e.kind, detail: e.detail}));
  new Chart(document.getElementById('chart-timeline'), {type: 'bar',
    data: {labels: kinds, datasets: [{label: 'events', data: bars,
      backgroundColor: bars.map((b) => colour(kinds.indexOf(b.y))), minBarLength: 2}]},
    options: {...base, indexAxis: 'y', scales: {x: timeAxis},
      plugins: {legend: {display: false}, tooltip: {callbacks: {
        label: (item) => item.raw.y + ': ' + item.raw.detail}}}}});
}

// With a record, each rule's measured CDF is the record's (exact per frame), else the series'
// histogram's; the caption says which.
function cdfChart() {
  const sets = [];
  const fromRecord = data.record !== null;
  document.getElementById('cdf-source').textContent = fromRecord
    ? 'Measured: each delivered frame\'s departure - arrival from the frame record (exact to ' +
      '0.05%, every frame). Dashed: the configured distribution.'
    : 'Measured: the series\' whole-run residence histogram (bucket low bounds). Dashed: the ' +
      'configured distribution.';
  const label = fromRecord ? ' measured (record)' : ' measured (series histogram)';
  (fromRecord ? data.record.cdfs : data.cdfs).forEach((rule, i) => {
    sets.push({label: rule.rule + label, data: rule.measured.map(([x, y]) => ({x, y})),
      borderColor: colour(i), backgroundColor: colour(i), pointRadius: 0, stepped: true});
    if (rule.configured !== null) {
      sets.push({label: rule.rule + ' configured',
        data: rule.configured.map(([x, y]) => ({x, y})), borderColor: colour(i),
        backgroundColor: colour(i), borderDash: [6, 4], pointRadius: 0});
    }
  });
  new Chart(document.getElementById('chart-cdf'), {type: 'line', data: {datasets: sets},
    options: {...base, scales: {x: {type: 'linear', title: {display: true, text: 'delay (ms)'}},
      y: {min: 0, max: 1, title: {display: true, text: 'fraction of frames'}}}}});
}

function fillTable(id, header, rows) {
  const table = document.getElementById(id);
  const add = (cells, tag) => {
    const tr = table.insertRow();
    cells.forEach((cell) => {
      const td = document.createElement(tag);
      td.textContent = String(cell);
      if (typeof cell === 'number') td.className = 'number';
      tr.appendChild(td);
    });
  };
  add(header, 'th');
  rows.forEach((row) => add(row, 'td'));
}

const droppedText = (d) => Object.keys(d).map((c) => c + ' ' + d[c]).join(', ') || '0';

function recordTables() {
  const r = data.record;
  const causes = [...new Set(r.rows.flatMap((row) => Object.keys(row.dropped)))].sort();
  fillTable('record-counts', ['rule', 'direction', 'frames in', 'delivered', 'duplicate copies',
    'partition answers'].concat(causes.map((c) => 'dropped: ' + c)),
  r.rows.map((row) => [row.rule, row.direction, row.in, row.delivered, row.duplicates,
    row.answers].concat(causes.map((c) => row.dropped[c] || 0))));
  fillTable('record-percentiles', ['rule', 'delivered frames', 'p50 (us)', 'p99 (us)',
    'p99.9 (us)', 'max (us)'], r.cdfs.map((c) => [c.rule, c.count, c.p50_ns / 1e3,
    c.p99_ns / 1e3, c.p999_ns / 1e3, c.max_ns / 1e3]));
  if (r.comparison === null) return;
  fillTable('record-comparison', ['rule', 'record: in', 'series: matched', 'record: delivered',
    'series: forwarded', 'record: dropped', 'series: dropped', 'agree'],
  r.comparison.map((c) => [c.rule, c.record.in, c.series ? (c.series.matched ?? '') : 'not in series',
    c.record.delivered, c.series ? c.series.forwarded : '', droppedText(c.record.dropped),
    c.series ? droppedText(c.series.dropped) : '', c.agree ? 'yes' : 'DIFFERS']));
  const rows = document.getElementById('record-comparison').rows;
  r.comparison.forEach((c, i) => { if (!c.agree) rows[i + 1].className = 'differs'; });
}

function recordDropsChart() {
  const d = data.record.drops;
  // A bin's rate holds over the second(s) ending at its t: steps drawn before each point, from
  // the first bin's start.
  const pts = (values) => (d.t.length ? [{x: d.t[0] - d.bin_s, y: 0}] : []).concat(
    d.t.map((t, i) => ({x: t, y: values[i]})));
  const sets = Object.keys(d.causes).map((cause, i) => ({label: 'dropped: ' + cause,
    data: pts(d.causes[cause]), borderColor: colour(i + 1), backgroundColor: colour(i + 1),
    pointRadius: 0, borderWidth: 2, stepped: 'before'}));
  const last = d.t.length ? d.t[d.t.length - 1] : 1;
  const axis = data.has_series ? timeAxis : {...timeAxis, max: last};
  new Chart(document.getElementById('chart-record-drops'), {type: 'line', data: {datasets: sets},
    options: {...base, scales: {x: axis, y: {title: {display: true,
      text: 'frames/s (' + d.bin_s + ' s bins)'}}}}, plugins: [bandPlugin]});
}

fillTable('summary', ['', 'value'], data.summary);
fillTable('rule-percentiles', ['rule', 'frames', 'p50 (us)', 'p99 (us)', 'p99.9 (us)'],
  data.cdfs.map((r) => [r.rule, r.count, r.p50_us, r.p99_us, r.p999_us]));
data.notes.forEach((note) => {
  const li = document.createElement('li');
  li.textContent = note;
  document.getElementById('notes').appendChild(li);
});
if (data.has_series) {
  framesChart();
  residenceChart();
  timelineChart();
} else {
  document.getElementById('series-charts').style.display = 'none';
}
cdfChart();
if (data.record !== null) {
  recordTables();
  recordDropsChart();
} else {
  document.getElementById('record-part').style.display = 'none';
}
)js";

}  // namespace faultline
