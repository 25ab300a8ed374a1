"use strict";
// Shared helpers: the API, the tabs, matrices as tables, arrays as pictures.

const cnn = {
  async api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: body instanceof FormData ? {} : {"Content-Type": "application/json"},
      body: body instanceof FormData ? body : JSON.stringify(body),
    };
    const response = await fetch(path, options);
    let data;
    try { data = await response.json(); } catch (e) { data = {error: response.statusText}; }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  },

  showError(id, error) {
    document.getElementById(id).textContent = error ? String(error.message || error) : "";
  },

  format(value, decimals = 2) {
    if (Number.isInteger(value)) return String(value);
    const text = Number(value).toFixed(decimals).replace(/\.?0+$/, "") || "0";
    return text === "-0" ? "0" : text;
  },

  // A matrix as a table; classes(r, c) may return a CSS class for a cell.
  table(matrix, caption, classes, decimals = 2) {
    const table = document.createElement("table");
    table.className = "m";
    if (caption) table.createCaption().textContent = caption;
    matrix.forEach((row, r) => {
      const tr = table.insertRow();
      (Array.isArray(row) ? row : [row]).forEach((value, c) => {
        const td = tr.insertCell();
        td.textContent = cnn.format(value, decimals);
        const cls = classes ? classes(r, c) : "";
        if (cls) td.className = cls;
      });
    });
    return table;
  },

  // Grey pixels (0..255, row-major) on a canvas of the array's own size.
  paintGrey(canvas, bytes, height, width, offset = 0) {
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, height);
    for (let i = 0; i < width * height; i++) {
      const v = bytes[offset + i];
      image.data.set([v, v, v, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  },

  // A real-valued matrix on a canvas: negative blue, zero white, positive red.
  paintSigned(canvas, matrix) {
    const h = matrix.length, w = matrix[0].length;
    canvas.width = w;
    canvas.height = h;
    const top = Math.max(1e-12, ...matrix.flat().map(Math.abs));
    const context = canvas.getContext("2d");
    const image = context.createImageData(w, h);
    matrix.flat().forEach((value, i) => {
      const t = Math.min(1, Math.abs(value) / top);
      const rgb = value >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 - t), 255 * (1 - t), 255];
      image.data.set([...rgb, 255], 4 * i);
    });
    context.putImageData(image, 0, 0);
  },

  bytesOf(base64) {
    const raw = atob(base64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  },

  // Numbers typed as lines of a textarea -> a matrix (rows of numbers).
  parseMatrix(text) {
    return text.trim().split(/\n+/).map(line => line.trim().split(/[\s,;]+/).map(Number));
  },
};

document.querySelectorAll("nav button").forEach(button => {
  button.addEventListener("click", () => {
    document.querySelectorAll("nav button").forEach(b => b.classList.toggle("active", b === button));
    document.querySelectorAll(".view").forEach(view =>
      view.classList.toggle("active", view.id === "view-" + button.dataset.view));
    document.dispatchEvent(new CustomEvent("view", {detail: button.dataset.view}));
  });
});
