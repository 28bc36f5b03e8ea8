#pragma once
// The page `vibesim report` fills in (outputs/html_report.cpp): @TITLE@, the
// Chart.js bundle @CHARTJS@ and the report data @DATA@. The script draws the
// charts the data's `kind` calls for and records in <body data-status> "ok",
// or the first error or empty chart — what tools/report_browser_check.sh reads.
namespace vibesim {

inline constexpr const char* kReportPage = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
.chart { width: 100%; max-width: 1100px; height: 340px; margin: 12px 0 28px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 20px; }
td, th { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.heat td { width: 14px; height: 14px; padding: 0; border: 1px solid #fff; }
.note { background: #fff4d6; padding: 8px 12px; border: 1px solid #e8c66a; }
pre { background: #f7f7f7; padding: 10px; overflow: auto; max-height: 400px; font-size: 12px; }
</style>
<script>@CHARTJS@</script>
</head><body data-status="loading">
<h1>@TITLE@</h1>
<div id="report"></div>
<script id="data" type="application/json">@DATA@</script>
<script>
(function () {
  const fail = (m) => { if (document.body.dataset.status === 'loading' || document.body.dataset.status === 'ok') document.body.dataset.status = 'error: ' + m; };
  window.onerror = (m) => fail(m);
  const consoleError = console.error;
  console.error = (...a) => { fail(a.join(' ')); consoleError(...a); };
  const D = JSON.parse(document.getElementById('data').textContent);
  const root = document.getElementById('report');
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  const el = (tag, text, parent) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; (parent || root).appendChild(e); return e; };
  const fmt = (v) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)) : String(v));
  let charts = 0;
  const chart = (title, config) => {
    el('h2', title);
    if (!window.Chart) return;
    const box = el('div'); box.className = 'chart';
    const canvas = el('canvas', undefined, box);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { tooltip: { enabled: true } } }, config.options || {});
    new Chart(canvas, config);
    const points = config.data.datasets.reduce((n, d) => n + d.data.length, 0);
    if (points === 0) fail('empty chart: ' + title);
    charts++;
  };
  const table = (title, header, rows) => {
    if (title) el('h2', title);
    const t = el('table'), tr = el('tr', undefined, t);
    header.forEach((h) => el('th', h, tr));
    rows.forEach((r) => { const row = el('tr', undefined, t); r.forEach((c) => el('td', fmt(c), row)); });
  };
  const names = (D.policies || []).map((p) => p.policy);
  const bars = (title, labels, series, yTitle) => chart(title, { type: 'bar',
    data: { labels: labels, datasets: series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: colors[i % colors.length] })) },
    options: { scales: { y: { title: { display: true, text: yTitle } } } } });

  if (!window.Chart) {
    const n = el('p', 'Charts need Chart.js, which was not installed when this report was written (Debian package libjs-chart.js; bash tools/bootstrap.sh installs it). The tables below hold the same numbers.');
    n.className = 'note';
  }

  if (D.kind === 'layers') {
    chart('Layer latency CDF', { type: 'line',
      data: { datasets: Object.keys(D.cdf).map((p, i) => ({ label: p, data: D.cdf[p], borderColor: colors[i % colors.length], pointRadius: 0, borderWidth: 2 })) },
      options: { parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'layer latency (µs)' } }, y: { min: 0, max: 1, title: { display: true, text: 'fraction of layer steps' } } } } });
    bars('Layer latency percentiles', ['P50', 'P90', 'P99'], D.policies.map((p) => ({ label: p.policy,
      data: [p.layer_latency_us.p50, p.layer_latency_us.p90, p.layer_latency_us.p99] })), 'µs');
    const gpus = D.policies[0].straggler_histogram.map((_, g) => 'GPU ' + g);
    bars('Straggler counts (layer steps each GPU finished last)', gpus, D.policies.map((p) => ({ label: p.policy, data: p.straggler_histogram })), 'layer steps');
    table('Summary', ['policy', 'P50 µs', 'P90 µs', 'P99 µs', 'barrier idle %', 'max/mean GPU tokens'],
      D.policies.map((p) => [p.policy, p.layer_latency_us.p50, p.layer_latency_us.p90, p.layer_latency_us.p99, 100 * p.barrier_idle_fraction, p.max_over_mean_gpu_tokens]));
    el('h2', 'Barrier wait per GPU and MoE layer (share of the layer step; darker = longer wait)');
    D.policies.forEach((p) => {
      if (!p.gpu_layer_idle_fraction) return;
      el('h3', p.policy);
      const t = el('table'); t.className = 'heat';
      p.gpu_layer_idle_fraction.forEach((row, g) => {
        const tr = el('tr', undefined, t); el('th', 'GPU ' + g, tr);
        row.forEach((v, l) => { const c = el('td', '', tr); c.title = 'GPU ' + g + ', layer ' + l + ': ' + (100 * v).toFixed(1) + ' %';
          c.style.background = 'rgba(225, 87, 89, ' + Math.min(1, v * 2).toFixed(3) + ')'; });
      });
    });
  } else if (D.kind === 'serving') {
    bars('TTFT percentiles', ['P50', 'P90', 'P99'], D.policies.map((p) => ({ label: p.policy, data: [p.ttft_ms.p50, p.ttft_ms.p90, p.ttft_ms.p99] })), 'ms');
    bars('TPOT percentiles', ['P50', 'P90', 'P99'], D.policies.map((p) => ({ label: p.policy, data: [p.tpot_ms.p50, p.tpot_ms.p90, p.tpot_ms.p99] })), 'ms');
    bars('SLO attainment', names, [{ label: 'both SLOs', data: D.policies.map((p) => 100 * p.slo_attainment) },
      { label: 'TTFT SLO', data: D.policies.map((p) => 100 * p.ttft_attainment) }, { label: 'TPOT SLO', data: D.policies.map((p) => 100 * p.tpot_attainment) }], '% of requests');
    const parts = ['moe_kernel', 'attention', 'other', 'all_to_all', 'all_reduce', 'barrier_wait'];
    chart('Where the time went (mean GPU)', { type: 'bar',
      data: { labels: names, datasets: parts.map((k, i) => ({ label: k, data: D.policies.map((p) => 100 * p.time_share[k]), backgroundColor: colors[i] })) },
      options: { scales: { x: { stacked: true }, y: { stacked: true, max: 100, title: { display: true, text: '% of GPU time' } } } } });
    if (D.frontier) bars('SLO frontier', D.frontier.points.map((f) => f.policy), [{ label: 'max requests/s per GPU at ' + 100 * D.frontier.target + ' % attainment', data: D.frontier.points.map((f) => f.max_requests_per_s_per_gpu) }], 'requests/s per GPU');
    table('Summary', ['policy', 'TTFT P90 ms', 'TPOT P90 ms', 'SLO attainment %', 'goodput req/s', 'barrier idle %'],
      D.policies.map((p) => [p.policy, p.ttft_ms.p90, p.tpot_ms.p90, 100 * p.slo_attainment, p.goodput_requests_per_s, 100 * p.barrier_idle_fraction]));
  } else if (D.kind === 'seeds') {
    const metrics = Object.keys(D.policies[0].metrics);
    metrics.forEach((m) => chart(m + ' (mean and 95 % interval over seeds)', { type: 'bar',
      data: { labels: names, datasets: [
        { type: 'bar', label: '95 % interval', data: D.policies.map((p) => p.metrics[m].ci95), backgroundColor: 'rgba(78, 121, 167, 0.35)' },
        { type: 'line', label: 'mean', data: D.policies.map((p) => p.metrics[m].mean), showLine: false, pointStyle: 'line', pointRadius: 18, borderWidth: 3, borderColor: '#222' }] } }));
    table('Ratios to ' + D.baseline + ' (within each seed), mean [95 % interval]', ['policy'].concat(metrics),
      D.policies.map((p) => [p.policy].concat(metrics.map((m) => { const r = p.ratio_to_baseline[m]; return r.mean.toFixed(4) + ' [' + r.ci95[0].toFixed(4) + ', ' + r.ci95[1].toFixed(4) + ']'; }))));
  } else if (D.kind === 'sweep') {
    const ok = D.points.filter((p) => Object.keys(p.policies).length > 0);
    const policies = ok.length ? Object.keys(ok[0].policies) : [];
    const metrics = policies.length ? Object.keys(ok[0].policies[policies[0]]) : [];
    metrics.forEach((m) => chart(m + ' across the sweep (mean, band: 95 % interval)', { type: 'line',
      data: { labels: ok.map((p) => p.label), datasets: policies.flatMap((pol, i) => [
        { label: pol + ' high', data: ok.map((p) => p.policies[pol][m].ci95[1]), borderColor: 'transparent', pointRadius: 0, fill: false },
        { label: pol + ' low', data: ok.map((p) => p.policies[pol][m].ci95[0]), borderColor: 'transparent', backgroundColor: colors[i % colors.length] + '33', pointRadius: 0, fill: '-1' },
        { label: pol, data: ok.map((p) => p.policies[pol][m].mean), borderColor: colors[i % colors.length], backgroundColor: colors[i % colors.length], fill: false }]) },
      options: { plugins: { legend: { labels: { filter: (item) => !/ (high|low)$/.test(item.text) } } } } }));
    if (D.points.length > ok.length) el('p', (D.points.length - ok.length) + ' point(s) failed or did not finish; see results.csv.').className = 'note';
  } else {
    fail('unknown report kind ' + D.kind);
  }
  if (D.config) { el('h2', 'Configuration'); const d = el('details'); el('summary', 'resolved configuration', d); el('pre', D.config, d); }
  if (document.body.dataset.status === 'loading') document.body.dataset.status = 'ok';
  document.body.dataset.charts = String(charts);
})();
</script>
</body></html>
)PAGE";

}  // namespace vibesim
