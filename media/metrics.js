// Draws the metrics panel from the samples the extension posts: three sparkline charts and the
// lifecycle event list. No external code, no inline handlers (the page's CSP forbids them).
// @ts-check
(function () {
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);

  function formatBytes(bytes) {
    if (bytes >= 1024 ** 3) return (bytes / 1024 ** 3).toFixed(2) + ' GiB';
    if (bytes >= 1024 ** 2) return (bytes / 1024 ** 2).toFixed(1) + ' MiB';
    return Math.round(bytes / 1024) + ' KiB';
  }

  function drawLine(svg, values, max) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (values.length === 0) return;
    const step = values.length > 1 ? 300 / (values.length - 1) : 0;
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(100 - (Math.min(v, max) / (max || 1)) * 100).toFixed(1)}`).join(' ');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', values.length > 1 ? points : `0,${points.split(',')[1]} 300,${points.split(',')[1]}`);
    line.setAttribute('class', 'series');
    svg.appendChild(line);
  }

  // The last samples drawn: kept on screen when new ones cannot be had (the sandbox was killed).
  let shown = [];

  function render(fresh, events, status) {
    const samples = fresh || shown;
    shown = samples;
    const last = samples[samples.length - 1];
    $('status').textContent =
      status ||
      (last
        ? `${samples.length} samples, last at ${new Date(last.t).toLocaleTimeString()}`
        : 'No samples yet (the first arrives within 5 seconds of the sandbox starting).');
    drawLine(
      $('cpu'),
      samples.map((s) => s.cpu),
      100,
    );
    drawLine(
      $('mem'),
      samples.map((s) => s.memUsed),
      last ? last.memTotal : 1,
    );
    drawLine(
      $('disk'),
      samples.map((s) => s.diskUsed),
      last ? last.diskTotal : 1,
    );
    if (last) {
      $('cpu-now').textContent = `${last.cpu.toFixed(1)} %`;
      $('mem-now').textContent = `${formatBytes(last.memUsed)} of ${formatBytes(last.memTotal)}`;
      $('disk-now').textContent = `${formatBytes(last.diskUsed)} of ${formatBytes(last.diskTotal)}`;
    }
    const list = $('events');
    list.textContent = '';
    for (const event of events) {
      const item = document.createElement('li');
      item.textContent = `${new Date(event.timestamp).toLocaleString()} — ${event.type}`;
      list.appendChild(item);
    }
    vscode.postMessage({ type: 'rendered', samples: samples.length, events: events.length, types: events.map((e) => e.type) });
  }

  window.addEventListener('message', (e) => {
    const message = e.data;
    if (message.type === 'update') render(message.samples, message.events, message.status);
    if (message.type === 'error') $('status').textContent = message.message;
  });
})();
