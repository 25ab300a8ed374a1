"use strict";
// Draw: the pad, the model's guesses, every feature map; Look closer: one cell.

(() => {
  const pad = document.getElementById("pad");
  const context = pad.getContext("2d");
  const SEND = 112;  // the drawing is sent as SEND x SEND ink levels
  let drawing = false, last = null, busy = false, dirty = false, hasInk = false;
  let lastResult = null;

  function clearPad() {
    context.fillStyle = "black";
    context.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
  }

  function inkLevels() {
    const small = document.createElement("canvas");
    small.width = small.height = SEND;
    small.getContext("2d").drawImage(pad, 0, 0, SEND, SEND);
    const rgba = small.getContext("2d").getImageData(0, 0, SEND, SEND).data;
    const ink = new Array(SEND * SEND);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
    return {width: SEND, height: SEND, pixels: ink, model: document.getElementById("model").value || null};
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
  }

  function stroke(to) {
    context.strokeStyle = "white";
    context.lineWidth = 20;
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(...(last || to));
    context.lineTo(...to);
    context.stroke();
    last = to;
    hasInk = true;
  }

  async function predict() {
    if (!hasInk) return;
    if (busy) { dirty = true; return; }
    busy = true;
    dirty = false;
    try {
      const result = await cnn.api("/api/predict", inkLevels());
      cnn.showError("draw-error", null);
      show(result);
    } catch (error) {
      cnn.showError("draw-error", error);
    } finally {
      busy = false;
      if (dirty) predict();
    }
  }

  function show(result) {
    lastResult = result;
    const digitBytes = Uint8Array.from(result.digit.flat().map(v => Math.round(255 * v)));
    cnn.paintGrey(document.getElementById("digit"), digitBytes, 28, 28);
    const top = document.getElementById("top");
    top.replaceChildren(...result.top.map((t, k) => {
      const li = document.createElement("li");
      li.dataset.label = t.label;
      if (k === 0) li.id = "top1";
      li.textContent = `${t.label}  (${(100 * t.probability).toFixed(1)}%)`;
      return li;
    }));
    const maps = document.getElementById("maps");
    maps.replaceChildren(...result.layers.map(layer => {
      const [h, w, c] = layer.shape;
      const bytes = cnn.bytesOf(layer.data);
      const box = document.createElement("div");
      box.className = "layer";
      const title = document.createElement("h3");
      title.textContent = `${layer.name}: ${h}x${w}x${c}`;
      const grid = document.createElement("div");
      grid.className = "maps";
      for (let k = 0; k < c; k++) {
        const canvas = document.createElement("canvas");
        canvas.dataset.layer = layer.name;
        canvas.dataset.channel = k;
        canvas.title = `${layer.name} channel ${k} (min ${cnn.format(layer.min[k])}, max ${cnn.format(layer.max[k])})`;
        cnn.paintGrey(canvas, bytes, h, w, k * h * w);
        canvas.addEventListener("click", event => lookCloser(event, canvas, h, w));
        grid.appendChild(canvas);
      }
      box.append(title, grid);
      return box;
    }));
  }

  async function lookCloser(event, canvas, h, w) {
    const box = canvas.getBoundingClientRect();
    const row = Math.min(h - 1, Math.floor((event.clientY - box.top) / box.height * h));
    const col = Math.min(w - 1, Math.floor((event.clientX - box.left) / box.width * w));
    document.querySelectorAll(".maps canvas.chosen").forEach(c => c.classList.remove("chosen"));
    canvas.classList.add("chosen");
    const request = {...inkLevels(), layer: canvas.dataset.layer, channel: Number(canvas.dataset.channel), row, col};
    try {
      showCell(await cnn.api("/api/cell", request));
      cnn.showError("draw-error", null);
    } catch (error) {
      cnn.showError("draw-error", error);
    }
  }

  function showCell(cell) {
    const f = cell.field;
    const field = document.getElementById("field");
    const digit = Uint8Array.from(lastResult.digit.flat().map(v => Math.round(160 * v)));
    cnn.paintGrey(field, digit, 28, 28);
    const ctx = field.getContext("2d");
    ctx.fillStyle = "rgba(255, 160, 0, 0.45)";
    ctx.fillRect(f.left, f.top, f.right - f.left + 1, f.bottom - f.top + 1);
    document.getElementById("closer-help").textContent =
      `${cell.layer}, channel ${cell.channel}, cell (${cell.row}, ${cell.col}) = ${cnn.format(cell.value, 3)}`;
    document.getElementById("field-text").textContent =
      `It sees input rows ${f.top}..${f.bottom} and columns ${f.left}..${f.right} ` +
      `(${f.bottom - f.top + 1}x${f.right - f.left + 1}; outside 0..27 is padding).`;
    const first = document.getElementById("closer-first");
    first.replaceChildren();
    if (!cell.first) return;
    const e = cell.first;
    first.append(cnn.table(e.window, "window", null, 2), cnn.table(e.kernel, "kernel", null, 2),
                 cnn.table(e.products, "products", null, 2));
    const sum = document.createElement("p");
    sum.id = "closer-sum";
    sum.textContent = `sum ${cnn.format(e.sum, 3)} + bias ${cnn.format(e.bias, 3)} = ${cnn.format(e.pre_activation, 3)}; ` +
      `${e.activation} -> ${cnn.format(e.output, 3)}`;
    first.appendChild(sum);
  }

  pad.addEventListener("pointerdown", event => { drawing = true; last = null; pad.setPointerCapture(event.pointerId); stroke(point(event)); predict(); });
  pad.addEventListener("pointermove", event => { if (drawing) { stroke(point(event)); predict(); } });
  ["pointerup", "pointercancel"].forEach(name => pad.addEventListener(name, () => { drawing = false; last = null; predict(); }));
  document.getElementById("clear").addEventListener("click", () => {
    clearPad();
    document.getElementById("top").replaceChildren();
    document.getElementById("maps").replaceChildren();
  });
  document.getElementById("model").addEventListener("change", predict);

  async function loadModels(chosen) {
    try {
      const info = await cnn.api("/api/models");
      const select = document.getElementById("model");
      const pick = chosen || info.default;
      select.replaceChildren(...info.digit_models.map(name => new Option(name, name, false, name === pick)));
      if (!info.digit_models.length) cnn.showError("draw-error", "No model for 28x28 digits is served.");
    } catch (error) {
      cnn.showError("draw-error", error);
    }
  }
  document.getElementById("model-file").addEventListener("change", async event => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("model", file);
    try {
      const answer = await cnn.api("/api/models", form);
      cnn.showError("draw-error", answer.takes_digits ? null : `${answer.name} does not read 28x28 digits.`);
      await loadModels(answer.name);
      predict();
    } catch (error) {
      cnn.showError("draw-error", error);
    }
  });
  clearPad();
  loadModels();
})();
