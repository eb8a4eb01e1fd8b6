// Talking to the dashboard's server: same-origin fetches (the session cookie rides along),
// the CSRF token on every POST, and decoding of the columnar payloads.

const csrf = document.querySelector('meta[name="heartkeep-csrf"]').content;

export class ApiError extends Error {}

// The request URL for `path` and `params`, in the order given.  The server builds the same
// string for the first request of a page (page.py `first_request`) and preloads it.
export function dataUrl(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function getJSON(path, params = {}) {
  const response = await fetch(dataUrl(path, params), { credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  performance.mark("heartkeep-data"); // the benchmark's breakdown of a first paint
  if (!response.ok) throw new ApiError(body.error || `${response.status} ${response.statusText}`);
  return body;
}

export async function post(path, body = {}) {
  return fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Heartkeep-CSRF": csrf },
    body: JSON.stringify(body),
  });
}

// {t0, dt: [delta, count, …]} → Float64Array of instants (seconds).
export function decodeTimes(t0, runs, n) {
  const out = new Float64Array(n);
  if (t0 === null || n === 0) return out;
  let t = t0, i = 0;
  out[i++] = t;
  for (let r = 0; r < runs.length; r += 2) {
    const d = runs[r], count = runs[r + 1];
    for (let k = 0; k < count; k++) { t += d; out[i++] = t; }
  }
  return out;
}

// Columns with a null inserted wherever two instants are more than gapS apart: uPlot breaks
// the line there, so a gap is drawn as a gap and never bridged.
export function withGaps(xs, columns, gapS) {
  // grown with push: packed arrays, not holey ones of a guessed size (a day: 86,400 points)
  const x = [], cols = columns.map(() => []);
  for (let i = 0; i < xs.length; i++) {
    if (i > 0 && xs[i] - xs[i - 1] > gapS) {
      x.push(xs[i - 1] + 1);
      for (const c of cols) c.push(null);
    }
    x.push(xs[i]);
    for (let k = 0; k < cols.length; k++) cols[k].push(columns[k][i]);
  }
  return [x, ...cols];
}
