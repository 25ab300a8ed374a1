"use strict";
// Convolution explorer: every change recomputes the convolution on the server
// (cnnlab's own op); the window steps across the padded input.

(() => {
  const $ = id => document.getElementById(id);
  let result = null, step = 0, timer = null;

  function request() {
    const padding = $("conv-padding").value === "number" ? Number($("conv-padding-number").value) : $("conv-padding").value;
    return {
      input: cnn.parseMatrix($("conv-input").value),
      kernel: cnn.parseMatrix($("conv-kernel").value),
      stride: Number($("conv-stride").value),
      dilation: Number($("conv-dilation").value),
      padding,
      padding_mode: $("conv-mode").value,
    };
  }

  async function update() {
    $("conv-stride-value").textContent = $("conv-stride").value;
    $("conv-dilation-value").textContent = $("conv-dilation").value;
    $("conv-padding-number").hidden = $("conv-padding").value !== "number";
    try {
      result = await cnn.api("/api/conv", request());
      cnn.showError("conv-error", null);
    } catch (error) {
      result = null;
      cnn.showError("conv-error", error);
      $("conv-shape").textContent = "";
      ["conv-formula", "conv-padded", "conv-step", "conv-output"].forEach(id => $(id).replaceChildren());
      return;
    }
    step = 0;
    $("conv-formula").replaceChildren(...result.axes.map(axis => {
      const p = document.createElement("p");
      const code = document.createElement("code");
      code.textContent = axis.filled;
      p.append(`${axis.name}: `, code);
      return p;
    }));
    $("conv-shape").textContent = `Output: ${result.shape.join("x")}`;
    $("conv-shape").dataset.shape = result.shape.join("x");
    showStep();
  }

  function showStep() {
    if (!result || !result.steps.length) return;
    const st = result.steps[step];
    const [[top, bottom], [left, right]] = result.pads;
    const h = result.padded.length, w = result.padded[0].length;
    const inWindow = (r, c) => st.rows.includes(r) && st.cols.includes(c);
    const isPad = (r, c) => r < top || r >= h - bottom || c < left || c >= w - right;
    $("conv-padded").replaceChildren(cnn.table(result.padded, `padded input (${h}x${w})`,
      (r, c) => [isPad(r, c) ? "pad" : "", inWindow(r, c) ? "win" : ""].join(" ").trim()));
    const expression = st.products.flat().map(v => cnn.format(v)).join(" + ");
    const sum = document.createElement("p");
    sum.textContent = `out[${st.index.join(", ")}] = ${expression} = ${cnn.format(st.output)}`;
    $("conv-step").replaceChildren(cnn.table(result.kernel, "kernel"), cnn.table(st.products, "products"), sum);
    const [i, j] = st.index.length === 2 ? st.index : [0, st.index[0]];
    $("conv-output").replaceChildren(cnn.table(result.output, `output (${result.shape.join("x")})`,
      (r, c) => (r === i && c === j ? "out" : "")));
  }

  function move(by) {
    if (!result) return;
    const n = result.steps.length;
    step = (step + by + n) % n;
    showStep();
  }

  $("conv-prev").addEventListener("click", () => move(-1));
  $("conv-next").addEventListener("click", () => move(1));
  $("conv-play").addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; $("conv-play").textContent = "Play"; return; }
    timer = setInterval(() => move(1), 700);
    $("conv-play").textContent = "Pause";
  });
  ["conv-input", "conv-kernel", "conv-stride", "conv-dilation", "conv-padding", "conv-padding-number", "conv-mode"]
    .forEach(id => $(id).addEventListener("input", update));
  update();
})();
