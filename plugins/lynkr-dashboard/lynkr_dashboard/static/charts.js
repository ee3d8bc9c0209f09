// Bar charts drawn as plain SVG: no library, nothing fetched from elsewhere.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 600;
  const HEIGHT = 140;
  const PAD = { left: 40, right: 8, top: 8, bottom: 18 };

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function compact(value) {
    if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (value >= 1e3) return (value / 1e3).toFixed(1) + "k";
    if (value > 0 && value < 1) return value.toPrecision(2);
    return String(Math.round(value * 100) / 100);
  }

  // bars(container, labels, [{name, values, className}]): one group of bars per label,
  // one bar per series; replaces what the container held.
  function bars(container, labels, series) {
    const svg = element("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img" });
    const top = Math.max(0, ...series.flatMap((s) => s.values)) || 1;  // small costs stay visible
    const plotWidth = WIDTH - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    svg.appendChild(element("line", { class: "axis", x1: PAD.left, x2: WIDTH - PAD.right,
      y1: HEIGHT - PAD.bottom, y2: HEIGHT - PAD.bottom }));
    svg.appendChild(element("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end" }, compact(top)));
    svg.appendChild(element("text", { x: PAD.left - 4, y: HEIGHT - PAD.bottom, "text-anchor": "end" }, "0"));
    const slot = plotWidth / Math.max(1, labels.length);
    const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
    labels.forEach((label, index) => {
      series.forEach((s, which) => {
        const value = s.values[index] || 0;
        const height = (value / top) * plotHeight;
        const bar = element("rect", {
          class: s.className || (which === 0 ? "bar" : "bar2"),
          x: PAD.left + index * slot + slot * 0.1 + which * barWidth,
          y: HEIGHT - PAD.bottom - height, width: barWidth, height: height,
        });
        bar.appendChild(element("title", {}, `${label} ${s.name}: ${value}`));
        svg.appendChild(bar);
      });
    });
    if (labels.length) {
      svg.appendChild(element("text", { x: PAD.left, y: HEIGHT - 4 }, labels[0]));
      svg.appendChild(element("text", { x: WIDTH - PAD.right, y: HEIGHT - 4, "text-anchor": "end" },
        labels[labels.length - 1]));
    }
    container.replaceChildren(svg);
    return svg;
  }

  window.LynkrCharts = { bars: bars };
})();
