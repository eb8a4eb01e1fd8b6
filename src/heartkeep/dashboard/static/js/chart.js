// uPlot set-up shared by the views: theme colours, zone shading, wheel zoom, local time on the
// axis, and charts that follow their container's width (phones included).

export const ZONE_COLORS = { LIGHT: "--zone-light", MODERATE: "--zone-moderate", VIGOROUS: "--zone-vigorous", PEAK: "--zone-peak" };

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const pad = (n) => String(n).padStart(2, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// 24-hour local labels: seconds when zoomed that far, the date under the first tick of a day.
export function timeLabels(toDate) {
  return (u, splits, axisIdx, space, incr) => {
    let lastDay = null;
    return splits.map((ts) => {
      if (ts === null) return null;
      const d = toDate(ts);
      const day = `${d.getDate()} ${MONTHS[d.getMonth()]}`;
      if (incr >= 86400 * 28) return `${MONTHS[d.getMonth()]}\n${d.getFullYear()}`;
      if (incr >= 86400) return lastDay === (lastDay = `${d.getFullYear()}`) ? day : `${day}\n${d.getFullYear()}`;
      const time = incr < 60 ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      const newDay = day !== lastDay;
      lastDay = day;
      return newDay ? `${time}\n${day}` : time;
    });
  };
}

export function fullTime(toDate) {
  return (u, ts) => {
    if (ts === null || ts === undefined) return "–";
    const d = toDate(ts);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };
}

export function axes(yLabel, toDate) {
  const stroke = cssVar("--muted"), grid = cssVar("--grid");
  const x = { stroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  if (toDate) x.values = timeLabels(toDate);
  return [x, { stroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: yLabel, size: 50 }];
}

// A Date whose local fields show the wall time at `ts` under the offset in force then.
export function offsetDate(offsets) {
  return (ts) => {
    let off = offsets.length ? offsets[0][1] : 0;
    for (const [at, minutes] of offsets) { if (at <= ts) off = minutes; else break; }
    const d = new Date((ts + off * 60) * 1000);
    return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  };
}

export function zoneDate(timeZone) {
  return (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone);
}

// Shade each zone's band of heart rates behind the curve (bounds from the day's zones).
export function zonesPlugin(zones) {
  // sorted and coloured once: reading a CSS variable on every redraw forces a style recalc
  const sorted = [...zones].sort((a, b) => a.min_bpm - b.min_bpm);
  const colors = sorted.map((zone) => cssVar(ZONE_COLORS[zone.name] || "--muted"));
  return {
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx, { left, top, width, height } = u.bbox;
        ctx.save();
        ctx.globalAlpha = 0.16;
        sorted.forEach((zone, i) => {
          const hi = i + 1 < sorted.length ? sorted[i + 1].min_bpm : u.scales.y.max;
          const y0 = u.valToPos(Math.min(hi, u.scales.y.max), "y", true);
          const y1 = u.valToPos(Math.max(zone.min_bpm, u.scales.y.min), "y", true);
          if (y1 <= y0) return;
          ctx.fillStyle = colors[i];
          ctx.fillRect(left, Math.max(top, y0), width, Math.min(top + height, y1) - Math.max(top, y0));
        });
        ctx.restore();
      }],
    },
  };
}

// Mouse wheel zooms the time axis around the pointer, down to `minSpanS` seconds.
export function wheelZoomPlugin(minSpanS = 10) {
  return {
    hooks: {
      ready: [(u) => {
        u.over.addEventListener("wheel", (event) => {
          event.preventDefault();
          const { min, max } = u.scales.x;
          const at = u.posToVal(event.offsetX, "x");
          const factor = event.deltaY < 0 ? 0.75 : 1 / 0.75;
          let span = Math.max(minSpanS, (max - min) * factor);
          const lo = at - (at - min) * (span / (max - min));
          u.setScale("x", { min: lo, max: lo + span });
        }, { passive: false });
      }],
    },
  };
}

// The width inside `container`'s padding: clientWidth includes it, and a canvas that wide
// overflowed the card (whose overflow is hidden) by the padding, clipping the last x label.
function innerWidth(container) {
  const style = getComputedStyle(container);
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return Math.max(280, Math.floor(container.clientWidth - padding));
}

// Create a chart that fills `container` and resizes with it.
export function chart(container, opts, data, height = 320) {
  // Room on the right for half of the last time label ("19 Nov" under the day's end), which
  // uPlot centres on the plot's right edge.
  // The resize watcher ends with the chart: a view left behind must not redraw, or re-fetch.
  const observer = new ResizeObserver(() => {
    const w = innerWidth(container);
    if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
  });
  const watched = { hooks: { destroy: [() => observer.disconnect()] } };
  const u = new uPlot({ width: innerWidth(container), height, padding: [null, 28, null, null], ...opts,
    plugins: [...(opts.plugins || []), watched] }, data, container);
  observer.observe(container);
  return u;
}

// Pan the x scale by a fraction of its span (negative: earlier).
export function pan(u, fraction) {
  const { min, max } = u.scales.x, shift = (max - min) * fraction;
  u.setScale("x", { min: min + shift, max: max + shift });
}

export function zoom(u, factor) {
  const { min, max } = u.scales.x, mid = (min + max) / 2;
  const span = Math.max(10, (max - min) * factor);
  u.setScale("x", { min: mid - span / 2, max: mid + span / 2 });
}
